"""The frame for ``manage.py seed_demo``: a context shared by the apps' seeders.

Each app has a ``demo.seed(ctx)`` listed in ``settings.DEMO_SEEDERS``; they run in that order
in one transaction. Seeders must be deterministic (use ``ctx.rng(name)``) and idempotent
(a second run changes nothing).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from config.dates import quarter_start

SEED = 20261126

#: What ``seed_demo`` owns; anything else in the database is someone's real data.
DEMO_BRANCH_CODES = ("YC",)
DEMO_LICENCE_PREFIXES = ("41142510", "41142520")
DEMO_USERNAMES = ("admin", "supervisor", "manager", "manager2")


@dataclass
class DemoContext:
    password: str
    today: dt.date
    log: Callable[[str], None] = print
    created: dict[str, int] = field(default_factory=dict)

    @property
    def quarter_start(self) -> dt.date:
        return quarter_start(self.today)

    def rng(self, name: str) -> random.Random:
        """A random generator of its own per purpose, so that seeders do not disturb each other."""
        digest = hashlib.sha256(f"{SEED}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))  # noqa: S311 - demo data

    def count(self, what: str, n: int = 1) -> None:
        if n:
            self.created[what] = self.created.get(what, 0) + n
