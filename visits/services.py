"""Writes for differentiated service: policies, visit plans, visits (DESIGN §2.1, §2.6, §6)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from catalog.models import Brand
from config import audit
from config.errors import ApplicationError
from config.models import AuditAction
from retailers.models import Retailer, RetailerStatus
from territory.models import Cycle, Route
from territory.selectors import cycle_for_day
from visits import rules
from visits.models import MAX_CARTONS as MAX_STOCK_CARTONS
from visits.models import (
    MAX_EMERGENCY_CARTONS,
    MAX_FOLLOW_UPS,
    MAX_STAY_MINUTES,
    PRICE_FACTOR_MAX,
    PRICE_FACTOR_MIN,
    EmergencyRequest,
    FocusActivity,
    FollowUp,
    PlanSource,
    ServicePolicy,
    ServicePolicyChange,
    StockObservation,
    Visit,
    VisitPlan,
)
from visits.models import MAX_SALES_CARTONS as MAX_SALES

logger = logging.getLogger(__name__)

#: Clock skew tolerated between a phone and the server.
CLOCK_SKEW = dt.timedelta(minutes=5)
#: How far back a mobile client may log a visit it could not send at the time.
MAX_BACKDATE = dt.timedelta(days=30)
#: Slot rows per INSERT statement (6 parameters each, well below every driver's limit).
SLOTS_PER_STATEMENT = 4000


def _fail(message: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(message, extra={field: [message]} if field else None)


# --- Service policy ---------------------------------------------------------------------------


def service_policies_ensure_defaults() -> int:
    """Create the policies that are missing with the source document's defaults."""
    created = 0
    for star, values in rules.DEFAULT_POLICIES.items():
        _policy, new = ServicePolicy.objects.get_or_create(
            star=star, defaults={**values, "activities": [str(a) for a in values["activities"]]}
        )
        created += int(new)
    return created


@transaction.atomic
def service_policy_update(
    *,
    policy: ServicePolicy,
    by: User,
    visits: int,
    period_cycles: int,
    min_stay_minutes: int,
    activities: Sequence[str],
    emergency_delivery: bool,
) -> ServicePolicy:
    """Change a star's policy, keeping who changed what when. Plans already made stay."""
    if not (by.is_supervisor or by.is_administrator):
        raise _fail(_("Only supervisors may change the service policy."))
    policy = ServicePolicy.objects.select_for_update().get(pk=policy.pk)
    before = policy.snapshot()
    ordered = [a for a in FocusActivity.values if a in set(activities)]
    unknown = set(activities) - set(FocusActivity.values)
    if unknown:
        raise _fail(_("Choose activities from the list."), "activities")
    policy.visits, policy.period_cycles = visits, period_cycles
    policy.min_stay_minutes, policy.activities = min_stay_minutes, ordered
    policy.emergency_delivery, policy.updated_by = emergency_delivery, by
    try:
        policy.full_clean()
    except ValidationError as exc:
        raise ApplicationError(
            " ".join(m for ms in exc.message_dict.values() for m in ms), extra=exc.message_dict
        ) from exc
    if policy.snapshot() == before:
        return policy
    policy.save()
    ServicePolicyChange.objects.create(
        policy=policy, changed_by=by, before=before, after=policy.snapshot()
    )
    changed_from, changed_to = audit.changes(before, policy.snapshot())
    audit.record(
        actor=by,
        action=AuditAction.POLICY_CHANGED,
        target=policy,
        label=str(policy.get_star_display()),
        before=changed_from,
        after=changed_to,
    )
    return policy


# --- Visit plan -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """Where the ``sequence``-th visit of a route's retailers of one star falls in a cycle."""

    route_id: int
    star: int
    sequence: int
    day: dt.date
    period_cycles: int
    min_stay_minutes: int


def plan_slots(
    *, cycle: Cycle, routes: Iterable[tuple[int, int, int]], policies: Iterable[ServicePolicy]
) -> list[Slot]:
    """The slots of a cycle for ``routes`` given as ``(route id, weekday, manager id)``.

    Pure: a manager's route weekdays come from the routes passed, so pass all of a manager's
    routes even when only some are planned (see ``visit_plan_generate``).
    """
    routes = list(routes)
    weekdays_of: dict[int, set[int]] = defaultdict(set)
    for _route_id, weekday, manager_id in routes:
        weekdays_of[manager_id].add(weekday)
    slots = []
    for route_id, weekday, manager_id in routes:
        for policy in policies:
            days = rules.visit_weekdays(
                route_weekday=weekday,
                manager_weekdays=weekdays_of[manager_id],
                visits=policy.visits,
            )
            for sequence, visit_weekday in enumerate(days):
                day = rules.day_in_cycle(
                    cycle_start=cycle.start_date, cycle_end=cycle.end_date, weekday=visit_weekday
                )
                if day is not None:
                    slots.append(
                        Slot(
                            route_id,
                            policy.star,
                            sequence,
                            day,
                            policy.period_cycles,
                            policy.min_stay_minutes,
                        )
                    )
    return slots


PLAN_INSERT = (
    "INSERT INTO {plan} (cycle_id, retailer_id, sequence, day, account_manager_id,"
    " route_id, star, min_stay_minutes, source, created_at) "
    "WITH slot (route_id, star, seq, day, period, min_stay) AS (VALUES {values}) "
    "SELECT %s, r.id, slot.seq, slot.day, ro.account_manager_id, r.route_id, r.star,"
    " slot.min_stay, %s, %s "
    "FROM {retailer} r "
    "JOIN {route} ro ON ro.id = r.route_id "
    "JOIN slot ON slot.route_id = r.route_id AND slot.star = COALESCE(r.star, 0) "
    "WHERE r.status = %s AND ro.account_manager_id IS NOT NULL"
    " AND (r.id + %s) %% slot.period = 0 "
    "ON CONFLICT DO NOTHING"
)


#: The same insert on PostgreSQL in one statement: the slots as arrays (``unnest``), and
#: ``{conflict}`` left out when the cycle has no plan yet (see ``_insert_plan``).
PLAN_INSERT_ARRAYS = (
    "INSERT INTO {plan} (cycle_id, retailer_id, sequence, day, account_manager_id,"
    " route_id, star, min_stay_minutes, source, created_at) "
    "SELECT %s, r.id, slot.seq, slot.day, ro.account_manager_id, r.route_id, r.star,"
    " slot.min_stay, %s, %s "
    "FROM unnest(%s::bigint[], %s::integer[], %s::integer[], %s::date[], %s::integer[],"
    " %s::integer[]) AS slot (route_id, star, seq, day, period, min_stay) "
    "JOIN {route} ro ON ro.id = slot.route_id "
    "JOIN {retailer} r ON r.route_id = slot.route_id AND COALESCE(r.star, 0) = slot.star "
    "WHERE r.status = %s AND ro.account_manager_id IS NOT NULL"
    " AND (r.id + %s) %% slot.period = 0 "
    "ORDER BY r.id, slot.seq{conflict}"
)
#: Namespace of the plan's advisory lock (first key of ``pg_advisory_xact_lock(int, int)``).
PLAN_LOCK = 7401


def _plan_lock(cycle: Cycle) -> None:
    """Serialise the writers that create a cycle's plan entries, until the transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PLAN_LOCK, cycle.pk])


def _insert_plan(*, cycle: Cycle, slots: list[Slot], now: dt.datetime) -> int:
    """Join the slots to the active retailers in the database, in bulk.

    ``ON CONFLICT DO NOTHING`` against the unique (retailer, cycle, sequence) and (retailer,
    day) constraints makes reruns and concurrent runs harmless and leaves moved entries alone.
    On PostgreSQL one statement does it, and when the cycle has no entry yet (checked under the
    plan's lock, which every writer of new entries takes) a plain insert: the speculative
    insertion of ``ON CONFLICT`` costs about a third of the job at 500,000 retailers.
    """
    ops, quote = connection.ops, connection.ops.quote_name
    plan, retailer, route = VisitPlan._meta.db_table, Retailer._meta.db_table, Route._meta.db_table
    common = [cycle.pk, PlanSource.GENERATED.value, ops.adapt_datetimefield_value(now)]
    where = [RetailerStatus.ACTIVE.value, rules.week_number(cycle.start_date)]
    if connection.vendor == "postgresql":
        _plan_lock(cycle)
        first = not VisitPlan.objects.filter(cycle=cycle).exists()
        sql = PLAN_INSERT_ARRAYS.format(
            plan=quote(plan),
            retailer=quote(retailer),
            route=quote(route),
            conflict="" if first else " ON CONFLICT DO NOTHING",
        )
        columns = [
            [slot.route_id for slot in slots],
            [slot.star for slot in slots],
            [slot.sequence for slot in slots],
            [slot.day for slot in slots],
            [slot.period_cycles for slot in slots],
            [slot.min_stay_minutes for slot in slots],
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, [*common, *columns, *where])
            return max(cursor.rowcount, 0)
    created = 0
    for start in range(0, len(slots), SLOTS_PER_STATEMENT):
        batch = slots[start : start + SLOTS_PER_STATEMENT]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(batch))
        params: list = []
        for slot in batch:
            params += [
                slot.route_id,
                slot.star,
                slot.sequence,
                ops.adapt_datefield_value(slot.day),
                slot.period_cycles,
                slot.min_stay_minutes,
            ]
        # Only quoted table names and placeholders go into the text; values are parameters.
        sql = PLAN_INSERT.format(
            values=values, plan=quote(plan), retailer=quote(retailer), route=quote(route)
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *common, *where])
            created += max(cursor.rowcount, 0)
    return created


@transaction.atomic
def visit_plan_generate(
    *, cycle: Cycle, district_ids: Sequence[int] | None = None, now: dt.datetime | None = None
) -> int:
    """Plan the cycle's visits from the service policies and the routes (DESIGN §6).

    Set-based: the routes and policies are read once, the slots (a few per route and star)
    are computed here, and the database joins them to the active retailers in bulk. Reruns
    create only what is missing; returns how many entries were created.
    """
    policies = list(ServicePolicy.objects.all())
    managed = list(
        Route.objects.filter(account_manager__isnull=False).values_list(
            "id", "visit_weekday", "account_manager_id", "district_id"
        )
    )
    slots = plan_slots(cycle=cycle, routes=[row[:3] for row in managed], policies=policies)
    if district_ids is not None:
        wanted = {row[0] for row in managed if row[3] in set(district_ids)}
        slots = [slot for slot in slots if slot.route_id in wanted]
    created = _insert_plan(cycle=cycle, slots=slots, now=now or timezone.now())
    logger.info("planned %s visits for cycle %s", created, cycle.code)
    return created


def _may_manage_plan(user: User, retailer: Retailer) -> bool:
    return user.is_administrator or (
        user.is_supervisor and retailer.route.district.supervisor_id == user.pk
    )


@transaction.atomic
def visit_plan_move(*, entry: VisitPlan, day: dt.date, by: User) -> VisitPlan:
    """Move a plan entry to another day of its cycle; reruns of the generator leave it there."""
    entry = (
        VisitPlan.objects.select_for_update()
        .select_related("cycle", "retailer__route__district")
        .get(pk=entry.pk)
    )
    if not _may_manage_plan(by, entry.retailer):
        raise _fail(_("Only the district's supervisor may change its visit plan."))
    if Visit.objects.filter(plan=entry).exists():
        raise _fail(_("This entry has been visited already; it cannot move."), "day")
    if not entry.cycle.contains(day):
        raise _fail(
            _("Choose a day of cycle %(cycle)s (%(start)s to %(end)s).")
            % {
                "cycle": entry.cycle.code,
                "start": entry.cycle.start_date,
                "end": entry.cycle.end_date,
            },
            "day",
        )
    if day == entry.day:
        return entry
    if VisitPlan.objects.filter(retailer=entry.retailer, day=day).exists():
        raise _fail(
            _("This retailer already has a visit planned on %(day)s.") % {"day": day}, "day"
        )
    entry.day, entry.moved_at, entry.moved_by = day, timezone.now(), by
    entry.save(update_fields=["day", "moved_at", "moved_by"])
    return entry


@transaction.atomic
def visit_plan_add(*, retailer: Retailer, day: dt.date, by: User) -> VisitPlan:
    """Add a visit to the plan by hand: an extra visit the policy does not ask for."""
    retailer = (
        Retailer.objects.select_for_update().select_related("route__district").get(pk=retailer.pk)
    )
    if not _may_manage_plan(by, retailer):
        raise _fail(_("Only the district's supervisor may change its visit plan."))
    if retailer.status != RetailerStatus.ACTIVE:
        raise _fail(_("Only active retailers can be planned."), "retailer")
    if retailer.route.account_manager_id is None:
        raise _fail(_("This retailer's route has no account manager."), "retailer")
    cycle = cycle_for_day(day)
    if cycle is None:
        raise _fail(_("No cycle covers %(day)s.") % {"day": day}, "day")
    _plan_lock(cycle)  # the generator inserts without ON CONFLICT into an empty cycle
    if VisitPlan.objects.filter(retailer=retailer, day=day).exists():
        raise _fail(
            _("This retailer already has a visit planned on %(day)s.") % {"day": day}, "day"
        )
    policy = ServicePolicy.objects.filter(star=rules.policy_star(retailer.star)).first()
    last = VisitPlan.objects.filter(retailer=retailer, cycle=cycle).aggregate(m=Max("sequence"))
    # Above every sequence the policy could generate, so that a rerun never collides with it.
    sequence = max((last["m"] or 0) + 1, 5)
    return VisitPlan.objects.create(
        cycle=cycle,
        day=day,
        retailer=retailer,
        sequence=sequence,
        account_manager_id=retailer.route.account_manager_id,
        route=retailer.route,
        star=retailer.star,
        min_stay_minutes=policy.min_stay_minutes if policy else 0,
        source=PlanSource.ADDED,
        created_at=timezone.now(),
    )


# --- Visits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockInput:
    brand: Brand
    cartons_on_hand: int
    retail_price: Decimal | None = None
    sales_last_cycle: int | None = None


def _policy_for(star: int | None) -> ServicePolicy:
    policy = ServicePolicy.objects.filter(star=rules.policy_star(star)).first()
    if policy is None:
        raise _fail(_("There is no service policy for this star; ask a supervisor to set one."))
    return policy


def _check_location(latitude: Decimal | None, longitude: Decimal | None) -> None:
    if (latitude is None) != (longitude is None):
        raise _fail(_("Give both latitude and longitude, or neither."), "latitude")
    if latitude is not None and not Decimal(-90) <= latitude <= Decimal(90):
        raise _fail(_("Latitude is between -90 and 90."), "latitude")
    if longitude is not None and not Decimal(-180) <= longitude <= Decimal(180):
        raise _fail(_("Longitude is between -180 and 180."), "longitude")


@transaction.atomic
def visit_check_in(
    *,
    retailer: Retailer,
    by: User,
    at: dt.datetime | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
) -> Visit:
    """Check in at a retailer on the manager's routes; links today's plan entry if there is one."""
    now = timezone.now()
    at = at or now
    retailer = Retailer.objects.select_related("route").get(pk=retailer.pk)
    if not by.is_account_manager or retailer.route.account_manager_id != by.pk:
        raise _fail(_("This retailer is not on your routes."), "retailer")
    if retailer.status == RetailerStatus.CLOSED:
        raise _fail(_("This retailer is closed."), "retailer")
    if at > now + CLOCK_SKEW:
        raise _fail(_("The check-in time is in the future."), "checked_in_at")
    if at < now - MAX_BACKDATE:
        raise _fail(_("The check-in time is more than 30 days ago."), "checked_in_at")
    _check_location(latitude, longitude)
    open_visit = (
        Visit.objects.filter(checked_out_at__isnull=True)
        .filter(account_manager=by)
        .select_related("retailer")
        .first()
    )
    if open_visit is not None:
        raise _fail(
            _("You are still checked in at %(name)s; check out there first.")
            % {"name": open_visit.retailer.name},
            "retailer",
        )
    if Visit.objects.filter(retailer=retailer, checked_out_at__isnull=True).exists():
        raise _fail(_("This retailer has an open visit already."), "retailer")
    day = timezone.localdate(at)
    plan = (
        VisitPlan.objects.select_for_update(of=("self",))
        .filter(retailer=retailer, day=day, visit__isnull=True)
        .order_by("sequence")
        .first()
    )
    visit = Visit(
        retailer=retailer,
        account_manager=by,
        plan=plan,
        cycle=plan.cycle if plan else cycle_for_day(day),
        route=retailer.route,
        star=retailer.star,
        required_stay_minutes=_policy_for(retailer.star).min_stay_minutes,
        checked_in_at=at,
        latitude=latitude,
        longitude=longitude,
    )
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError as exc:  # a second check-in racing this one
        raise _fail(_("This retailer has an open visit already."), "retailer") from exc
    return visit


def _clean_stock(stock: Sequence[StockInput]) -> list[StockObservation]:
    rows, seen = [], set()
    for number, item in enumerate(stock, start=1):
        row = _("Stock row %(n)s (%(brand)s)") % {"n": number, "brand": item.brand.name}
        if item.brand.pk in seen:
            raise _fail(_("%(row)s: this brand is listed twice.") % {"row": row}, "stock")
        seen.add(item.brand.pk)
        if not 0 <= item.cartons_on_hand <= MAX_STOCK_CARTONS:
            raise _fail(
                _("%(row)s: stock is 0 to %(max)s cartons.")
                % {"row": row, "max": MAX_STOCK_CARTONS},
                "stock",
            )
        if item.sales_last_cycle is not None and not 0 <= item.sales_last_cycle <= MAX_SALES:
            raise _fail(
                _("%(row)s: sales are 0 to %(max)s cartons.") % {"row": row, "max": MAX_SALES},
                "stock",
            )
        if item.retail_price is not None:
            low, high = price_bounds(item.brand)
            if not low <= item.retail_price <= high:
                raise _fail(
                    _("%(row)s: a retail price per carton between %(low)s and %(high)s.")
                    % {"row": row, "low": low, "high": high},
                    "stock",
                )
        rows.append(
            StockObservation(
                brand=item.brand,
                cartons_on_hand=item.cartons_on_hand,
                retail_price=item.retail_price,
                sales_last_cycle=item.sales_last_cycle,
            )
        )
    return rows


def price_bounds(brand: Brand) -> tuple[Decimal, Decimal]:
    """The retail prices per carton accepted for a brand: around its list price."""
    low = (brand.list_price * Decimal(str(PRICE_FACTOR_MIN))).quantize(Decimal("0.01"))
    high = (brand.list_price * Decimal(str(PRICE_FACTOR_MAX))).quantize(Decimal("0.01"))
    return low, high


def _clean_follow_ups(texts: Sequence[str]) -> list[str]:
    cleaned = [text.strip() for text in texts if text.strip()]
    if len(cleaned) > MAX_FOLLOW_UPS:
        raise _fail(_("At most %(n)s follow-ups per visit.") % {"n": MAX_FOLLOW_UPS}, "follow_ups")
    for text in cleaned:
        if len(text) > 200:
            raise _fail(_("A follow-up has at most 200 characters."), "follow_ups")
    return cleaned


@transaction.atomic
def visit_check_out(
    *,
    visit: Visit,
    by: User,
    at: dt.datetime | None = None,
    activities: Sequence[str] = (),
    notes: str = "",
    feedback: str = "",
    stock: Sequence[StockInput] = (),
    follow_ups: Sequence[str] = (),
    done_follow_ups: dict[int, str] | None = None,
) -> Visit:
    """Close a visit with what was done (DESIGN §2.6); the stay is computed from the times.

    Everything is checked before anything is written: a bad row leaves the visit open and
    unchanged. Follow-ups set here are shown at the next visit until one marks them done.
    """
    now = timezone.now()
    at = at or now
    visit = Visit.objects.select_for_update().select_related("retailer").get(pk=visit.pk)
    if visit.account_manager_id != by.pk:
        raise _fail(_("Only the account manager who checked in can check out."))
    if visit.checked_out_at is not None:
        raise _fail(_("This visit is checked out already."))
    if at < visit.checked_in_at:
        raise _fail(_("The check-out time is before the check-in time."), "checked_out_at")
    if at > now + CLOCK_SKEW:
        raise _fail(_("The check-out time is in the future."), "checked_out_at")
    minutes = rules.stay_minutes(visit.checked_in_at, at)
    if minutes > MAX_STAY_MINUTES:
        raise _fail(
            _("A visit cannot last more than %(hours)s hours; enter the time you left.")
            % {"hours": MAX_STAY_MINUTES // 60},
            "checked_out_at",
        )
    checklist = _policy_for(visit.star).activities
    if set(activities) - set(checklist):
        raise _fail(_("Tick only activities of this retailer's checklist."), "activities")
    if len(notes) > 2000 or len(feedback) > 2000:
        raise _fail(_("Notes and feedback have at most 2000 characters each."), "notes")
    observations = _clean_stock(stock)
    new_follow_ups = _clean_follow_ups(follow_ups)
    done_follow_ups = done_follow_ups or {}
    open_ids = set(
        FollowUp.objects.filter(retailer=visit.retailer, done_in__isnull=True).values_list(
            "pk", flat=True
        )
    )
    if set(done_follow_ups) - open_ids:
        raise _fail(_("Only open follow-ups of this retailer can be marked done."), "follow_ups")
    if any(len(outcome) > 200 for outcome in done_follow_ups.values()):
        raise _fail(_("An outcome has at most 200 characters."), "follow_ups")

    visit.checked_out_at, visit.stay_minutes = at, minutes
    visit.activities = [a for a in checklist if a in set(activities)]
    visit.notes, visit.feedback = notes.strip(), feedback.strip()
    visit.save(
        update_fields=[
            "checked_out_at",
            "stay_minutes",
            "activities",
            "notes",
            "feedback",
            "updated_at",
        ]
    )
    for observation in observations:
        observation.visit = visit
    StockObservation.objects.bulk_create(observations)
    for follow_up_id, outcome in done_follow_ups.items():
        FollowUp.objects.filter(pk=follow_up_id, done_in__isnull=True).update(
            done_in=visit, outcome=outcome.strip(), done_at=at
        )
    FollowUp.objects.bulk_create(
        FollowUp(retailer=visit.retailer, text=text, created_in=visit) for text in new_follow_ups
    )
    return visit


@transaction.atomic
def visit_log(
    *,
    retailer: Retailer,
    by: User,
    checked_in_at: dt.datetime,
    checked_out_at: dt.datetime,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    activities: Sequence[str] = (),
    notes: str = "",
    feedback: str = "",
    stock: Sequence[StockInput] = (),
    follow_ups: Sequence[str] = (),
    done_follow_ups: dict[int, str] | None = None,
) -> Visit:
    """A whole visit at once (a mobile client that logs after leaving): check in, then out."""
    if checked_out_at < checked_in_at:
        raise _fail(_("The check-out time is before the check-in time."), "checked_out_at")
    visit = visit_check_in(
        retailer=retailer, by=by, at=checked_in_at, latitude=latitude, longitude=longitude
    )
    return visit_check_out(
        visit=visit,
        by=by,
        at=checked_out_at,
        activities=activities,
        notes=notes,
        feedback=feedback,
        stock=stock,
        follow_ups=follow_ups,
        done_follow_ups=done_follow_ups,
    )


@transaction.atomic
def emergency_request_create(
    *,
    retailer: Retailer,
    by: User,
    brand: Brand,
    cartons: int,
    note: str = "",
    visit: Visit | None = None,
) -> EmergencyRequest:
    """Record a request for an emergency delivery from an eligible retailer (DESIGN §2.2)."""
    retailer = Retailer.objects.select_related("route").get(pk=retailer.pk)
    if not by.is_account_manager or retailer.route.account_manager_id != by.pk:
        raise _fail(_("This retailer is not on your routes."), "retailer")
    policy = ServicePolicy.objects.filter(star=rules.policy_star(retailer.star)).first()
    if not rules.emergency_eligible(
        retailer, policy_allows=bool(policy and policy.emergency_delivery)
    ):
        raise _fail(_("This retailer is not eligible for emergency deliveries."), "retailer")
    if not brand.is_active:
        raise _fail(_("This brand is not supplied any more."), "brand")
    if not 1 <= cartons <= MAX_EMERGENCY_CARTONS:
        raise _fail(
            _("An emergency delivery is 1 to %(max)s cartons.") % {"max": MAX_EMERGENCY_CARTONS},
            "cartons",
        )
    if visit is not None and visit.retailer_id != retailer.pk:
        raise _fail(_("The visit is at another retailer."), "visit")
    return EmergencyRequest.objects.create(
        retailer=retailer,
        visit=visit,
        brand=brand,
        cartons=cartons,
        note=note.strip()[:200],
        requested_by=by,
        requested_at=timezone.now(),
    )
