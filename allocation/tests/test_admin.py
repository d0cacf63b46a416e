"""The admin shows what the services wrote and records requested quantities through them."""

import pytest
from django.urls import reverse

from allocation import services
from allocation.models import PointsRule, SupplyRequest
from allocation.tests.factories import make_world
from territory.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db


def test_admin_pages_open_and_runs_are_read_only(client, demo):
    world = make_world()
    world.retailer(points=10)
    world.points()
    run, _created = services.allocation_run_request(
        supply=world.supply(), by=world.supervisor, enqueue=False
    )
    services.allocation_run_compute(run_id=run.pk)
    client.force_login(demo["admin"])
    for name in (
        "allocationrun",
        "scarcesupply",
        "pointscomputation",
        "pointsrule",
        "supplyrequest",
    ):
        assert client.get(reverse(f"admin:allocation_{name}_changelist")).status_code == 200
    page = client.get(reverse("admin:allocation_allocationrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert "computed" in page.content.decode()
    assert client.get(reverse("admin:allocation_allocationrun_add")).status_code == 403


def test_a_points_rule_and_a_requested_quantity_from_the_admin(client, demo):
    world = make_world()
    supply = world.supply()
    shop, stranger = world.retailer(), world.retailer(route=RouteFactory())
    client.force_login(demo["admin"])
    response = client.post(
        reverse("admin:allocation_pointsrule_add"),
        {
            "effective_from": "2030-01-01",
            "weight_class_1": 6,
            "weight_class_2": 4,
            "weight_class_3": 3,
            "weight_class_4": 2,
            "weight_class_5": 1,
            "bonus_per_cycle_ordered": 0,
            "bonus_per_online_carton": 0,
            "bonus_per_new_brand_carton": 0,
            "note": "",
        },
    )
    assert response.status_code == 302
    assert PointsRule.objects.get().created_by == demo["admin"]
    url = reverse("admin:allocation_supplyrequest_add")
    response = client.post(url, {"supply": supply.pk, "retailer": stranger.pk, "cartons": 2})
    assert response.status_code == 200
    assert "not in the supply" in response.content.decode()
    response = client.post(url, {"supply": supply.pk, "retailer": shop.pk, "cartons": 2})
    assert response.status_code == 302
    request = SupplyRequest.objects.get()
    assert (request.retailer, request.cartons, request.recorded_by) == (shop, 2, demo["admin"])
