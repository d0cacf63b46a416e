"""Lift a login lockout before its time: ``manage.py login_unlock --username manager``."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import lockout
from config.logs import AUTH, log_event


class Command(BaseCommand):
    help = "Lift the login lockout of a username and/or a client address, and forget failures."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", help="The username to unlock.")
        parser.add_argument("--address", help="The client IP address to unlock.")

    def handle(self, *args, username: str | None, address: str | None, **options) -> None:
        if not username and not address:
            raise CommandError("Give --username, --address, or both.")
        lockout.unlock(username=username, address=address)
        log_event(AUTH, "login_unlocked", username=username, ip=address, by="command")
        self.stdout.write(f"Unlocked: username={username or '-'} address={address or '-'}")
        if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
            self.stderr.write(
                "Note: without REDIS_URL each web process counts failures in its own memory; "
                "this command cannot reach them (restart the web server instead)."
            )
