"""The demo district reproduces the source document's figures exactly (DESIGN §1)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from config.dates import quarter_start
from retailers.models import Retailer, RetailerStatus, StarChange
from retailers.selectors import district_summary
from settlement.models import (
    BalanceReminder,
    Debit,
    Order,
    Rebate,
    RebateRun,
    SettlementAccount,
)
from territory.models import Branch, District


def run_seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_today_route_table_matches_the_source(demo):
    summary = district_summary(
        user=demo["supervisor"],
        district=District.objects.get(code="YC-CQ"),
        as_of=timezone.localdate(),
    )
    assert {row.label: row.retailers for row in summary.rows} == {
        "A": 59,
        "B": 78,
        "C": 59,
        "D": 57,
        "E": 55,
    }
    assert summary.total.retailers == 308
    assert summary.total.e_settlement == 278
    assert str(summary.total.e_settlement_share) == "90.3"
    assert summary.total.online == 12


def test_quarter_start_star_table_matches_the_source(demo):
    summary = district_summary(
        user=demo["supervisor"],
        district=District.objects.get(code="YC-CQ"),
        as_of=quarter_start(timezone.localdate()),
    )
    assert summary.total.retailers == 310
    assert summary.total.stars == [18, 100, 142, 42, 7, 1]


def test_two_retailers_closed_after_the_quarter_start_keep_their_star(demo):
    closed = Retailer.objects.filter(route__district__code="YC-CQ", status=RetailerStatus.CLOSED)
    assert closed.count() == 2
    for retailer in closed:
        assert retailer.star is not None
        closing = retailer.status_history.get(status=RetailerStatus.CLOSED)
        assert closing.effective_from > quarter_start(timezone.localdate())
        assert (
            StarChange.objects.filter(retailer=retailer).order_by("-effective_from")[0].star
            == retailer.star
        )


def test_demo_has_the_people_brands_and_programs_the_issue_names(demo):
    assert demo["supervisor"].supervised_districts.get().code == "YC-CQ"
    assert sorted(demo["manager"].routes.values_list("code", flat=True)) == [
        "A",
        "B",
        "C",
        "D",
        "E",
    ]
    assert (
        demo["manager2"].routes.values_list("district__code", flat=True).distinct().get() == "YC-XZ"
    )
    assert demo["manager2"].check_password("demo1234")
    city = Retailer.objects.filter(route__district__code="YC-CQ", status=RetailerStatus.ACTIVE)
    for code in "ABCDE":
        assert city.filter(route__code=code, is_demonstration_store=True).count() == 5
    assert city.filter(business_type__in=["catering", "entertainment"]).count() > 10
    assert 3 <= city.filter(needs_assistance=True).count() <= 10
    assert set(city.values_list("integrity_level", flat=True)) >= {"A", "B", "C"}
    e_settlement = city.filter(payment_method="e_settlement")
    assert SettlementAccount.objects.filter(retailer__in=e_settlement).count() == 278
    from catalog.models import Brand

    names = set(Brand.objects.values_list("name", flat=True))
    for word in ("七匹狼", "长白山", "黄金叶", "贵烟"):
        assert any(word in name for name in names)
    assert Brand.objects.filter(is_scarce=True).count() >= 3


def test_second_run_changes_nothing(demo):
    before = (Retailer.objects.count(), StarChange.objects.count(), User.objects.count())
    output = run_seed()
    assert "nothing changed" in output
    assert (Retailer.objects.count(), StarChange.objects.count(), User.objects.count()) == before


def test_seed_is_deterministic(demo):
    def snapshot():
        return list(
            Retailer.objects.order_by("licence_number").values_list(
                "licence_number",
                "name",
                "route__code",
                "star",
                "status",
                "payment_method",
                "ordering_channel",
                "business_type",
            )
        )

    first = snapshot()
    from allocation.tests.conftest import clear_allocation_data

    clear_allocation_data()
    for model in (BalanceReminder, Debit, Order, Rebate, RebateRun, SettlementAccount):
        model.objects.all().delete()
    Retailer.objects.all().delete()
    run_seed()
    assert snapshot() == first


def test_refuses_a_database_with_other_data_unless_forced(demo):
    Branch.objects.create(code="REAL", name="Real branch")
    before = Retailer.objects.count()
    with pytest.raises(CommandError, match="not demo data"):
        run_seed()
    assert Retailer.objects.count() == before
    assert "nothing changed" in run_seed("--force")


def test_password_option(demo):
    run_seed("--password", "another-pass")
    assert User.objects.get(username="manager").check_password("another-pass")
    with pytest.raises(CommandError, match="at least 4"):
        run_seed("--password", "x")
