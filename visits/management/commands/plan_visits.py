"""Plan a cycle's visits now, from the service policies and the routes (DESIGN §6)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from territory.models import Cycle, District
from territory.selectors import cycle_for_day
from visits import services


class Command(BaseCommand):
    help = (
        "Create the visit plan of a cycle (default: today's cycle). "
        "Reruns add only what is missing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cycle", help="Cycle code, e.g. 2026-W48 (default: today's cycle).")
        parser.add_argument(
            "--district", action="append", default=[], help="District code (repeatable)."
        )

    def handle(self, *args, cycle: str | None, district: list[str], **options) -> None:
        if cycle:
            found = Cycle.objects.filter(code=cycle).first()
            if found is None:
                raise CommandError(f"--cycle: no cycle with code {cycle!r}.")
        else:
            found = cycle_for_day(timezone.localdate())
            if found is None:
                raise CommandError("No cycle covers today; give --cycle CODE.")
        district_ids = None
        if district:
            districts = dict(District.objects.filter(code__in=district).values_list("code", "pk"))
            missing = sorted(set(district) - set(districts))
            if missing:
                raise CommandError(f"--district: unknown code(s) {', '.join(missing)}.")
            district_ids = list(districts.values())
        created = services.visit_plan_generate(cycle=found, district_ids=district_ids)
        self.stdout.write(self.style.SUCCESS(f"Cycle {found.code}: {created} visits planned."))
