import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Brand
from retailers.models import BusinessType, Retailer
from retailers.tests.factories import RetailerFactory
from territory.selectors import visible_routes
from visits import services
from visits.models import (
    EmergencyRequest,
    FollowUp,
    ServicePolicy,
    ServicePolicyChange,
    StockObservation,
    Visit,
    VisitPlan,
)
from visits.tests.factories import VisitFactory, VisitPlanFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(world):
    """A 4★ of am1, planned today."""
    retailer = world.shops_r1[2]
    VisitPlanFactory(retailer=retailer, sequence=0, day=timezone.localdate())
    return retailer


def city(code="A"):
    return Retailer.objects.filter(route__district__code="YC-CQ", route__code=code)


def test_account_managers_start_on_today(client, demo):
    client.force_login(demo["manager"])
    assert client.get(reverse("home"))["Location"] == reverse("visits:today")
    client.force_login(demo["supervisor"])
    assert client.get(reverse("home"))["Location"] == reverse("retailers:district-summary")


def test_pages_require_login(client, world, shop):
    for url in (
        reverse("visits:today"),
        reverse("visits:card", args=[shop.pk]),
        reverse("visits:policies"),
        reverse("visits:plan"),
        reverse("visits:compliance"),
        reverse("visits:compliance-summary-csv"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_today_lists_the_plan_with_focus_and_follow_ups(client, world, shop):
    earlier = VisitFactory(retailer=shop, checked_in_at=timezone.now() - dt.timedelta(days=7))
    FollowUp.objects.create(retailer=shop, text="回访新品试销", created_in=earlier)
    client.force_login(world.am1)
    response = client.get(reverse("visits:today"))
    assert response.status_code == 200
    body = response.content.decode()
    assert [row.retailer for row in response.context["rows"]] == [shop]
    assert shop.name in body
    assert "回访新品试销" in body
    assert "Law and regulation" in body
    assert reverse("visits:card", args=[shop.pk]) in body
    client.force_login(world.am2)
    assert client.get(reverse("visits:today")).context["rows"] == []


def test_today_other_days_and_bad_day(client, world, shop):
    client.force_login(world.am1)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.get(reverse("visits:today"), {"day": tomorrow.isoformat()})
    assert response.context["rows"] == []
    response = client.get(reverse("visits:today"), {"day": "2026-13-45"})
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()


def test_full_logging_flow_through_the_pages(client, world, shop, demo):
    brand = Brand.objects.get(name="中华(硬)")
    client.force_login(world.am1)
    card = client.get(reverse("visits:card", args=[shop.pk]))
    assert card.status_code == 200
    assert 'id="check-in-form"' in card.content.decode()
    response = client.post(
        reverse("visits:check-in", args=[shop.pk]), {"latitude": "34.412345", "longitude": "115.86"}
    )
    visit = Visit.objects.get(retailer=shop)
    assert response["Location"] == reverse("visits:visit", args=[visit.pk])
    assert visit.plan is not None
    assert str(visit.latitude) == "34.412345"
    page = client.get(reverse("visits:visit", args=[visit.pk]))
    assert list(page.context["form"].fields["activities"].choices) == [
        ("law", "Law and regulation"),
        ("inventory", "Inventory guidance"),
        ("substitutes", "Substitute brands"),
    ]
    response = client.post(
        reverse("visits:visit", args=[visit.pk]),
        {
            "activities": ["law", "substitutes"],
            "notes": "讲解了替代品牌",
            "feedback": "希望多给紧俏烟",
            "follow_ups": "带宣传资料\n检查价签",
            "stock-TOTAL_FORMS": "3",
            "stock-INITIAL_FORMS": "0",
            "stock-0-brand": str(brand.pk),
            "stock-0-cartons_on_hand": "6",
            "stock-0-retail_price": "480",
            "stock-0-sales_last_cycle": "4",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:card", args=[shop.pk]) + "#history"
    visit.refresh_from_db()
    assert visit.checked_out_at is not None
    assert visit.activities == ["law", "substitutes"]
    assert visit.stock.get().cartons_on_hand == 6
    assert list(FollowUp.objects.filter(created_in=visit).values_list("text", flat=True)) == [
        "带宣传资料",
        "检查价签",
    ]
    history = client.get(reverse("visits:card", args=[shop.pk]))
    assert history.context["card"].history == [visit]
    assert "讲解了替代品牌" in history.content.decode()
    detail = client.get(reverse("visits:visit", args=[visit.pk])).content.decode()
    assert "希望多给紧俏烟" in detail
    assert "中华(硬)" in detail


def test_check_in_works_without_a_position(client, world, shop):
    client.force_login(world.am1)
    response = client.post(reverse("visits:check-in", args=[shop.pk]), {})
    assert response.status_code == 302
    assert Visit.objects.get(retailer=shop).latitude is None


@pytest.mark.parametrize(
    "data",
    [
        {"latitude": "91", "longitude": "0"},
        {"latitude": "30", "longitude": ""},
        {"latitude": "abc", "longitude": "1"},
    ],
)
def test_check_in_bad_position_is_a_400(client, world, shop, data):
    client.force_login(world.am1)
    response = client.post(reverse("visits:check-in", args=[shop.pk]), data)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert not Visit.objects.filter(retailer=shop).exists()


def test_second_check_in_is_a_400_and_saves_nothing(client, world, shop):
    client.force_login(world.am1)
    client.post(reverse("visits:check-in", args=[shop.pk]), {})
    other = world.shops_r1[3]
    response = client.post(reverse("visits:check-in", args=[other.pk]), {})
    assert response.status_code == 400
    assert "still checked in at" in response.content.decode()
    assert Visit.objects.filter(account_manager=world.am1).count() == 1


def test_retailers_of_others_are_invisible(client, world, shop):
    client.force_login(world.am2)
    assert client.get(reverse("visits:card", args=[shop.pk])).status_code == 404
    assert client.post(reverse("visits:check-in", args=[shop.pk]), {}).status_code == 404
    assert not Visit.objects.filter(retailer=shop).exists()
    visit = services.visit_check_in(retailer=shop, by=world.am1)
    assert client.get(reverse("visits:visit", args=[visit.pk])).status_code == 404
    assert client.post(reverse("visits:visit", args=[visit.pk]), {}).status_code == 404
    # The supervisor sees the visit but cannot close it for the manager.
    client.force_login(world.boss)
    assert client.get(reverse("visits:visit", args=[visit.pk])).status_code == 200
    assert client.post(reverse("visits:visit", args=[visit.pk]), {}).status_code == 403
    assert Visit.objects.get(pk=visit.pk).is_open


def stock_post(**row):
    data = {"stock-TOTAL_FORMS": "3", "stock-INITIAL_FORMS": "0"}
    data |= {f"stock-0-{key}": value for key, value in row.items()}
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (stock_post(brand="BRAND", cartons_on_hand="-5"), "greater than or equal to 0"),
        (stock_post(brand="BRAND", cartons_on_hand="99999"), "less than or equal to 2000"),
        (stock_post(brand="BRAND", cartons_on_hand="1", retail_price="1"), "between"),
        (stock_post(brand="BRAND", cartons_on_hand="1", sales_last_cycle="-1"), "greater than"),
        (stock_post(brand="BRAND"), "This field is required"),
        ({**stock_post(), "activities": ["promote_brands"]}, "not one of the available"),
        ({**stock_post(), "follow_ups": "a\nb\nc\nd\ne\nf"}, "At most 5"),
        ({**stock_post(), "notes": "x" * 2001}, "at most 2000"),
        ({**stock_post(), "left_at": "25:99"}, "Enter a valid time"),
    ],
)
def test_check_out_bad_input_is_a_400_and_the_visit_stays_open(
    client, world, shop, demo, data, message
):
    brand = Brand.objects.get(name="中华(硬)")
    data = {k: (str(brand.pk) if v == "BRAND" else v) for k, v in data.items()}
    client.force_login(world.am1)
    visit = services.visit_check_in(retailer=shop, by=world.am1)
    response = client.post(reverse("visits:visit", args=[visit.pk]), {"notes": "写了", **data})
    assert response.status_code == 400
    assert message in response.content.decode()
    visit.refresh_from_db()
    assert (visit.checked_out_at, visit.notes) == (None, "")
    assert not StockObservation.objects.filter(visit=visit).exists()
    assert not FollowUp.objects.filter(created_in=visit).exists()


def test_check_out_before_check_in_time_is_a_400(client, world, shop):
    client.force_login(world.am1)
    visit = services.visit_check_in(retailer=shop, by=world.am1)
    before = timezone.localtime(visit.checked_in_at) - dt.timedelta(minutes=5)
    if timezone.localdate(visit.checked_in_at) != before.date():
        pytest.skip("checked in just after midnight")
    response = client.post(
        reverse("visits:visit", args=[visit.pk]),
        {**stock_post(), "left_at": before.strftime("%H:%M")},
    )
    assert response.status_code == 400
    assert "before the check-in time" in response.content.decode()
    assert Visit.objects.get(pk=visit.pk).is_open


def test_unplanned_visit_via_search_and_card(client, world, shop):
    other = world.shops_r2[1]
    client.force_login(world.am1)
    response = client.get(reverse("visits:find"), {"q": other.licence_number})
    assert response.context["results"] == [other]
    response = client.get(reverse("visits:find"), {"q": world.shops_r3[0].licence_number})
    assert response.context["results"] == []
    client.post(reverse("visits:check-in", args=[other.pk]), {})
    assert Visit.objects.get(retailer=other).is_unplanned


def test_emergency_request_from_the_card(client, world, demo):
    brand = Brand.objects.get(name="中华(硬)")
    venue = RetailerFactory(route=world.r1, star=3, business_type=BusinessType.ENTERTAINMENT)
    client.force_login(world.am1)
    card = client.get(reverse("visits:card", args=[venue.pk]))
    assert 'id="emergency-form"' in card.content.decode()
    url = reverse("visits:emergency", args=[venue.pk])
    response = client.post(url, {"brand": brand.pk, "cartons": "0"})
    assert response.status_code == 400
    response = client.post(url, {"brand": brand.pk, "cartons": "3", "note": "周末"})
    assert response.status_code == 302
    assert EmergencyRequest.objects.get(retailer=venue).cartons == 3
    small = world.shops_r1[4]
    assert (
        'id="emergency-form"'
        not in client.get(reverse("visits:card", args=[small.pk])).content.decode()
    )
    response = client.post(
        reverse("visits:emergency", args=[small.pk]), {"brand": brand.pk, "cartons": "3"}
    )
    assert response.status_code == 400
    assert "not eligible" in response.content.decode()
    assert EmergencyRequest.objects.filter(retailer=small).count() == 0


# --- Supervisor pages -------------------------------------------------------------------------


def test_policy_pages_are_for_supervisors(client, world):
    client.force_login(world.am1)
    assert client.get(reverse("visits:policies")).status_code == 403
    assert client.post(reverse("visits:policy-edit", args=[5]), {}).status_code == 403
    client.force_login(world.boss)
    response = client.get(reverse("visits:policies"))
    assert response.status_code == 200
    assert [p.star for p in response.context["policies"]] == [5, 4, 3, 2, 1, 0]
    assert client.get(reverse("visits:policy-edit", args=[9])).status_code == 404


def test_supervisor_edits_a_policy_and_the_change_is_kept(client, world):
    client.force_login(world.boss)
    url = reverse("visits:policy-edit", args=[5])
    form = client.get(url).context["form"]
    assert form.initial["visits"] == 2
    response = client.post(
        url,
        {
            "visits": "3",
            "period_cycles": "1",
            "min_stay_minutes": "25",
            "activities": ["promote_brands", "inventory"],
            "emergency_delivery": "on",
        },
    )
    assert response.status_code == 302
    five = ServicePolicy.objects.get(star=5)
    assert (five.visits, five.min_stay_minutes, five.activities) == (
        3,
        25,
        ["promote_brands", "inventory"],
    )
    change = ServicePolicyChange.objects.get(policy=five)
    assert change.changed_by == world.boss
    assert str(world.boss) in client.get(reverse("visits:policies")).content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"visits": "0", "period_cycles": "1", "min_stay_minutes": "10"},
        {"visits": "2", "period_cycles": "9", "min_stay_minutes": "10"},
        {"visits": "2", "period_cycles": "1", "min_stay_minutes": "-4"},
        {"visits": "x", "period_cycles": "1", "min_stay_minutes": "10"},
        {"visits": "2", "period_cycles": "1", "min_stay_minutes": "10", "activities": ["nap"]},
    ],
)
def test_bad_policy_input_is_a_400_and_changes_nothing(client, world, data):
    client.force_login(world.boss)
    before = ServicePolicy.objects.get(star=3).snapshot()
    response = client.post(reverse("visits:policy-edit", args=[3]), data)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert ServicePolicy.objects.get(star=3).snapshot() == before
    assert not ServicePolicyChange.objects.exists()


def test_plan_page_runs_the_task_on_demand(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.boss)
    response = client.get(reverse("visits:plan"), {"cycle": world.c1.code})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("visits:plan-run"), {"cycle": world.c1.code})
    assert response.status_code == 302
    assert len(callbacks) == 1
    planned = VisitPlan.objects.filter(cycle=world.c1)
    assert planned.count() > 0
    assert set(planned.values_list("route__district", flat=True)) == {world.district.pk}
    response = client.get(reverse("visits:plan"), {"cycle": world.c1.code, "route": world.r3.pk})
    assert {e.route for e in response.context["page"]} == {world.r3}
    response = client.post(reverse("visits:plan-run"), {"cycle": "nope"})
    assert response.status_code == 302
    client.force_login(world.am1)
    assert client.post(reverse("visits:plan-run"), {"cycle": world.c1.code}).status_code == 403
    assert client.get(reverse("visits:plan")).status_code == 403


def test_supervisor_moves_and_adds_entries(client, world):
    services.visit_plan_generate(cycle=world.c1, district_ids=[world.district.pk])
    entry = VisitPlan.objects.get(cycle=world.c1, retailer=world.shops_r3[0])
    client.force_login(world.boss)
    url = reverse("visits:plan-move", args=[entry.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"day": "2040-01-01"})
    assert response.status_code == 400
    assert "Choose a day of cycle" in response.content.decode()
    friday = world.c1.start_date + dt.timedelta(days=4)
    assert client.post(url, {"day": friday.isoformat()}).status_code == 302
    entry.refresh_from_db()
    assert (entry.day, entry.moved_by) == (friday, world.boss)
    add = reverse("visits:plan-add")
    shop = world.shops_r3[1]
    response = client.post(add, {"licence_number": shop.licence_number, "day": friday.isoformat()})
    assert response.status_code == 302
    assert VisitPlan.objects.filter(retailer=shop, day=friday).exists()
    response = client.post(add, {"licence_number": world.unmanaged.licence_number, "day": friday})
    assert response.status_code == 400
    assert "No retailer of yours" in response.content.decode()
    client.force_login(world.other_boss)
    assert client.get(url).status_code == 404


def test_compliance_page_and_csv(client, world):
    ServicePolicy.objects.filter(star__in=[1, 2]).update(period_cycles=1)
    services.visit_plan_generate(cycle=world.c1, district_ids=[world.district.pk])
    world.shops_r1[3].name = '=HYPERLINK("http://x")'
    world.shops_r1[3].save()
    client.force_login(world.boss)
    response = client.get(reverse("visits:compliance"), {"cycle": world.c1.code})
    assert response.status_code == 200
    assert response.context["report"].total.planned == 17
    summary = client.get(reverse("visits:compliance-summary-csv"), {"cycle": world.c1.code})
    assert summary["Content-Type"] == "text/csv; charset=utf-8"
    assert "compliance-2031-W02-summary.csv" in summary["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(summary.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Group", "Name", "Planned", "Done"]
    assert rows[1][:4] == ["Total", "Total", "17", "0"]
    assert [r[1] for r in rows if r[0] == "Route"] == ["R1", "R2", "R3"]
    missed = client.get(reverse("visits:compliance-missed-csv"), {"cycle": world.c1.code})
    rows = list(csv.reader(io.StringIO(missed.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 14
    names = [r[1] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    assert not any(name.startswith("=") for name in names)
    bad = client.get(reverse("visits:compliance-summary-csv"), {"cycle": "2099-W99"})
    assert bad.status_code == 400
    assert client.get(reverse("visits:compliance"), {"district": "abc"}).status_code == 400
    client.force_login(world.am1)
    assert client.get(reverse("visits:compliance")).status_code == 403


def test_compliance_of_the_demo_district(client, demo):
    client.force_login(demo["supervisor"])
    response = client.get(reverse("visits:compliance"))
    report = response.context["report"]
    # How many are planned depends on the week's parity (1–2★: every other cycle); the report
    # must count exactly the cycle's plan entries of the district, split over its routes.
    planned = VisitPlan.objects.filter(
        cycle=report.cycle, route__in=visible_routes(demo["supervisor"])
    ).count()
    assert planned > 250
    assert report.total.planned == planned
    assert sum(row.planned for row in report.by_route) == planned
    assert {row.label for row in report.by_route} == {"A", "B", "C", "D", "E"}


def test_nav_links_by_role(client, demo):
    client.force_login(demo["manager"])
    body = client.get(reverse("retailers:list")).content.decode()
    assert reverse("visits:today") in body
    assert reverse("visits:compliance") not in body
    client.force_login(demo["supervisor"])
    body = client.get(reverse("retailers:list")).content.decode()
    assert reverse("visits:compliance") in body
    assert reverse("visits:policies") in body
    assert reverse("visits:today") not in body


def test_manager_today_in_the_demo(client, demo):
    client.force_login(demo["manager"])
    day = timezone.localdate()
    response = client.get(reverse("visits:today"))
    expected = VisitPlan.objects.filter(account_manager=demo["manager"], day=day).count()
    assert len(response.context["rows"]) == expected
    assert city().exists()


def _queries(client, url, params=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params or {}).status_code == 200
    return len(context)


def test_list_pages_do_not_grow_queries_with_rows(client, world):
    client.force_login(world.boss)
    services.visit_plan_add(
        retailer=world.shops_r1[0], day=world.c1.start_date + dt.timedelta(days=4), by=world.boss
    )
    few = _queries(client, reverse("visits:plan"), {"cycle": world.c1.code})
    services.visit_plan_generate(cycle=world.c1, district_ids=[world.district.pk])
    assert _queries(client, reverse("visits:plan"), {"cycle": world.c1.code}) == few
    shop = world.shops_r1[0]
    VisitFactory(retailer=shop, checked_in_at=timezone.now() - dt.timedelta(days=9))
    one = _queries(client, reverse("visits:card", args=[shop.pk]))
    for days in range(2, 8):
        VisitFactory(retailer=shop, checked_in_at=timezone.now() - dt.timedelta(days=days))
    assert _queries(client, reverse("visits:card", args=[shop.pk])) == one


def test_card_shows_the_masked_account_to_supervisors_only(client, demo):
    shop = Retailer.objects.filter(
        route__district__code="YC-CQ", payment_method="e_settlement", status="active"
    ).first()
    masked = shop.settlement_account.masked_account_number
    client.force_login(demo["supervisor"])
    body = client.get(reverse("visits:card", args=[shop.pk])).content.decode()
    assert masked in body
    assert shop.settlement_account.account_number not in body
    client.force_login(demo["manager"])
    body = client.get(reverse("visits:card", args=[shop.pk])).content.decode()
    assert masked not in body
