"""Tasks that exist only for tests; the test settings make the worker import them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from celery import shared_task


@shared_task(acks_late=True, max_retries=0)
def crash(marker: str) -> None:
    """A poison message: note the run in ``marker``, then kill the pool process running it."""
    with Path(marker).open("a") as file:
        file.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)


@shared_task(acks_late=True, max_retries=0)
def add(a: int, b: int) -> int:
    return a + b
