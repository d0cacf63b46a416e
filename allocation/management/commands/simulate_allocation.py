"""``manage.py simulate_allocation``: the DESIGN §4 rule on a CSV file, without the database."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from allocation.simulate import simulate_csv


class Command(BaseCommand):
    help = (
        "Share SUPPLY cartons among the retailers of a CSV file "
        "(retailer,points,cap,star,licence) by the allocation rule, and print "
        "retailer,points,cap,quota,award. Reads nothing from and writes nothing to the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", metavar="INPUT.csv", help="CSV file, or - for standard input")
        parser.add_argument("--supply", type=int, required=True, help="cartons to share")
        parser.add_argument("--unit", type=int, default=1, help="cartons per unit (default 1)")
        parser.add_argument(
            "--minimum",
            type=int,
            default=0,
            help="guaranteed minimum cartons per eligible retailer (default 0)",
        )
        parser.add_argument("--cycle", default="", help="cycle code, for the lottery key")

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["input"]
        settings = {
            "supply": options["supply"],
            "unit": options["unit"],
            "minimum": options["minimum"],
            "cycle_code": options["cycle"],
        }
        try:
            if path == "-":
                simulate_csv(sys.stdin, self.stdout, **settings)
            else:
                with open(path, newline="", encoding="utf-8") as stream:
                    simulate_csv(stream, self.stdout, **settings)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        except ValueError as exc:  # SimulationError, a bad --supply/--unit/--minimum, bad UTF-8
            raise CommandError(str(exc)) from exc
