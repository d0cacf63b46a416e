"""Domain errors raised by services; turned into HTTP 400s in one place per surface."""

from __future__ import annotations


class ApplicationError(Exception):
    """A business rule refused the request. ``extra`` may carry field messages."""

    def __init__(self, message: str, *, extra: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
