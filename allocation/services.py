"""Writes for points and allocation: the points job, supplies, and the run lifecycle.

DESIGN §5 (points), §4 (the rule, applied through ``allocation.rule``) and §6 (jobs: never a
half-written run, never two runs computing at once for one supply).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice, repeat
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from allocation import selectors
from allocation.models import (
    DEFAULT_WEIGHTS,
    LIVE_STATUSES,
    STARS,
    AllocationLine,
    AllocationRun,
    PointsComputation,
    PointsEntry,
    RunEvent,
    RunEventKind,
    RunStatus,
    ScarceSupply,
    SupplyRequest,
)
from allocation.rule import Line, allocate_columns
from catalog.models import Brand
from config import audit
from config.errors import ApplicationError
from config.models import AuditAction
from retailers.models import Retailer
from settlement.models import COUNTED_ORDER_STATUSES, Order, OrderChannel, OrderLine
from territory.models import Branch, Cycle, CycleStatus

logger = logging.getLogger(__name__)

# Namespaces of the advisory locks (first key of pg_advisory_*lock(int, int)).
POINTS_LOCK = 7301
RUN_LOCK = 7302
#: The temporary table of a points computation (dropped at commit).
AGGREGATE = "allocation_points_aggregate"
#: ``work_mem`` of the points computation's transaction (PostgreSQL).
POINTS_WORK_MEM = "128MB"


# --- locks ----------------------------------------------------------------------------------


def _xact_lock(namespace: int, key: int) -> None:
    """Serialise with any other transaction taking the same lock, until this one ends.

    PostgreSQL only; SQLite serialises writers anyway (the quick start runs tasks in-process).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, key])


@contextmanager
def _session_lock(namespace: int, key: int) -> Iterator[bool]:
    """Try to take a session-level lock; yields whether it was taken.

    Held across several transactions (progress updates are committed as they happen) and
    released when the block ends, or by PostgreSQL itself when a crashed worker's connection
    goes away: a redelivered task can then take over.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [namespace, key])
        taken = cursor.fetchone()[0]
    try:
        yield taken
    finally:
        if taken:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [namespace, key])


# --- points (DESIGN §5) ---------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _partition_name(cycle: Cycle) -> str:
    return f"{PointsEntry._meta.db_table}_c{int(cycle.pk)}"


def _quoted_partition(cycle: Cycle) -> str:
    return connection.ops.quote_name(_partition_name(cycle))


def _ledger_is_partitioned() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)",
            [PointsEntry._meta.db_table],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def _drop_orphan_partitions(cursor) -> None:
    """Drop the partitions of cycles that no longer exist (emptied, then their cycle deleted;
    or the tables truncated, as tests do): they would only make every query plan longer."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid"  # noqa: S608
        " WHERE h.inhparent = %s::regclass AND c.relname ~ %s"
        f" AND NOT EXISTS (SELECT 1 FROM {_table(Cycle)} y"
        "  WHERE y.id = substring(c.relname FROM '[0-9]+$')::bigint)",
        [PointsEntry._meta.db_table, f"^{PointsEntry._meta.db_table}_c[0-9]+$"],
    )
    for (name,) in cursor.fetchall():
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(name)}")


def _drop_partition(cursor, cycle: Cycle) -> None:
    """Remove the cycle's partition, if it has one: recomputing replaces it whole.

    Detaching takes an exclusive lock on the ledger until the computation commits: readers
    wait for a recomputation (seconds), never for the first computation of a cycle.
    """
    cursor.execute(
        "SELECT to_regclass(%s) IS NOT NULL,"
        " EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s))",
        [_partition_name(cycle)] * 2,
    )
    exists, attached = cursor.fetchone()
    if attached:
        cursor.execute(
            f"ALTER TABLE {_table(PointsEntry)} DETACH PARTITION {_quoted_partition(cycle)}"
        )
    if exists:
        cursor.execute(f"DROP TABLE {_quoted_partition(cycle)}")


def _build_partition(cursor, cycle: Cycle, aggregate: str, params: list) -> str:
    """Write the cycle's entries as a new partition of the ledger; returns its quoted name.

    One ``CREATE TABLE … AS`` of the aggregate (which PostgreSQL may run in parallel, where an
    ``INSERT … SELECT`` may not) gives the rows; then the ledger's column and check
    constraints, primary key and index are added, each index built with one sort, instead of
    ~500,000 insertions into the indexes of every cycle's entries; then it is attached. Its
    check on the cycle lets ``ATTACH PARTITION`` skip scanning the rows, and PostgreSQL adopts
    the indexes as partitions of the ledger's own (it would build any that did not match).
    """
    ledger, part, name = _table(PointsEntry), _quoted_partition(cycle), _partition_name(cycle)
    quote = connection.ops.quote_name
    cursor.execute(
        f"CREATE TABLE {part} AS SELECT"  # noqa: S608 - names and placeholders only
        " %s::date AS cycle_start, cartons::integer AS cartons, points::bigint AS points,"
        " (points + previous)::bigint AS running_total, %s::bigint AS cycle_id,"
        f" retailer_id::bigint AS retailer_id FROM ({aggregate}) a",
        [cycle.start_date, cycle.pk, *params],
    )
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'c' ORDER BY conname",
        [PointsEntry._meta.db_table],
    )
    checks = [f"ADD CONSTRAINT {quote(c)} {d}" for c, d in cursor.fetchall()]
    not_null = [
        f"ALTER COLUMN {quote(f.column)} SET NOT NULL" for f in PointsEntry._meta.concrete_fields
    ]
    # One ALTER TABLE: one scan checks every constraint; the primary key's index is sorted.
    cursor.execute(
        f"ALTER TABLE {part} "
        + ", ".join(
            [
                *not_null,
                *checks,
                f"ADD CONSTRAINT {quote(name + '_cycle')} CHECK (cycle_id = {int(cycle.pk)})",
                f"ADD CONSTRAINT {quote(name + '_pkey')} PRIMARY KEY (cycle_id, retailer_id)",
            ]
        )
    )
    cursor.execute(
        f"CREATE INDEX {quote(name + '_start')} ON {part}"
        " (retailer_id, cycle_start DESC) INCLUDE (running_total)"
    )
    cursor.execute(f"ALTER TABLE {ledger} ATTACH PARTITION {part} FOR VALUES IN ({int(cycle.pk)})")
    # The allocation reads this partition right after (the job chains it), by retailer: with
    # no statistics the planner guesses its size and may pick a slow join (5.8 s against
    # 5.0 s for the run at province scale). The retailer column's are enough (60 ms).
    cursor.execute(f"ANALYZE {part} (retailer_id)")
    return part


@transaction.atomic
def points_compute(*, cycle: Cycle, by: User | None = None) -> PointsComputation:
    """Write the points ledger of ``cycle`` from its counted orders (DESIGN §5).

    Points = Σ cartons × (weight[price class] + new-brand and online bonuses), plus a bonus for
    ordering in the cycle at all, per retailer; the running total adds the retailer's latest
    earlier total. Set-based: one aggregate (which PostgreSQL may run in parallel), with each
    retailer's previous total looked up once by index. On PostgreSQL it writes the cycle's
    partition of the ledger directly (``_build_partition``); elsewhere it goes into a
    temporary table, then one ``INSERT … SELECT`` (the lookup is not part of the insert on
    purpose: a correlated lookup into the table being filled can degrade into a scan per row).
    Recomputing replaces the cycle's entries and corrects the running totals of later cycles.
    Concurrent computations of one cycle wait for each other (advisory lock): none counts twice.
    """
    _xact_lock(POINTS_LOCK, cycle.pk)
    rule = selectors.points_rule_for(cycle)
    weights = rule.weights if rule else DEFAULT_WEIGHTS
    bonus_cycle = rule.bonus_per_cycle_ordered if rule else 0
    bonus_online = rule.bonus_per_online_carton if rule else 0
    bonus_new = rule.bonus_per_new_brand_carton if rule else 0
    entries, orders, lines, brands = (
        _table(PointsEntry),
        _table(Order),
        _table(OrderLine),
        _table(Brand),
    )
    postgres = connection.vendor == "postgresql"
    statuses = [str(s) for s in COUNTED_ORDER_STATUSES]
    in_statuses = ", ".join(["%s"] * len(statuses))
    weight_case = " ".join(f"WHEN {c} THEN %s" for c in sorted(weights))
    # Only table names and placeholders are interpolated into the SQL; values are parameters.
    # Each retailer's latest earlier total: its entry of the cycle before, found by one hash
    # join; only when that is missing, an index probe for an older one (COALESCE evaluates it
    # lazily); and nothing at all when the ledger has no earlier cycle.
    # The probe names the earlier cycles as well as their start: on the partitioned ledger,
    # PostgreSQL then looks only into their partitions (and the default one), not into every
    # cycle's.
    before = selectors.previous_cycle(cycle)
    history = PointsComputation.objects.filter(cycle__start_date__lt=cycle.start_date).exists()
    if history:
        earlier = list(
            Cycle.objects.filter(start_date__lt=cycle.start_date).values_list("pk", flat=True)
        )
        previous = (
            "COALESCE(last.running_total, ("  # noqa: S608 - table names, placeholders
            f"  SELECT prev.running_total FROM {entries} prev"
            "   WHERE prev.retailer_id = a.retailer_id AND prev.cycle_start < %s"
            f"   AND prev.cycle_id IN ({', '.join(['%s'] * len(earlier))})"
            "   ORDER BY prev.cycle_start DESC LIMIT 1), 0)"
        )
        joined = (
            f" LEFT JOIN {entries} last ON last.retailer_id = a.retailer_id AND last.cycle_id = %s"
        )
        history_params = [before.pk if before else 0]
    else:
        earlier = []
        previous, joined, history_params = "0", "", []
    aggregate = (
        f"SELECT a.retailer_id, a.cartons, a.points + %s AS points, {previous} AS previous"  # noqa: S608
        " FROM ("
        "  SELECT o.retailer_id, SUM(l.cartons) AS cartons, SUM(l.cartons * ("
        f"   CASE b.price_class {weight_case} ELSE 0 END"
        "    + CASE WHEN b.is_new THEN %s ELSE 0 END"
        "    + CASE WHEN o.channel = %s THEN %s ELSE 0 END)) AS points"
        f"  FROM {lines} l JOIN {orders} o ON o.id = l.order_id"
        f"  JOIN {brands} b ON b.id = l.brand_id"
        f"  WHERE o.cycle_id = %s AND o.status IN ({in_statuses})"
        "  GROUP BY o.retailer_id"
        f" ) a{joined}"
    )
    aggregate_params = [
        bonus_cycle,
        *([cycle.start_date, *earlier] if history else []),
        *[weights[c] for c in sorted(weights)],
        bonus_new,
        str(OrderChannel.ONLINE),
        bonus_online,
        cycle.pk,
        *statuses,
        *history_params,
    ]
    insert = (
        f"INSERT INTO {entries}"  # noqa: S608
        " (retailer_id, cycle_id, cycle_start, cartons, points, running_total)"
        f" SELECT retailer_id, %s, %s, cartons, points, points + previous FROM {AGGREGATE}"
        # In key order, the index entries go in page by page rather than at random.
        " ORDER BY retailer_id"
    )
    adjust_later = (
        f"UPDATE {entries} SET running_total = running_total {{sign}} COALESCE(("  # noqa: S608
        f" SELECT this.points FROM {entries} this"
        f" WHERE this.retailer_id = {entries}.retailer_id AND this.cycle_id = %s), 0)"
        f" WHERE cycle_start > %s AND retailer_id IN"
        f" (SELECT retailer_id FROM {entries} WHERE cycle_id = %s)"
    )
    later_params = [cycle.pk, cycle.start_date, cycle.pk]
    later = PointsComputation.objects.filter(cycle__start_date__gt=cycle.start_date).exists()
    # On PostgreSQL the ledger is partitioned by cycle (migration 0002); see _build_partition.
    partitioned = postgres and _ledger_is_partitioned()
    with connection.cursor() as cursor:
        if postgres:
            # Compiling this one-off query costs more than it saves. And the ledger is derived
            # data: should the server crash in the instant after the commit, the computation is
            # lost whole (never in part) and the daily job computes it again, so the commit
            # need not wait for the disk.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL synchronous_commit = off")
            # The aggregate's hash tables and the insert's sort of ~500,000 retailers spill to
            # disk in the default 4 MB (half the job's time at province scale); this one
            # transaction may use more.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [POINTS_WORK_MEM])
        if later:
            cursor.execute(adjust_later.format(sign="-"), later_params)
        if partitioned:
            _drop_orphan_partitions(cursor)
            _drop_partition(cursor, cycle)
        # (Partitioned: the entries of this cycle written row by row, in the default partition.)
        cursor.execute(f"DELETE FROM {entries} WHERE cycle_id = %s", [cycle.pk])  # noqa: S608
        if partitioned:
            partition = _build_partition(cursor, cycle, aggregate, aggregate_params)
            # The totals from the new partition, smaller than the ledger and already at hand.
            cursor.execute(f"SELECT count(*), SUM(points) FROM {partition}")  # noqa: S608
            retailers, total_points = cursor.fetchone()
        else:
            cursor.execute(f"CREATE TEMPORARY TABLE {AGGREGATE} AS {aggregate}", aggregate_params)
            cursor.execute(insert, [cycle.pk, cycle.start_date])
            cursor.execute(f"SELECT count(*), SUM(points) FROM {AGGREGATE}")  # noqa: S608
            retailers, total_points = cursor.fetchone()
            # Dropped now, not at commit: a caller's transaction may compute several cycles.
            cursor.execute(f"DROP TABLE {AGGREGATE}")
        if later:
            cursor.execute(adjust_later.format(sign="+"), later_params)
    totals = {"n": retailers, "total": total_points}
    computation, _created = PointsComputation.objects.update_or_create(
        cycle=cycle,
        defaults={
            "rule": rule,
            "weights": "/".join(str(weights[c]) for c in sorted(weights)),
            "retailers": totals["n"],
            "total_points": totals["total"] or 0,
            "computed_at": timezone.now(),
            "computed_by": by,
        },
    )
    return computation


def points_compute_ended_cycles(*, today=None) -> list[Cycle]:
    """The cycle-close job: compute points for every ended cycle that has none yet.

    Returns the cycles computed, oldest first, so that the caller can start the allocation of
    each one's next cycle.
    """
    today = today or timezone.localdate()
    done = []
    for cycle in selectors.cycles_awaiting_points(today=today):
        points_compute(cycle=cycle)
        done.append(cycle)
    return done


# --- supplies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplyParams:
    quantity: int
    unit: int
    min_star: int
    caps: dict[int, int | None]
    minimum: int
    violation_cycles: int


def _supply_errors(params: SupplyParams) -> dict[str, list[str]]:
    """Field messages for supply parameters that the rule cannot share sensibly (DESIGN §7)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if params.quantity < 0:
        add("quantity", _("The quantity cannot be negative."))
    if params.unit < 1:
        add("unit", _("The allocation unit is at least 1 carton."))
    elif params.quantity > 0 and params.unit > params.quantity:
        add(
            "unit",
            _("The allocation unit (%(unit)s cartons) is larger than the quantity (%(q)s).")
            % {"unit": params.unit, "q": params.quantity},
        )
    elif params.quantity >= 0 and params.quantity % params.unit:
        add(
            "quantity",
            _("%(q)s cartons is not a whole number of units of %(unit)s cartons.")
            % {"q": params.quantity, "unit": params.unit},
        )
    if not 1 <= params.min_star <= 5:
        add("min_star", _("The minimum star is 1 to 5."))
    if not 0 <= params.violation_cycles <= 52:
        add("violation_cycles", _("Choose 0 to 52 cycles."))
    if params.minimum < 0:
        add("minimum", _("The guaranteed minimum cannot be negative."))
    elif params.unit >= 1 and params.minimum % params.unit:
        add(
            "minimum",
            _("The guaranteed minimum must be a whole number of units of %(unit)s cartons.")
            % {"unit": params.unit},
        )
    for star in STARS:
        cap = params.caps.get(star)
        field = f"cap_star_{star}"
        if cap is None:
            if 1 <= params.min_star <= star:
                add(
                    field,
                    _("A cap is needed for every star from %(low)s★ to 5★.")
                    % {"low": params.min_star},
                )
            continue
        if cap < 0:
            add(field, _("A cap cannot be negative."))
        elif params.unit >= 1 and (cap < params.unit or cap % params.unit):
            add(
                field,
                _("The cap must be a whole number of units of %(unit)s cartons, at least one.")
                % {"unit": params.unit},
            )
    return errors


def _check_manager(user: User, branch: Branch) -> None:
    if not selectors.can_manage(user, branch):
        raise PermissionDenied(_("Only the branch's supervisors may do this."))


def supply_snapshot(supply: ScarceSupply) -> dict:
    """What the audit history keeps of a supply (before and after a change)."""
    return {
        "quantity": supply.quantity,
        "unit": supply.unit,
        "min_star": supply.min_star,
        "minimum": supply.minimum,
        "violation_cycles": supply.violation_cycles,
        **{f"cap_star_{star}": getattr(supply, f"cap_star_{star}") for star in STARS},
        "note": supply.note,
    }


def _supply_label(supply: ScarceSupply) -> str:
    return f"{supply.cycle.code} {supply.brand.name}"


def _apply_params(supply: ScarceSupply, params: SupplyParams) -> None:
    errors = _supply_errors(params)
    if errors:
        raise ApplicationError(_("Please correct the supply."), extra=errors)
    supply.quantity = params.quantity
    supply.unit = params.unit
    supply.min_star = params.min_star
    supply.minimum = params.minimum
    supply.violation_cycles = params.violation_cycles
    for star in STARS:
        setattr(supply, f"cap_star_{star}", params.caps.get(star))


def _check_cycle_open(cycle: Cycle) -> None:
    if cycle.status == CycleStatus.CLOSED:
        raise ApplicationError(
            _("Cycle %(cycle)s is closed; supplies are for open or planned cycles.")
            % {"cycle": cycle.code},
            extra={"cycle": [_("Choose an open or planned cycle.")]},
        )


@transaction.atomic
def supply_create(
    *,
    branch: Branch,
    cycle: Cycle,
    brand: Brand,
    params: SupplyParams,
    by: User,
    note: str = "",
) -> ScarceSupply:
    """Define how many cartons of ``brand`` the branch shares in ``cycle`` (DESIGN §4)."""
    _check_manager(by, branch)
    _check_cycle_open(cycle)
    supply = ScarceSupply(branch=branch, cycle=cycle, brand=brand, note=note, created_by=by)
    _apply_params(supply, params)
    if ScarceSupply.objects.filter(branch=branch, cycle=cycle, brand=brand).exists():
        raise ApplicationError(
            _("There is already a supply of %(brand)s for cycle %(cycle)s.")
            % {"brand": brand.name, "cycle": cycle.code},
            extra={"brand": [_("This brand already has a supply in this cycle.")]},
        )
    try:
        with transaction.atomic():
            supply.save()
    except IntegrityError as exc:  # a concurrent create of the same supply
        raise ApplicationError(
            _("There is already a supply of %(brand)s for cycle %(cycle)s.")
            % {"brand": brand.name, "cycle": cycle.code}
        ) from exc
    audit.record(
        actor=by,
        action=AuditAction.SUPPLY_CREATED,
        target=supply,
        label=_supply_label(supply),
        after=supply_snapshot(supply),
    )
    return supply


@transaction.atomic
def supply_update(
    *, supply: ScarceSupply, params: SupplyParams, by: User, note: str | None = None
) -> ScarceSupply:
    """Change a supply's quantity and caps. Runs keep the parameters they were computed with;
    the next run uses the new ones."""
    _check_manager(by, supply.branch)
    supply = ScarceSupply.objects.select_for_update().get(pk=supply.pk)
    _check_cycle_open(supply.cycle)
    before = supply_snapshot(supply)
    _apply_params(supply, params)
    if note is not None:
        supply.note = note
    supply.save()
    changed_from, changed_to = audit.changes(before, supply_snapshot(supply))
    if changed_to:
        audit.record(
            actor=by,
            action=AuditAction.SUPPLY_CHANGED,
            target=supply,
            label=_supply_label(supply),
            before=changed_from,
            after=changed_to,
        )
    return supply


@transaction.atomic
def supply_request_record(
    *, supply: ScarceSupply, retailer: Retailer, cartons: int | None, by: User
) -> SupplyRequest | None:
    """Record (or with ``cartons=None`` remove) the quantity a retailer asked for; its cap is
    lowered to it in the next run (DESIGN §4)."""
    _check_manager(by, supply.branch)
    if not selectors.is_branch_retailer(retailer, supply.branch):
        raise ApplicationError(_("This retailer is not in the supply's branch."))
    if cartons is None:
        SupplyRequest.objects.filter(supply=supply, retailer=retailer).delete()
        return None
    if cartons < 0:
        raise ApplicationError(
            _("A requested quantity cannot be negative."),
            extra={"cartons": [_("A requested quantity cannot be negative.")]},
        )
    request, _created = SupplyRequest.objects.update_or_create(
        supply=supply, retailer=retailer, defaults={"cartons": cartons, "recorded_by": by}
    )
    return request


# --- runs: request --------------------------------------------------------------------------


def _event(run: AllocationRun, kind: str, *, by: User | None = None, note: str = "") -> None:
    RunEvent.objects.create(run=run, kind=kind, by=by, note=note[:300])


def _check_runnable(supply: ScarceSupply) -> Cycle:
    """The bad inputs found before a run is written (DESIGN §7); returns the points cycle."""
    points_cycle = selectors.previous_cycle(supply.cycle)
    if points_cycle is None:
        raise ApplicationError(
            _("Cycle %(cycle)s has no previous cycle to take points from.")
            % {"cycle": supply.cycle.code}
        )
    if not PointsComputation.objects.filter(cycle=points_cycle).exists():
        raise ApplicationError(
            _(
                "The points of cycle %(points)s (the cycle before %(cycle)s) have not been "
                "computed yet; compute them first."
            )
            % {"points": points_cycle.code, "cycle": supply.cycle.code}
        )
    errors = _supply_errors(_params_of(supply))
    if errors:
        raise ApplicationError(
            _("The supply is not valid: %(errors)s")
            % {"errors": " ".join(m for ms in errors.values() for m in ms)},
            extra=errors,
        )
    if not selectors.any_eligible(supply=supply, points_cycle=points_cycle):
        raise ApplicationError(
            _(
                "No retailer of the branch is eligible for %(brand)s in cycle %(cycle)s: none "
                "is active with at least %(star)s★, points in cycle %(points)s, no recent "
                "violation and a cap of at least one unit."
            )
            % {
                "brand": supply.brand.name,
                "cycle": supply.cycle.code,
                "star": supply.min_star,
                "points": points_cycle.code,
            }
        )
    return points_cycle


def _params_of(supply: ScarceSupply) -> SupplyParams:
    return SupplyParams(
        quantity=supply.quantity,
        unit=supply.unit,
        min_star=supply.min_star,
        caps=supply.caps_by_star,
        minimum=supply.minimum,
        violation_cycles=supply.violation_cycles,
    )


def _create_run(
    supply: ScarceSupply, *, points_cycle: Cycle, by: User | None, reason: str, enqueue: bool
) -> AllocationRun:
    current = (
        supply.runs.filter(status__in=(RunStatus.APPROVED, RunStatus.PUBLISHED))
        .order_by("-number")
        .first()
    )
    if current is not None and not reason:
        message = _(
            "Run #%(number)s is %(status)s: give a reason to supersede it with a new run."
        ) % {"number": current.number, "status": current.get_status_display().lower()}
        raise ApplicationError(message, extra={"reason": [message]})
    number = (supply.runs.aggregate(n=Max("number"))["n"] or 0) + 1
    run = AllocationRun.objects.create(
        supply=supply,
        number=number,
        status=RunStatus.COMPUTING,
        reason=reason,
        supersedes=current,
        requested_by=by,
        points_cycle=points_cycle,
        quantity=supply.quantity,
        unit=supply.unit,
        minimum=supply.minimum,
        min_star=supply.min_star,
        caps={str(star): cap for star, cap in supply.caps_by_star.items()},
        violation_cycles=supply.violation_cycles,
    )
    _event(run, RunEventKind.REQUESTED, by=by, note=reason)
    if enqueue:
        _enqueue_compute(run)
    return run


def _enqueue_compute(run: AllocationRun) -> None:
    from allocation.tasks import compute_run  # tasks import services: import here

    compute_run.delay_on_commit(run.pk)


@transaction.atomic
def allocation_run_request(
    *, supply: ScarceSupply, by: User, reason: str = "", enqueue: bool = True
) -> tuple[AllocationRun, bool]:
    """Ask for a new run of ``supply``; it computes in the background (DESIGN §6).

    Returns ``(run, created)``: while a run of the supply is computing, that run (asked to
    compute again, which is harmless) and ``False``. Superseding an approved or published run
    needs a reason. Bad inputs (no points for the previous cycle, no eligible retailer, invalid
    caps) raise ``ApplicationError`` and write nothing. ``enqueue=False`` leaves computing to
    the caller (the demo seeder computes in-process).
    """
    _check_manager(by, supply.branch)
    supply = (
        ScarceSupply.objects.select_for_update().select_related("cycle", "brand").get(pk=supply.pk)
    )
    computing = supply.runs.filter(status=RunStatus.COMPUTING).first()
    if computing is not None:
        if enqueue:
            _enqueue_compute(computing)
        return computing, False
    points_cycle = _check_runnable(supply)
    run = _create_run(
        supply, points_cycle=points_cycle, by=by, reason=reason.strip(), enqueue=enqueue
    )
    return run, True


def allocation_runs_for_cycle(*, cycle: Cycle, by: User | None = None) -> list[AllocationRun]:
    """Give every supply of ``cycle`` that has no live run a run (the cycle-close job, or the
    page's "run all"). Idempotent: however often it is called at once, one run per supply.

    A supply whose inputs are bad is skipped and logged, and writes nothing.
    """
    created = []
    supplies = ScarceSupply.objects.filter(cycle=cycle).order_by("pk")
    if by is not None:
        supplies = supplies.filter(branch__in=selectors.manageable_branches(by))
    for supply_id in supplies.values_list("pk", flat=True):
        with transaction.atomic():
            supply = (
                ScarceSupply.objects.select_for_update()
                .select_related("cycle", "brand")
                .get(pk=supply_id)
            )
            if supply.runs.filter(status__in=LIVE_STATUSES).exists():
                continue
            try:
                points_cycle = _check_runnable(supply)
            except ApplicationError as exc:
                logger.warning("allocation: supply %s not run: %s", supply.pk, exc.message)
                continue
            created.append(
                _create_run(supply, points_cycle=points_cycle, by=by, reason="", enqueue=True)
            )
    return created


# --- runs: compute --------------------------------------------------------------------------

#: Columns written per line, in the order of the COPY.
LINE_COLUMNS = (
    "run_id",
    "retailer_id",
    "route_id",
    "star",
    "points",
    "cap",
    "requested",
    "eligible",
    "reason",
    "minimum_units",
    "quota_num",
    "floor_units",
    "remainder_rank",
    "capped",
    "award",
)
_L = {name: i for i, name in enumerate(Line._fields)}


def _progress(run_id: int, percent: int) -> None:
    AllocationRun.objects.filter(pk=run_id, status=RunStatus.COMPUTING).update(progress=percent)


def inputs_hash(run: AllocationRun, columns: Sequence[list]) -> str:
    """SHA-256 of everything the lines depend on: the run's parameters and the input columns.

    Column by column (the ``repr`` of each list of ints, strings and ``None``: unambiguous),
    a third cheaper than the ``repr`` of the rows, which runs computed before this version
    hashed (such a run never shows as having the same inputs as a newer one).
    """
    header = json.dumps(
        {
            "branch": run.supply.branch.code,
            "cycle": run.supply.cycle.code,
            "brand": run.supply.brand.code,
            "points_cycle": run.points_cycle.code,
            "quantity": run.quantity,
            "unit": run.unit,
            "minimum": run.minimum,
            "min_star": run.min_star,
            "caps": run.caps_by_star,
            "violation_cycles": run.violation_cycles,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(header.encode())
    for column in columns:
        digest.update(repr(column).encode())
    return digest.hexdigest()


def allocation_run_compute(*, run_id: int) -> AllocationRun | None:
    """Compute a requested run (DESIGN §4, §6). Safe to call any number of times, at once.

    Only one computation per supply proceeds (a session advisory lock, released by PostgreSQL
    if the worker dies); it claims the run with a conditional update, reads all inputs with one
    query, applies ``allocation.rule``, and writes every line in the same transaction that marks
    the run done, so a crash leaves a computing run with no lines, which the redelivered task
    computes again. Returns ``None`` when there was nothing to do.
    """
    supply_id = AllocationRun.objects.filter(pk=run_id).values_list("supply_id", flat=True).first()
    if supply_id is None:
        return None
    with _session_lock(RUN_LOCK, supply_id) as taken:
        if not taken:
            return None  # another worker is computing this supply; it will finish the run
        claimed = AllocationRun.objects.filter(pk=run_id, status=RunStatus.COMPUTING).update(
            attempts=F("attempts") + 1, started_at=timezone.now(), progress=10
        )
        if not claimed:
            return None
        run = AllocationRun.objects.select_related(
            "supply__branch", "supply__cycle", "supply__brand", "points_cycle"
        ).get(pk=run_id)
        _event(run, RunEventKind.STARTED, note=_("attempt %(n)s") % {"n": run.attempts})
        try:
            _compute(run)
        except (ApplicationError, ValueError) as exc:
            allocation_run_fail(run_id=run_id, message=getattr(exc, "message", str(exc)))
        run.refresh_from_db()
        return run


def _compute(run: AllocationRun) -> None:
    with _gc_paused():
        inputs = selectors.run_inputs(run)
        _progress(run.pk, 40)
        ids, licences, stars, routes, points, requested, caps, reasons = inputs
        if not ids:
            raise ApplicationError(_("The branch has no active retailer."))
        if all(reasons):
            raise ApplicationError(_("No retailer is eligible any more; nothing was allocated."))
        digest = inputs_hash(run, inputs)
        result = allocate_columns(
            keys=ids,
            points=points,
            caps=[c if not r else 0 for c, r in zip(caps, reasons, strict=True)],
            stars=[s or 0 for s in stars],
            licences=licences,
            supply=run.quantity,
            unit=run.unit,
            minimum=run.minimum,
            cycle_code=run.supply.cycle.code,
        )
        _progress(run.pk, 70)
        out = {name: list(map(itemgetter(_L[name]), result.lines)) for name in RESULT_COLUMNS}
        columns = (ids, routes, stars, points, caps, requested, reasons)
        awarded = len(out["award"]) - out["award"].count(0)
        eligible = sum(out["eligible"])
    _progress(run.pk, 90)
    with transaction.atomic(), _gc_paused():
        _write_lines(run=run, columns=columns, results=out)
        delay = settings.ALLOCATION_COMPUTE_DELAY
        if delay:
            time.sleep(delay)  # tests only: widen the window a crash can hit
        done = AllocationRun.objects.filter(pk=run.pk, status=RunStatus.COMPUTING).update(
            status=RunStatus.DRAFT,
            progress=100,
            finished_at=timezone.now(),
            inputs_hash=digest,
            retailers=len(ids),
            eligible=eligible,
            total_points=result.total_points,
            allocated=result.allocated,
            unallocated=result.unallocated,
            minimum_allocated=result.minimum_pass_units * result.unit,
            quota_den=result.lines[0].quota_den,
            units_per_point=str(result.units_per_point or ""),
            error="",
        )
        if not done:  # cannot happen while we hold the lock; refuse to leave stray lines
            raise RuntimeError(f"run {run.pk} changed status while computing")
        _event(
            run,
            RunEventKind.COMPUTED,
            note=_("%(allocated)s of %(supply)s cartons to %(n)s retailers")
            % {"allocated": result.allocated, "supply": run.quantity, "n": awarded},
        )
        for older in run.supply.runs.filter(status=RunStatus.DRAFT, number__lt=run.number):
            _supersede(older, by_run=run, by=None)


#: What each line takes from the rule's result.
RESULT_COLUMNS = (
    "eligible",
    "minimum_units",
    "quota_num",
    "floor_units",
    "remainder_rank",
    "capped",
    "award",
)
_NULL = "\\N"
#: One COPY text row: run, retailer, route, star, points, cap, requested, eligible, reason,
#: minimum units, quota numerator, floor, remainder rank, capped, award.
_COPY_ROW = "%s\t" * 14 + "%s\n"


#: Lines per chunk of the COPY that writes a run's lines.
COPY_CHUNK_ROWS = 4096


def _copy_chunks(
    *, run_id: int, columns: tuple[list, ...], results: dict[str, list]
) -> Iterator[str]:
    """The lines in PostgreSQL's COPY text format, ``COPY_CHUNK_ROWS`` at a time, one ``%``
    per row (measured fastest)."""
    ids, routes, stars, points, caps, requested, reasons = columns
    null = _NULL
    lines = zip(
        repeat(run_id),
        ids,
        routes,
        [null if v is None else v for v in stars],
        points,
        caps,
        [null if v is None else v for v in requested],
        ["t" if v else "f" for v in results["eligible"]],
        reasons,  # fixed codes: no tab, newline or backslash
        results["minimum_units"],
        results["quota_num"],
        results["floor_units"],
        [null if v is None else v for v in results["remainder_rank"]],
        ["t" if v else "f" for v in results["capped"]],
        results["award"],
    )
    while chunk := "".join([_COPY_ROW % row for row in islice(lines, COPY_CHUNK_ROWS)]):
        yield chunk


class _ChunkReader:
    """A file for ``copy_expert`` whose ``read`` hands over the next chunk, made on demand:
    PostgreSQL parses and stores one chunk while Python formats the next (2 cores)."""

    def __init__(self, chunks: Iterator[str]) -> None:
        self._chunks = chunks

    def read(self, _size: int = -1) -> str:
        return next(self._chunks, "")


def _write_lines(
    *, run: AllocationRun, columns: tuple[list, ...], results: dict[str, list]
) -> None:
    """Every line of a run at once: COPY on PostgreSQL, ``bulk_create`` elsewhere."""
    if connection.vendor == "postgresql":
        chunks = _copy_chunks(run_id=run.pk, columns=columns, results=results)
        names = ", ".join(connection.ops.quote_name(name) for name in LINE_COLUMNS)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY {_table(AllocationLine)} ({names}) FROM STDIN",  # only our own names
                _ChunkReader(chunks),
            )
        return
    AllocationLine.objects.bulk_create(
        (
            AllocationLine(
                run=run,
                retailer_id=retailer,
                route_id=route,
                star=star,
                points=points,
                cap=cap,
                requested=asked,
                reason=reason,
                **{name: results[name][i] for name in RESULT_COLUMNS},
            )
            for i, (retailer, route, star, points, cap, asked, reason) in enumerate(
                zip(*columns, strict=True)
            )
        ),
        batch_size=500,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a run holds a few million small objects: each pass
    would walk them all, again and again, for nothing (reference counting still frees)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def allocation_run_fail(*, run_id: int, message: str) -> bool:
    """Mark a computing run failed (bad inputs found while computing, or the task gave up)."""
    with transaction.atomic():
        failed = AllocationRun.objects.filter(pk=run_id, status=RunStatus.COMPUTING).update(
            status=RunStatus.FAILED, error=message[:2000], finished_at=timezone.now()
        )
        if failed:
            _event(AllocationRun.objects.get(pk=run_id), RunEventKind.FAILED, note=message)
    return bool(failed)


# --- runs: review ---------------------------------------------------------------------------


def _supersede(run: AllocationRun, *, by_run: AllocationRun, by: User | None) -> None:
    AllocationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUPERSEDED, superseded_by=by_run
    )
    _event(run, RunEventKind.SUPERSEDED, by=by, note=_("by run #%(n)s") % {"n": by_run.number})
    _audit_run(
        run,
        AuditAction.RUN_SUPERSEDED,
        by=by,
        before=run.status,
        after=RunStatus.SUPERSEDED,
        extra={"superseded_by": by_run.number},
        reason=by_run.reason,
    )


def _audit_run(
    run: AllocationRun,
    action: str,
    *,
    by: User | None,
    before: str,
    after: str,
    extra: dict | None = None,
    reason: str = "",
) -> None:
    audit.record(
        actor=by,
        action=action,
        target=run,
        label=f"{_supply_label(run.supply)} #{run.number}",
        before={"status": str(before)},
        after={"status": str(after), **(extra or {})},
        reason=reason,
    )


def _locked_run(run: AllocationRun, by: User) -> AllocationRun:
    run = (
        AllocationRun.objects.select_for_update(of=("self",))
        .select_related("supply__branch", "supply__cycle", "supply__brand")
        .get(pk=run.pk)
    )
    _check_manager(by, run.supply.branch)
    return run


@transaction.atomic
def allocation_run_approve(*, run: AllocationRun, by: User) -> AllocationRun:
    """A supervisor of the branch (or an administrator) approves a draft run (DESIGN §4).

    From now on the run and its lines never change; an earlier approved but unpublished run of
    the supply is superseded.
    """
    run = _locked_run(run, by)
    if run.status != RunStatus.DRAFT:
        raise ApplicationError(
            _("Only a draft run can be approved; run #%(n)s is %(status)s.")
            % {"n": run.number, "status": run.get_status_display().lower()}
        )
    if run.supply.runs.filter(status=RunStatus.COMPUTING).exists():
        raise ApplicationError(_("A newer run of this supply is computing; review that one."))
    for older in run.supply.runs.filter(status=RunStatus.APPROVED).exclude(pk=run.pk):
        _supersede(older, by_run=run, by=by)
    run.status, run.approved_by, run.approved_at = RunStatus.APPROVED, by, timezone.now()
    run.save(update_fields=["status", "approved_by", "approved_at"])
    _event(run, RunEventKind.APPROVED, by=by)
    _audit_run(run, AuditAction.RUN_APPROVED, by=by, before=RunStatus.DRAFT, after=run.status)
    return run


@transaction.atomic
def allocation_run_publish(*, run: AllocationRun, by: User) -> AllocationRun:
    """Publish an approved run: account managers and retailers see it from now on; the run it
    replaces (if any) is superseded."""
    run = _locked_run(run, by)
    if run.status != RunStatus.APPROVED:
        raise ApplicationError(
            _("Only an approved run can be published; run #%(n)s is %(status)s.")
            % {"n": run.number, "status": run.get_status_display().lower()}
        )
    for older in run.supply.runs.filter(status=RunStatus.PUBLISHED).exclude(pk=run.pk):
        _supersede(older, by_run=run, by=by)
    run.status, run.published_by, run.published_at = RunStatus.PUBLISHED, by, timezone.now()
    run.save(update_fields=["status", "published_by", "published_at"])
    _event(run, RunEventKind.PUBLISHED, by=by)
    _audit_run(run, AuditAction.RUN_PUBLISHED, by=by, before=RunStatus.APPROVED, after=run.status)
    return run
