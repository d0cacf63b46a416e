"""``manage.py propose_star_ratings [--quarter 2026-07-01] [--district YC-CQ …]``.

The quarterly re-rating job by hand (beat runs it on the first day of each quarter): proposes
every active retailer's star from the quarter's points and purchases (DESIGN §2.6).
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from allocation.rerating import rerating_propose
from retailers.services import previous_quarter, quarter_bounds
from territory.models import District


class Command(BaseCommand):
    help = "Propose every retailer's star from a quarter's points and purchases (re-rating)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--quarter",
            help="any day of the quarter to measure (ISO date); default: the previous quarter",
        )
        parser.add_argument(
            "--district", action="append", default=[], help="district code (repeatable)"
        )

    def handle(self, *args, **options) -> None:
        if options["quarter"]:
            try:
                day = dt.date.fromisoformat(options["quarter"])
            except ValueError as exc:
                raise CommandError(f"--quarter: not an ISO date: {options['quarter']}") from exc
            start, _end = quarter_bounds(day)
        else:
            start, _end = previous_quarter(timezone.localdate())
        districts = None
        if options["district"]:
            codes = set(options["district"])
            districts = list(District.objects.filter(code__in=codes))
            unknown = codes - {d.code for d in districts}
            if unknown:
                raise CommandError(f"unknown district code(s): {', '.join(sorted(unknown))}")
        proposals = rerating_propose(quarter_start=start, districts=districts)
        for p in proposals:
            self.stdout.write(
                f"{p.district.code} {p.quarter_label}: {p.retailers} retailers, "
                f"{p.moving_up} up, {p.moving_down} down"
            )
        self.stdout.write(f"{len(proposals)} proposals for the quarter from {start}.")
