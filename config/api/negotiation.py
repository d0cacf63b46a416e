"""Content negotiation that never answers 406: the API speaks JSON, whatever ``Accept`` says."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation


class JSONFallbackNegotiation(DefaultContentNegotiation):
    """Honours ``Accept`` when a renderer matches it, else uses the view's first (JSON).

    A client asking the export for ``text/csv`` still gets its errors, as JSON, rather than
    an undocumented 406.
    """

    def select_renderer(self, request: Any, renderers: list, format_suffix: str | None = None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
