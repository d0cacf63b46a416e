"""``manage.py generate_province``: a province-scale data set built with COPY (issue 7)."""

from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Sum

from accounts.models import Role, User
from allocation.models import AllocationLine, PointsEntry, RunStatus, ScarceSupply
from retailers.models import Retailer, RetailerStatus, StarChange, StatusChange
from settlement.models import Order, OrderLine, SettlementAccount
from territory.models import District, Route
from visits import province
from visits.models import VisitPlan

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

N = 300
BIG_TABLES = [m._meta.db_table for m in (Retailer, StarChange, StatusChange, Order, OrderLine)]


def index_definitions() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [BIG_TABLES]
        )
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid::regclass::text = ANY(%s)",
            [BIG_TABLES],
        )
        return indexes | set(cursor.fetchall())


@pytest.fixture
def generated(demo):
    before = index_definitions()
    report = province.generate(retailers=N, seed=3, log=lambda _m: None, vacuum=False)
    return report, before


def mine():
    return Retailer.objects.filter(licence_number__startswith=province.LICENCE_PREFIX)


def test_retailers_sit_on_routes_of_realistic_size_with_one_weekday_each(generated):
    report, _before = generated
    assert mine().count() == N == report.counts["retailers"]
    routes = Route.objects.filter(district__branch__code=province.BRANCH_CODE).annotate(
        n=Count("retailers")
    )
    sizes = sorted(route.n for route in routes)
    assert sum(sizes) == N
    assert all(50 <= size <= 120 for size in sizes[1:])  # the last route takes the rest
    assert 1 <= sizes[0] <= 120
    for route in routes:
        stops = list(route.retailers.order_by("stop_order").values_list("stop_order", flat=True))
        assert stops == list(range(1, route.n + 1))
    # One manager per up to five routes, each route on its own weekday, Monday to Friday.
    by_manager: dict[int, list[int]] = {}
    for route in routes:
        by_manager.setdefault(route.account_manager_id, []).append(route.visit_weekday)
        assert route.delivery_weekday == route.visit_weekday + 1
    for weekdays in by_manager.values():
        assert sorted(weekdays) == list(range(len(weekdays)))
    assert User.objects.filter(pk__in=by_manager, role=Role.ACCOUNT_MANAGER).count() == len(
        by_manager
    )
    district = District.objects.get(branch__code=province.BRANCH_CODE)
    assert district.supervisor.role == Role.SUPERVISOR
    assert User.objects.get(username=province.ADMIN_USERNAME).role == Role.ADMIN


def test_history_ends_in_the_current_star_and_status(generated):
    for retailer in mine().prefetch_related("star_history", "status_history"):
        stars = sorted(retailer.star_history.all(), key=lambda c: c.effective_from)
        statuses = sorted(retailer.status_history.all(), key=lambda c: c.effective_from)
        assert stars[-1].star == retailer.star
        assert statuses[0].status == RetailerStatus.ACTIVE
        assert statuses[0].effective_from == stars[0].effective_from == retailer.opened_on
        assert statuses[-1].status == retailer.status


def test_e_settlement_retailers_have_encrypted_accounts(generated):
    payers = mine().filter(payment_method="e_settlement")
    accounts = SettlementAccount.objects.filter(retailer__in=mine())
    assert accounts.count() == payers.count() > 0
    assert set(accounts.values_list("retailer_id", flat=True)) == set(
        payers.values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT account_number FROM {SettlementAccount._meta.db_table} LIMIT 1"  # noqa: S608
        )
        stored = cursor.fetchone()[0]
    assert stored.startswith("gAAAA")  # a Fernet token, not the number
    for account in accounts[:20]:
        assert len(account.account_number) == 19
        assert account.account_number.endswith(account.account_last4)


def test_orders_are_priced_like_order_create(generated):
    orders = Order.objects.filter(retailer__in=mine())
    assert orders.values("cycle").distinct().count() == 4
    lines = OrderLine.objects.filter(order__in=orders)
    assert lines.count() == generated[0].counts["order lines"]
    assert 4 <= lines.count() / orders.count() <= 6
    for order in orders.prefetch_related("lines__brand")[:200]:
        brands = [line.brand_id for line in order.lines.all()]
        assert len(brands) == len(set(brands))
        total = rebate = Decimal("0.00")
        for line in order.lines.all():
            online = order.channel == "online"
            assert line.wholesale_price == line.brand.wholesale_price
            assert line.unit_price == (
                line.brand.wholesale_price if online else line.brand.list_price
            )
            total += line.unit_price * line.cartons
            rebate += (line.unit_price - line.wholesale_price) * line.cartons
        assert order.total_amount == total
        assert order.rebate_amount == rebate
        expected = "placed" if order.retailer.payment_method == "cash" else order.status
        assert order.status == expected


def test_points_allocation_and_plan_come_from_the_real_jobs(generated):
    orders = Order.objects.filter(retailer__in=mine())
    for cycle_id, ordered in Counter(
        orders.values_list("cycle_id", "retailer_id").distinct().values_list("cycle_id", flat=True)
    ).items():
        assert PointsEntry.objects.filter(cycle_id=cycle_id, retailer__in=mine()).count() == ordered
    supplies = ScarceSupply.objects.filter(branch__code=province.BRANCH_CODE)
    assert supplies.count() == 5
    (run,) = [r for s in supplies for r in s.runs.all()]
    assert run.status == RunStatus.PUBLISHED
    lines = AllocationLine.objects.filter(run=run)
    assert lines.count() == mine().filter(status=RetailerStatus.ACTIVE).count()
    assert lines.aggregate(n=Sum("award"))["n"] == run.allocated > 0
    assert VisitPlan.objects.filter(retailer__in=mine(), cycle=supplies[0].cycle).count() > 0


def test_indexes_and_sequences_are_back(generated):
    _report, before = generated
    assert index_definitions() == before
    ids = mine().aggregate(low=Min("pk"), high=Max("pk"))
    retailer = Retailer.objects.create(
        licence_number="ZZ0000000001",
        name="新店",
        route=Route.objects.filter(district__branch__code=province.BRANCH_CODE).first(),
        business_type="grocery",
    )
    assert retailer.pk > ids["high"]


def test_the_same_seed_gives_the_same_retailers(demo):
    def fingerprint():
        with transaction.atomic():
            province.generate(retailers=120, seed=11, log=lambda _m: None, vacuum=False)
            rows = list(
                mine()
                .order_by("licence_number")
                .values_list(
                    "licence_number", "name", "star", "status", "route__code", "stop_order"
                )
            )
            transaction.set_rollback(True)
        return rows

    first = fingerprint()
    assert len(first) == 120
    assert fingerprint() == first


def test_a_second_data_set_is_refused(generated):
    with pytest.raises(province.ProvinceError, match="already holds a province data set"):
        province.generate(retailers=N, seed=3, log=lambda _m: None, vacuum=False)


def test_the_command_refuses_data_it_did_not_make(demo):
    Retailer.objects.create(
        licence_number="REAL00000001",
        name="真实客户",
        route=Route.objects.first(),
        business_type="grocery",
    )
    with pytest.raises(CommandError, match="neither demo nor generated data"):
        call_command("generate_province", "--retailers", "200", stdout=StringIO())
    assert not mine().exists()


@pytest.mark.parametrize("size", ["0", "99", "20000001"])
def test_the_command_refuses_a_bad_size(demo, size):
    with pytest.raises(CommandError, match="--retailers must be from 100"):
        call_command("generate_province", "--retailers", size, stdout=StringIO())
    assert not mine().exists()
