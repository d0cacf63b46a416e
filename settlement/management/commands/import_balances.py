"""``manage.py import_balances FILE``: apply a bank balance file, all or nothing."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from config.errors import ApplicationError
from settlement import services, tasks


class Command(BaseCommand):
    help = (
        "Import a bank balance file (CSV: reference,balance,as_of). Any bad row or unknown "
        "reference rejects the whole file; nothing is changed then."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and report; change nothing."
        )

    def handle(self, *args, file: Path, dry_run: bool, **options) -> None:
        try:
            if file.stat().st_size > settings.SETTLEMENT_IMPORT_MAX_BYTES:
                raise CommandError(
                    f"{file}: the file is too large (limit "
                    f"{settings.SETTLEMENT_IMPORT_MAX_BYTES} bytes)."
                )
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from exc
        try:
            text = services.import_text(data)
            if dry_run:
                check = services.balance_file_check(text=text)
                if not check.ok:
                    raise services.rejected(check.errors)
                self.stdout.write(
                    f"{file}: OK, {len(check.applicable)} balances would be updated, "
                    f"{len(check.changes) - len(check.applicable)} older ones ignored."
                )
                return
            result = services.balance_file_apply(text=text)
        except ApplicationError as exc:
            lines = [f"{file}: {exc.message}", *exc.extra.get("file", [])]
            raise CommandError("\n".join(lines)) from exc
        transaction.on_commit(tasks.retry_covered_debits.delay)
        self.stdout.write(
            self.style.SUCCESS(
                f"{file}: {result.updated} balances updated, {result.stale} older ones ignored."
            )
        )
