"""Build a province-scale data set for benchmarks (issue 7; see ``visits.province``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from visits import province
from visits.management.commands.seed_demo import foreign_data


class Command(BaseCommand):
    help = (
        "Generate N retailers with their districts, routes, users, history, e-settlement "
        "accounts, 4 cycles of orders, points, scarce supplies and visit plan (PostgreSQL)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--retailers", type=int, required=True, help="How many retailers.")
        parser.add_argument("--seed", type=int, default=7, help="Random seed (default 7).")
        parser.add_argument("--password", default="demo1234", help="Password of the users.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Generate even though the database holds data that is not demo data.",
        )

    def handle(self, *args, retailers: int, seed: int, password: str, force: bool, **options):
        if retailers < 100 or retailers > 20_000_000:
            raise CommandError("--retailers must be from 100 to 20,000,000.")
        if len(password) < 4:
            raise CommandError("--password must have at least 4 characters.")
        found = foreign_data(
            extra_usernames_prefix=province.USER_PREFIX,
            extra_branch_codes=(province.BRANCH_CODE,),
            extra_licence_prefixes=(province.LICENCE_PREFIX,),
        )
        if found and not force:
            raise CommandError(
                "This database holds data that is neither demo nor generated data ("
                + ", ".join(found)
                + "); refusing to generate. Use --force to generate anyway."
            )
        self.stdout.write(f"Generating {retailers:,} retailers (seed {seed}) …")
        try:
            report = province.generate(
                retailers=retailers, seed=seed, password=password, log=self.stdout.write
            )
        except province.ProvinceError as exc:
            raise CommandError(str(exc)) from exc
        summary = ", ".join(f"{n:,} {what}" for what, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Created {summary}."))
        self.stdout.write(f"Total: {report.seconds['total']:.1f} s")
        self.stdout.write(
            f"Users: {province.ADMIN_USERNAME}, {province.USER_PREFIX}sup-001 …, "
            f"{province.USER_PREFIX}am-001-01 … — password: {password}"
        )
