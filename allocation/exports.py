"""A run's lines as CSV or Excel, safe to open in a spreadsheet (no formula injection)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from io import BytesIO

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook

from accounts.models import User
from allocation import selectors
from allocation.explain import exact, explain, line_quota, reason_label
from allocation.models import AllocationRun
from config.spreadsheet import safe_row


def header() -> list[str]:
    return [
        _("Route"),
        _("Stop"),
        _("Licence number"),
        _("Retailer"),
        _("Star"),
        _("Points"),
        _("Cap (cartons)"),
        _("Requested (cartons)"),
        _("Eligible"),
        _("Not eligible because"),
        _("Guaranteed minimum (cartons)"),
        _("Quota (cartons)"),
        _("Floor (cartons)"),
        _("Remainder rank"),
        _("Capped"),
        _("Award (cartons)"),
        _("Previous cycle award"),
        _("Change"),
        _("Explanation"),
    ]


def rows(*, user: User, run: AllocationRun) -> Iterator[list]:
    previous = selectors.previous_run(run)
    before = (
        selectors.awards_in(previous, selectors.run_lines(user=user, run=run).values("retailer_id"))
        if previous
        else {}
    )
    lines = selectors.review_lines(user=user, run=run)
    for line in lines.iterator(chunk_size=2000):
        line.run = run
        last = before.get(line.retailer_id) if previous else None
        yield [
            line.route.code,
            line.retailer.stop_order,
            line.retailer.licence_number,
            line.retailer.name,
            line.star or "",
            line.points,
            line.cap,
            "" if line.requested is None else line.requested,
            _("yes") if line.eligible else _("no"),
            reason_label(line.reason),
            line.minimum_units * run.unit,
            exact(line_quota(line, run) * run.unit) if line.eligible else "0",
            line.floor_units * run.unit,
            line.remainder_rank or "",
            _("yes") if line.capped and line.eligible else _("no"),
            line.award,
            "" if last is None else last,
            "" if last is None else line.award - last,
            " ".join(explain(line, run)),
        ]


def filename(run: AllocationRun, extension: str) -> str:
    return f"allocation-{run.supply.cycle.code}-{run.supply.brand.code}-run{run.number}.{extension}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(*, user: User, run: AllocationRun) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def content() -> Iterable[str]:
        yield "\ufeff"  # so that spreadsheet programs read the Chinese names as UTF-8
        yield writer.writerow(safe_row(header()))
        for row in rows(user=user, run=run):
            yield writer.writerow(safe_row(row))

    response = StreamingHttpResponse(content(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(run, "csv")}"'
    return response


def xlsx_response(*, user: User, run: AllocationRun) -> HttpResponse:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=f"{run.supply.cycle.code} #{run.number}"[:31])
    sheet.append(safe_row(header()))
    for row in rows(user=user, run=run):
        sheet.append(safe_row(row))
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename(run, "xlsx")}"'
    return response
