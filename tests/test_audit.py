"""Audit history (``config.audit``): what is recorded, and the supervisor's page ``/audit/``."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import SupervisorFactory
from allocation import services as allocation_services
from allocation.models import AllocationRun, RunStatus, ScarceSupply
from config import audit
from config.models import AuditAction, AuditEntry
from retailers.models import Retailer, StarChange
from settlement import services as settlement_services
from settlement.models import SettlementAccount
from territory.models import District
from visits import services as visit_services
from visits.models import ServicePolicy

pytestmark = pytest.mark.django_db


def town_account() -> SettlementAccount:
    return SettlementAccount.objects.filter(retailer__route__district__code="YC-XZ").first()


def city_account() -> SettlementAccount:
    return SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ").first()


def test_a_policy_change_is_recorded_with_only_what_changed(demo):
    policy = ServicePolicy.objects.get(star=5)
    before = policy.min_stay_minutes
    visit_services.service_policy_update(
        policy=policy,
        by=demo["supervisor"],
        visits=policy.visits,
        period_cycles=policy.period_cycles,
        min_stay_minutes=before + 5,
        activities=policy.activities,
        emergency_delivery=policy.emergency_delivery,
    )
    entry = AuditEntry.objects.filter(action=AuditAction.POLICY_CHANGED).latest("id")
    assert entry.actor == demo["supervisor"]
    assert entry.before == {"min_stay_minutes": before}
    assert entry.after == {"min_stay_minutes": before + 5}
    assert entry.target_id == str(policy.pk)
    assert entry.district_id is None


def test_supply_edit_and_run_approval_and_publication_are_recorded(demo):
    supply = ScarceSupply.objects.filter(runs__status=RunStatus.PUBLISHED).first()
    params = allocation_services._params_of(supply)
    changed = allocation_services.SupplyParams(
        quantity=params.quantity + params.unit,
        unit=params.unit,
        min_star=params.min_star,
        caps=params.caps,
        minimum=params.minimum,
        violation_cycles=params.violation_cycles,
    )
    allocation_services.supply_update(supply=supply, params=changed, by=demo["supervisor"])
    entry = AuditEntry.objects.filter(action=AuditAction.SUPPLY_CHANGED).latest("id")
    assert entry.before == {"quantity": params.quantity}
    assert entry.after == {"quantity": params.quantity + params.unit}

    run, _created = allocation_services.allocation_run_request(
        supply=supply, by=demo["supervisor"], reason="more supply", enqueue=False
    )
    allocation_services.allocation_run_compute(run_id=run.pk)
    run = AllocationRun.objects.get(pk=run.pk)
    assert run.status == RunStatus.DRAFT
    allocation_services.allocation_run_approve(run=run, by=demo["supervisor"])
    allocation_services.allocation_run_publish(run=run, by=demo["supervisor"])
    actions = list(
        AuditEntry.objects.filter(target_id=str(run.pk))
        .order_by("id")
        .values_list("action", "before", "after")
    )
    assert actions[-2:] == [
        (AuditAction.RUN_APPROVED, {"status": "draft"}, {"status": "approved"}),
        (AuditAction.RUN_PUBLISHED, {"status": "approved"}, {"status": "published"}),
    ]
    older = AuditEntry.objects.filter(action=AuditAction.RUN_SUPERSEDED).latest("id")
    assert older.after["superseded_by"] == run.number
    assert older.reason == "more supply"


def test_an_account_change_is_recorded_without_the_number(demo):
    account = city_account()
    account.bank_name = "New Bank"
    settlement_services.settlement_account_save(
        account=account, by=demo["admin"], new_number="6222020200001234567"
    )
    entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_CHANGED)
    assert entry.after["bank_name"] == "New Bank"
    assert entry.after["account_number_changed"] is True
    assert entry.after["account_last4"] == "4567"
    assert "6222020200001234567" not in str(entry.before) + str(entry.after)
    assert entry.district_id == account.retailer.route.district_id
    account.refresh_from_db()
    assert account.account_number == "6222020200001234567"


def test_a_balance_push_is_summarised_in_one_entry(demo):
    accounts = list(SettlementAccount.objects.order_by("pk")[:3])
    now = timezone.now()
    entries = [settlement_services.BalanceEntry(a.reference, a.balance + 1, now) for a in accounts]
    settlement_services.balances_update(entries=entries, by=demo["supervisor"])
    entry = AuditEntry.objects.get(action=AuditAction.BALANCES_IMPORTED)
    assert entry.after == {"updated": 3, "stale": 0}
    assert entry.target_type is None


def test_a_failed_change_leaves_no_entry(demo):
    count = AuditEntry.objects.count()
    supply = ScarceSupply.objects.first()
    params = allocation_services._params_of(supply)
    bad = allocation_services.SupplyParams(
        quantity=-1,
        unit=params.unit,
        min_star=params.min_star,
        caps=params.caps,
        minimum=params.minimum,
        violation_cycles=params.violation_cycles,
    )
    with pytest.raises(Exception, match="correct"):
        allocation_services.supply_update(supply=supply, params=bad, by=demo["supervisor"])
    assert AuditEntry.objects.count() == count


def test_the_request_address_is_recorded(client, demo):
    client.force_login(demo["supervisor"])
    account = city_account()
    client.post(reverse("settlement:account-reveal", args=[account.pk]), REMOTE_ADDR="10.1.2.3")
    assert AuditEntry.objects.get(action=AuditAction.ACCOUNT_REVEALED).ip == "10.1.2.3"


# --- the page -------------------------------------------------------------------------------


@pytest.fixture
def history(demo):
    """Only these: an entry in each district, one branch-wide, a star change in each district."""
    AuditEntry.objects.all().delete()
    town = town_account()
    city = city_account()
    audit.record(
        actor=demo["admin"],
        action=AuditAction.ACCOUNT_CHANGED,
        target=town,
        district_id=town.retailer.route.district_id,
        after={"bank_name": "Town bank"},
        label="TOWN-ACCOUNT",
    )
    audit.record(
        actor=demo["admin"],
        action=AuditAction.ACCOUNT_CHANGED,
        target=city,
        district_id=city.retailer.route.district_id,
        after={"bank_name": "City bank"},
        label="CITY-ACCOUNT",
    )
    audit.record(
        actor=demo["supervisor"],
        action=AuditAction.POLICY_CHANGED,
        target=ServicePolicy.objects.get(star=5),
        label="POLICY-5",
        before={"visits": 2},
        after={"visits": 3},
        at=timezone.now() - dt.timedelta(days=40),
    )
    StarChange.objects.filter(created_at__lt=timezone.now()).delete()  # the seed's history
    for code, name in (("YC-XZ", "TOWN-SHOP"), ("YC-CQ", "CITY-SHOP")):
        shop = Retailer.objects.filter(route__district__code=code).first()
        Retailer.objects.filter(pk=shop.pk).update(name=name)
        StarChange.objects.create(
            retailer=shop,
            star=5,
            effective_from=timezone.localdate() + dt.timedelta(days=400),
            reason="re-rated",
            changed_by=demo["supervisor"],
        )
    return demo


def page_text(client, **params) -> str:
    response = client.get(reverse("audit"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_managers_may_not_read_the_history(client, history):
    for name in ("manager", "manager2"):
        client.force_login(history[name])
        assert client.get(reverse("audit")).status_code == 403
    client.logout()
    assert client.get(reverse("audit")).status_code == 302


LABELS = ("CITY-ACCOUNT", "TOWN-ACCOUNT", "POLICY-5", "CITY-SHOP", "TOWN-SHOP")


def shown(client, **params) -> set[str]:
    """Which of the fixture's targets the page lists."""
    text = page_text(client, **params)
    return {label for label in LABELS if label in text}


def test_a_supervisor_reads_only_their_districts_history(client, history):
    client.force_login(history["supervisor"])
    # The policy is branch-wide (no district): every supervisor reads it.
    assert shown(client) == {"CITY-ACCOUNT", "CITY-SHOP", "POLICY-5"}


def test_the_administrator_reads_everything(client, history):
    client.force_login(history["admin"])
    assert shown(client) == set(LABELS)


def test_a_second_supervisor_sees_the_town_only(client, history):
    other = SupervisorFactory()
    District.objects.filter(code="YC-XZ").update(supervisor=other)
    client.force_login(other)
    assert shown(client) == {"TOWN-ACCOUNT", "TOWN-SHOP", "POLICY-5"}


def test_filters_by_kind_actor_dates_and_target(client, history):
    client.force_login(history["admin"])
    assert shown(client, kind="star.changed") == {"CITY-SHOP", "TOWN-SHOP"}
    assert shown(client, kind=AuditAction.POLICY_CHANGED) == {"POLICY-5"}
    assert shown(client, actor="admin") == {"CITY-ACCOUNT", "TOWN-ACCOUNT"}
    old = (timezone.localdate() - dt.timedelta(days=40)).isoformat()
    assert shown(client, since=old, until=old) == {"POLICY-5"}
    assert shown(client, target="TOWN") == {"TOWN-ACCOUNT", "TOWN-SHOP"}


def test_bad_filters_are_a_400(client, history):
    client.force_login(history["admin"])
    response = client.get(reverse("audit"), {"since": "2026-12-02", "until": "2026-12-01"})
    assert response.status_code == 400
    assert client.get(reverse("audit"), {"kind": "nope"}).status_code == 400
    assert client.get(reverse("audit"), {"since": "not a date"}).status_code == 400


def test_the_history_is_paginated_newest_first(client, history):
    target = ServicePolicy.objects.get(star=4)
    for i in range(60):
        audit.record(
            actor=history["admin"],
            action=AuditAction.POLICY_CHANGED,
            target=target,
            label=f"P{i:02d}",
            at=timezone.now() + dt.timedelta(minutes=i),
        )
    client.force_login(history["admin"])
    first = client.get(reverse("audit"))
    rows = first.context["page"].object_list
    assert len(rows) == 50
    assert rows[0].target == "P59"
    assert first.context["page"].paginator.count == 65
    second = client.get(reverse("audit"), {"page": 2}).context["page"].object_list
    assert len(second) == 15
