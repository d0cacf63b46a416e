"""Build the source document's demo district (DESIGN §1), deterministically and idempotently."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.models import User
from config.demo import (
    DEMO_BRANCH_CODES,
    DEMO_LICENCE_PREFIXES,
    DEMO_USERNAMES,
    DemoContext,
)
from retailers.models import Retailer
from territory.models import Branch


def foreign_data(
    *,
    extra_usernames_prefix: str | None = None,
    extra_branch_codes: tuple[str, ...] = (),
    extra_licence_prefixes: tuple[str, ...] = (),
) -> list[str]:
    """What the database holds that ``seed_demo`` did not make (nor, with the ``extra_``
    arguments, ``generate_province``)."""
    found = []
    users = User.objects.exclude(username__in=DEMO_USERNAMES)
    if extra_usernames_prefix:
        users = users.exclude(username__startswith=extra_usernames_prefix)
    if users.exists():
        found.append("users")
    if Branch.objects.exclude(code__in=(*DEMO_BRANCH_CODES, *extra_branch_codes)).exists():
        found.append("branches")
    known = Retailer.objects.none()
    for prefix in (*DEMO_LICENCE_PREFIXES, *extra_licence_prefixes):
        known = known | Retailer.objects.filter(licence_number__startswith=prefix)
    if Retailer.objects.exclude(pk__in=known.values("pk")).exists():
        found.append("retailers")
    return found


class Command(BaseCommand):
    help = "Load the demo district of the source document (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--password", default="demo1234", help="Password of the demo users.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even though the database holds data that is not demo data.",
        )

    def handle(self, *args, password: str, force: bool, **options) -> None:
        if len(password) < 4:
            raise CommandError("--password must have at least 4 characters.")
        found = foreign_data()
        if found and not force:
            raise CommandError(
                "This database holds data that is not demo data ("
                + ", ".join(found)
                + "); refusing to seed. Use --force to seed anyway."
            )
        ctx = DemoContext(password=password, today=timezone.localdate(), log=self.stdout.write)
        with transaction.atomic():
            for path in settings.DEMO_SEEDERS:
                import_string(path)(ctx)
        if ctx.created:
            summary = ", ".join(f"{n} {what}" for what, n in ctx.created.items())
            self.stdout.write(self.style.SUCCESS(f"Created {summary}."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data already present; nothing changed."))
        self.stdout.write(f"Users: {', '.join(DEMO_USERNAMES)} — password: {password}")
