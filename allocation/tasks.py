"""Thin Celery wrappers around the points and allocation services (DESIGN §6)."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from allocation import selectors, services
from allocation.rerating import rerating_propose
from config.jobs import DB_RETRY, ProjectTask
from retailers.services import previous_quarter
from territory.models import Cycle, District

RETRY = {"acks_late": True, **DB_RETRY, "max_retries": 5}


class RunTask(ProjectTask):
    """A run whose task gives up for good is marked failed rather than left computing."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        run_id = kwargs.get("run_id", args[0] if args else None)
        if run_id is not None:
            services.allocation_run_fail(run_id=run_id, message=f"{type(exc).__name__}: {exc}")


@shared_task(base=RunTask, **RETRY)
def compute_run(run_id: int) -> str:
    """Compute one requested run; a repeated or concurrent delivery does nothing."""
    run = services.allocation_run_compute(run_id=run_id)
    return "nothing to do" if run is None else run.status


@shared_task(**RETRY)
def run_cycle(cycle_id: int) -> int:
    """Give every supply of the cycle without a live run a run; returns how many were made."""
    cycle = Cycle.objects.get(pk=cycle_id)
    return len(services.allocation_runs_for_cycle(cycle=cycle))


@shared_task(**RETRY)
def compute_points(cycle_id: int, user_id: int | None = None, allocate_next: bool = True) -> int:
    """(Re)compute a cycle's points; then run the next cycle's supplies that have no run."""
    from accounts.models import User

    cycle = Cycle.objects.get(pk=cycle_id)
    by = User.objects.filter(pk=user_id).first() if user_id else None
    computation = services.points_compute(cycle=cycle, by=by)
    following = selectors.next_cycle(cycle) if allocate_next else None
    if following is not None:
        run_cycle.delay_on_commit(following.pk)
    return computation.retailers


@shared_task(**RETRY)
def close_cycles(today: str | None = None) -> int:
    """Daily (beat): points of every ended cycle not computed yet, then its next cycle's runs.
    ``today`` (ISO date) is for tests and catching up; beat leaves it to the clock."""
    day = dt.date.fromisoformat(today) if today else None
    cycles = services.points_compute_ended_cycles(today=day)
    for cycle in cycles:
        following = selectors.next_cycle(cycle)
        if following is not None:
            run_cycle.delay_on_commit(following.pk)
    return len(cycles)


@shared_task(**RETRY)
def propose_star_ratings(
    quarter_start: str | None = None,
    district_ids: list[int] | None = None,
    user_id: int | None = None,
) -> int:
    """Quarterly (beat), or a supervisor's button: propose the stars from the last quarter.

    ``quarter_start`` (ISO date) defaults to the quarter before today's; ``district_ids`` to
    every district. Returns how many proposals were written; a rerun replaces unapproved ones.
    """
    from accounts.models import User

    if quarter_start:
        start = dt.date.fromisoformat(quarter_start)
    else:
        start, _end = previous_quarter(timezone.localdate())
    districts = None if district_ids is None else District.objects.filter(pk__in=district_ids)
    by = User.objects.filter(pk=user_id).first() if user_id else None
    return len(rerating_propose(quarter_start=start, districts=districts, by=by))
