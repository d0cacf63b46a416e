"""Calendar helpers shared by the apps."""

from __future__ import annotations

import datetime as dt


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())
