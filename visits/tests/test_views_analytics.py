"""The volume, price and stock page, and the targets panel on Today."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from settlement.models import CultivationTarget

pytestmark = pytest.mark.django_db

STOCK = reverse("visits:stock")


def test_the_stock_page_needs_a_login(client):
    response = client.get(STOCK)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("username", ["manager", "manager2", "supervisor", "admin"])
def test_every_role_sees_a_year_of_demo_stock_trends(client, demo, username):
    client.force_login(demo[username])
    response = client.get(STOCK)
    assert response.status_code == 200
    shown = response.context["shown"]
    assert sum(1 for p in shown.points if p.observations) >= 10  # months with observations
    assert response.context["chart"]["labels"] == [p.label for p in shown.points]
    assert b'data-chart="chart-stock"' in response.content
    by_cycle = client.get(STOCK, {"by": "cycle"}).context["shown"]
    assert len(by_cycle.points) == 12
    assert sum(1 for p in by_cycle.points if p.observations) >= 6


def test_the_stock_page_shows_the_figures(client, world, stock):
    client.force_login(world.boss)
    response = client.get(STOCK, {"by": "month", "end": "2031-01"})
    assert response.status_code == 200
    assert response.context["shown"].brand == stock.a
    chart = response.context["chart"]
    assert [d["data"][-2:] for d in chart["datasets"]] == [
        [10.0, 8.0],
        [20.0, 24.0],
        [110.0, 113.5],
    ]
    assert chart["datasets"][2]["axis"] == "right"
    body = response.content.decode()
    assert "113.50" in body
    assert '<span class="change down">-20.0%</span>' in body
    only_b = client.get(STOCK, {"by": "month", "end": "2031-01", "brand": stock.b.pk})
    assert [s.brand for s in only_b.context["series"]] == [stock.b]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "year"}, "by"),
        ({"end": "2031-1-1"}, "end"),
        ({"brand": "x"}, "brand"),
        ({"area": "route:abc"}, "area"),
    ],
)
def test_bad_stock_filters_are_a_400(client, world, params, field):
    client.force_login(world.boss)
    response = client.get(STOCK, params)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert response.context["series"] is None


def test_today_shows_the_managers_running_targets(client, demo):
    today = timezone.localdate()
    running = CultivationTarget.objects.filter(
        account_manager=demo["manager"], start_date__lte=today, end_date__gte=today
    )
    assert running.count() == 3  # the demo's: low-tar and key brands this half, a brand this month
    client.force_login(demo["manager"])
    response = client.get(reverse("visits:today"))
    assert [p.target for p in response.context["targets"]] == sorted(
        running, key=lambda t: (t.end_date, t.brand_group, t.brand.code if t.brand else "")
    )
    body = response.content.decode()
    assert 'id="my-targets"' in body
    assert reverse("settlement:targets") in body
    for p in response.context["targets"]:
        # The demo sells every week, but a month's target has nothing on its first days.
        if (today - p.target.start_date).days >= 7:
            assert p.cartons > 0
        assert f'<progress value="{p.cartons}" max="{p.target.target_cartons}">' in body


def test_today_has_no_panel_without_running_targets(client, world):
    CultivationTarget.objects.create(
        account_manager=world.am1,
        brand_group="low_tar",
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2020, 12, 31),
        target_cartons=5,
    )
    client.force_login(world.am1)
    response = client.get(reverse("visits:today"))
    assert response.context["targets"] == []
    assert 'id="my-targets"' not in response.content.decode()
