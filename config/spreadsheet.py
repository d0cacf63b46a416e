"""One rule for every CSV and Excel export: no cell can run as a formula (CWE-1236).

A spreadsheet treats a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return, or the full-width ``＝＋－＠`` an input method types) as a
formula, which can run commands or send data away (OWASP "CSV injection"). Retailer names,
addresses, notes and reasons are typed by people and imported from files, so any of them may.

The rule, applied by :func:`safe_cell` to every cell of every export (``retailers.export``,
``settlement.export``, ``allocation.exports``, the visit compliance CSVs):

- **Text** that starts with one of :data:`FORMULA_STARTS` gets a leading apostrophe, which
  spreadsheets show as text and do not evaluate: ``=HYPERLINK(…)`` → ``'=HYPERLINK(…)``.
  This holds for text that looks like a negative number too (``"-5"`` → ``"'-5"``): text is
  never guessed at.
- **Numbers** (``int``, ``Decimal``, ``float``; not ``bool``) are left alone, so a negative
  figure in a numeric column (a change of ``-4``) stays the number ``-4``: a number cannot be
  a formula. Exports therefore pass numbers as numbers, not as formatted text.
- ``None`` is an empty cell; anything else is written as ``str(value)`` and checked as text.

In Excel files, text cells are also typed as strings (never formulas) by the writers; the
apostrophe is kept there too, so that a sheet saved again as CSV stays safe. NDJSON and the
JSON API are not spreadsheets and are not changed.

This module imports nothing from Django or the apps (the pure allocation modules may use it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

#: A cell whose text starts with one of these is a formula to some spreadsheet program.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_text(text: str) -> str:
    """``text``, with a leading apostrophe when a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_cell(value: Any) -> Any:
    """A cell for a CSV or Excel export: numbers as they are, text made safe, ``None`` empty."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return value
    return safe_text(value if isinstance(value, str) else str(value))


def safe_row(values: Any) -> list[Any]:
    return [safe_cell(v) for v in values]
