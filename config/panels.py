"""Panels that an app further right adds to a page of an app further left (DESIGN §3).

The left app's view asks for its page's panels by name and renders the HTML they return; the
right app registers its panel in ``AppConfig.ready``. So the retailer page can show what
``visits`` knows (trainings, programs) while ``retailers`` imports nothing from ``visits``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

Panel = Callable[..., str]

_panels: dict[str, dict[str, Panel]] = {}


def register(page: str, name: str, panel: Panel) -> None:
    """Add (or replace) the panel ``name`` on ``page``; panels render in registration order."""
    _panels.setdefault(page, {})[name] = panel


def render_panels(page: str, request: HttpRequest, **kwargs) -> list[SafeString]:
    """The HTML of each panel of ``page``; panels render templates, which escape their data."""
    return [mark_safe(panel(request, **kwargs)) for panel in _panels.get(page, {}).values()]  # noqa: S308
