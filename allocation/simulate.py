"""Try the allocation rule of DESIGN §4 on a CSV file, without the database.

Input columns (any order, header required): ``retailer,points,cap,star,licence``; ``star`` may
be empty for an unrated retailer. Output columns, one row per input row in input order:
``retailer,points,cap,quota,award``.

The whole file is read and checked before anything is written, so bad input (DESIGN §7)
produces a ``SimulationError`` naming the row and column, and no output.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TextIO

from allocation.rule import STAR_MAX, allocate_columns

INPUT_COLUMNS = ("retailer", "points", "cap", "star", "licence")
OUTPUT_COLUMNS = ("retailer", "points", "cap", "quota", "award")

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")  # ASCII digits only: int() would also take "٣" or "1_0"


class SimulationError(ValueError):
    """Bad input. ``row`` counts physical CSV records from 1 (the header is row 1, the first
    retailer row 2); ``column`` is None for problems with the whole row or file."""

    def __init__(self, message: str, *, row: int, column: str | None = None) -> None:
        where = f"row {row}" if column is None else f"row {row}, column {column}"
        super().__init__(f"{where}: {message}")
        self.row = row
        self.column = column


@dataclass(frozen=True, slots=True)
class _Rows:
    retailers: list[str]
    points: list[int]
    caps: list[int]
    stars: list[int]
    licences: list[str]


def simulate_csv(
    in_text_stream: TextIO,
    out_text_stream: TextIO,
    *,
    supply: int,
    unit: int = 1,
    minimum: int = 0,
    cycle_code: str = "",
) -> None:
    """Allocate ``supply`` cartons to the retailers read from ``in_text_stream`` and write the
    outcome to ``out_text_stream`` (DESIGN §4).

    ``quota`` is the retailer's whole exact quota in cartons: the guaranteed-minimum pass's
    quota plus the main pass's quota, times ``unit``. Without a minimum it is the main quota;
    with one, the two passes are rounded separately, so ``award`` is within one unit of each
    pass's quota rather than of the printed sum. It is printed as an exact decimal when one
    exists (``3.6``) and as a fraction otherwise (``10/3``). Ineligible retailers (no points,
    or a cap below one unit) get quota 0 and award 0.

    Streams should be opened with ``newline=""``, as the ``csv`` module asks. Raises
    ``SimulationError`` for bad rows, and ``ValueError`` for a bad supply, unit or minimum.
    """
    rows = _read(in_text_stream)
    result = allocate_columns(
        keys=rows.retailers,
        points=rows.points,
        caps=rows.caps,
        stars=rows.stars,
        licences=rows.licences,
        supply=supply,
        unit=unit,
        minimum=minimum,
        cycle_code=cycle_code,
    )
    writer = csv.writer(out_text_stream, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    writer.writerows(
        (
            line.key,
            line.points,
            line.cap,
            format_exact(line.total_quota * unit),
            line.award,
        )
        for line in result.lines
    )


def format_exact(value: Fraction) -> str:
    """``value`` (≥ 0) as a terminating decimal if it has one (``3.6``, ``4``), else as
    ``numerator/denominator`` (``10/3``): never rounded."""
    rest, places_2, places_5 = value.denominator, 0, 0
    while rest % 2 == 0:
        rest, places_2 = rest // 2, places_2 + 1
    while rest % 5 == 0:
        rest, places_5 = rest // 5, places_5 + 1
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(places_2, places_5)
    if places == 0:
        return str(value.numerator)
    digits = str(value.numerator * 10**places // value.denominator).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}"


def _read(stream: TextIO) -> _Rows:
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise SimulationError(
            f"the file is empty; expected a header row {','.join(INPUT_COLUMNS)}", row=1
        )
    position = _header_positions(header)
    rows = _Rows([], [], [], [], [])
    first_row_of: dict[tuple[str, str], int] = {}
    for row, fields in enumerate(reader, start=2):
        if not any(field.strip() for field in fields):
            continue  # a blank line, e.g. at the end of the file; still counted as a row
        if len(fields) != len(position):
            raise SimulationError(
                f"expected {len(position)} fields, got {len(fields)}",
                row=row,
            )
        values = {name: fields[i].strip() for name, i in position.items()}
        for name in ("retailer", "licence"):
            if not values[name]:
                raise SimulationError("must not be empty", row=row, column=name)
            first = first_row_of.setdefault((name, values[name]), row)
            if first != row:
                raise SimulationError(
                    f"duplicate {name} {values[name]!r} (first on row {first})",
                    row=row,
                    column=name,
                )
        rows.retailers.append(values["retailer"])
        rows.points.append(_whole_number(values["points"], row=row, column="points"))
        rows.caps.append(_whole_number(values["cap"], row=row, column="cap"))
        rows.stars.append(_star(values["star"], row=row))
        rows.licences.append(values["licence"])
    return rows


def _header_positions(header: Sequence[str]) -> dict[str, int]:
    names = [name.strip() for name in header]
    if names:
        names[0] = names[0].removeprefix("\ufeff")  # a byte-order mark from a spreadsheet export
    missing = [name for name in INPUT_COLUMNS if name not in names]
    extra = [name for name in names if name not in INPUT_COLUMNS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    problems = [
        f"{label} {', '.join(found)}"
        for label, found in (
            ("missing column(s)", missing),
            ("unexpected column(s)", extra),
            ("repeated column(s)", repeated),
        )
        if found
    ]
    if problems:
        raise SimulationError(f"{'; '.join(problems)}; expected {','.join(INPUT_COLUMNS)}", row=1)
    return {name: names.index(name) for name in INPUT_COLUMNS}


def _whole_number(text: str, *, row: int, column: str) -> int:
    if not _WHOLE_NUMBER.fullmatch(text):
        raise SimulationError(f"{text!r} is not a whole number", row=row, column=column)
    value = int(text)
    if value < 0:
        raise SimulationError(f"must not be negative, got {value}", row=row, column=column)
    return value


def _star(text: str, *, row: int) -> int:
    if not text:
        return 0  # unrated
    if not _WHOLE_NUMBER.fullmatch(text) or not 1 <= int(text) <= STAR_MAX:
        raise SimulationError(
            f"{text!r} is not a star rating; use 1 to {STAR_MAX}, or leave it empty if unrated",
            row=row,
            column="star",
        )
    return int(text)
