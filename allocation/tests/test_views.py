"""The allocation pages: each role's view, bad input as 400 with a message, exports."""

import csv
import io

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from openpyxl import load_workbook

from allocation import services
from allocation.models import AllocationRun, PointsComputation, RunStatus, ScarceSupply
from allocation.tests.factories import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = make_world()
    world.shops = {
        name: world.retailer(points=p, name=name)
        for name, p in zip("ABCD", (50, 30, 15, 5), strict=True)
    }
    world.points()
    return world


def run_of(world, **kwargs) -> AllocationRun:
    run, _created = services.allocation_run_request(
        supply=world.supply(**kwargs), by=world.supervisor, enqueue=False
    )
    services.allocation_run_compute(run_id=run.pk)
    run.refresh_from_db()
    return run


def publish(run, by) -> AllocationRun:
    services.allocation_run_approve(run=run, by=by)
    return services.allocation_run_publish(run=run, by=by)


SUPPLY_POST = {
    "quantity": "10",
    "unit": "1",
    "min_star": "1",
    "cap_star_5": "4",
    "cap_star_4": "4",
    "cap_star_3": "4",
    "cap_star_2": "4",
    "cap_star_1": "4",
    "minimum": "0",
    "violation_cycles": "3",
    "note": "",
}


def test_pages_need_a_login(client, world):
    run = run_of(world)
    for url in (
        reverse("allocation:supply-list"),
        reverse("allocation:run-detail", args=[run.pk]),
        reverse("allocation:awards"),
        reverse("allocation:points"),
        reverse("allocation:statement", args=[world.shops["A"].pk, world.cycle.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_managers_go_to_their_awards_and_never_see_supplies_or_runs(client, world):
    run = run_of(world)
    client.force_login(world.manager)
    response = client.get(reverse("allocation:supply-list"))
    assert response["Location"] == reverse("allocation:awards")
    for url in (
        reverse("allocation:run-detail", args=[run.pk]),
        reverse("allocation:supply-detail", args=[run.supply_id]),
        reverse("allocation:run-export", args=[run.pk, "csv"]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("allocation:run-approve", args=[run.pk])).status_code == 403
    run.refresh_from_db()
    assert run.status == RunStatus.DRAFT


def test_another_branchs_supervisor_gets_404(client, world, demo):
    run = run_of(world)
    client.force_login(demo["supervisor"])
    assert client.get(reverse("allocation:run-detail", args=[run.pk])).status_code == 404
    assert client.post(reverse("allocation:run-publish", args=[run.pk])).status_code == 404
    assert client.get(reverse("allocation:supply-edit", args=[run.supply_id])).status_code == 404


def test_supply_list_for_a_cycle(client, world):
    run_of(world)
    client.force_login(world.supervisor)
    response = client.get(reverse("allocation:supply-list"), {"cycle": world.cycle.pk})
    assert response.status_code == 200
    assert [s.brand for s in response.context["supplies"]] == [world.scarce]
    assert response.context["points"].cycle == world.before
    assert client.get(reverse("allocation:supply-list"), {"cycle": "x"}).status_code == 400
    assert client.get(reverse("allocation:supply-list"), {"cycle": "999999"}).status_code == 400


def test_create_a_supply(client, world):
    client.force_login(world.supervisor)
    assert client.get(reverse("allocation:supply-create")).status_code == 200
    data = {**SUPPLY_POST, "cycle": world.cycle.pk, "brand": world.scarce.pk}
    data["branch"] = world.branch.pk
    response = client.post(reverse("allocation:supply-create"), data)
    supply = ScarceSupply.objects.get(branch=world.branch)
    assert response["Location"] == reverse("allocation:supply-detail", args=[supply.pk])
    assert (supply.quantity, supply.caps_by_star[5], supply.created_by) == (10, 4, world.supervisor)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"quantity": "-5"}, "quantity", "The quantity cannot be negative."),
        ({"unit": "20"}, "unit", "larger than the quantity"),
        ({"quantity": "11", "unit": "2"}, "quantity", "not a whole number of units"),
        ({"cap_star_3": ""}, "cap_star_3", "A cap is needed for every star from 1★ to 5★."),
        ({"quantity": "lots"}, "quantity", "Enter a whole number."),
        ({"quantity": "99999999999"}, "quantity", "less than or equal to"),
        ({"minimum": "-1"}, "minimum", "cannot be negative"),
        ({"min_star": "7"}, "min_star", "Select a valid choice"),
    ],
)
def test_bad_supplies_are_400_with_the_message_on_the_field(client, world, changes, field, message):
    client.force_login(world.supervisor)
    data = {**SUPPLY_POST, "cycle": world.cycle.pk, "brand": world.scarce.pk}
    data.update(branch=world.branch.pk, **changes)
    response = client.post(reverse("allocation:supply-create"), data)
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not ScarceSupply.objects.filter(branch=world.branch).exists()


def test_a_closed_cycle_or_a_duplicate_supply_is_refused(client, world):
    client.force_login(world.supervisor)
    world.supply()
    data = {**SUPPLY_POST, "cycle": world.cycle.pk, "brand": world.scarce.pk}
    data["branch"] = world.branch.pk
    response = client.post(reverse("allocation:supply-create"), data)
    assert response.status_code == 400
    assert "already has a supply" in " ".join(response.context["form"].errors["brand"])
    data.update(cycle=world.before.pk, brand=world.class1.pk)
    response = client.post(reverse("allocation:supply-create"), data)
    assert response.status_code == 400
    assert "cycle" in response.context["form"].errors
    assert ScarceSupply.objects.filter(branch=world.branch).count() == 1


def test_edit_a_supply(client, world):
    supply = world.supply()
    client.force_login(world.supervisor)
    url = reverse("allocation:supply-edit", args=[supply.pk])
    assert client.get(url).context["form"]["quantity"].value() == 10
    response = client.post(url, {**SUPPLY_POST, "quantity": "8"})
    assert response.status_code == 302
    supply.refresh_from_db()
    assert supply.quantity == 8
    response = client.post(url, {**SUPPLY_POST, "unit": "0"})
    assert response.status_code == 400
    supply.refresh_from_db()
    assert supply.unit == 1


def test_run_a_supply_review_approve_publish(client, world, django_capture_on_commit_callbacks):
    supply = world.supply()
    client.force_login(world.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("allocation:supply-run", args=[supply.pk]))
    run = AllocationRun.objects.get(supply=supply)
    assert response["Location"] == reverse("allocation:run-detail", args=[run.pk])
    assert run.status == RunStatus.DRAFT  # computed by the (eager) task on commit
    response = client.get(response["Location"])
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="totals"' in body
    assert "No retailer with more points and the same cap got less" in body
    assert [row["line"].award for row in response.context["rows"]] == [4, 4, 2, 0]
    assert response.context["rows"][1]["quota"] == "3.6"
    assert response.context["rows"][1]["explanation"] == [
        "Share 30 points × 0.12 cartons per point = 3.6 cartons; 3 whole.",
        "Plus 1 for the remainder (rank 2).",
        "Award: 4 cartons.",
    ]
    assert response.context["chart"]["star"]["cartons"] == [10]
    response = client.post(reverse("allocation:run-approve", args=[run.pk]))
    assert response.status_code == 302
    response = client.post(reverse("allocation:run-approve", args=[run.pk]), follow=True)
    assert "Only a draft run can be approved" in response.content.decode()
    client.post(reverse("allocation:run-publish", args=[run.pk]))
    run.refresh_from_db()
    assert (run.status, run.published_by) == (RunStatus.PUBLISHED, world.supervisor)
    # A new run needs a reason now.
    response = client.post(reverse("allocation:supply-run", args=[supply.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "give a reason" in " ".join(response.context["form"].errors["reason"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("allocation:supply-run", args=[supply.pk]), {"reason": "补货"})
    assert list(supply.runs.order_by("number").values_list("status", "reason")) == [
        ("published", ""),
        ("draft", "补货"),
    ]


def test_a_run_without_points_is_a_400_and_writes_nothing(client, world):
    PointsComputation.objects.all().delete()
    supply = world.supply()
    client.force_login(world.supervisor)
    response = client.post(reverse("allocation:supply-run", args=[supply.pk]))
    assert response.status_code == 400
    assert "have not been computed yet" in response.content.decode()
    assert not AllocationRun.objects.exists()


def test_run_all_supplies_of_a_cycle(client, world, django_capture_on_commit_callbacks):
    world.supply()
    world.supply(brand=world.class1)
    client.force_login(world.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("allocation:cycle-run", args=[world.cycle.pk]))
        client.post(reverse("allocation:cycle-run", args=[world.cycle.pk]))
    assert sorted(AllocationRun.objects.values_list("status", flat=True)) == ["draft", "draft"]
    assert client.post(reverse("allocation:cycle-run", args=[999999])).status_code == 404


def test_review_filters_and_bad_filters(client, world):
    run = run_of(world)
    client.force_login(world.supervisor)
    url = reverse("allocation:run-detail", args=[run.pk])
    names = lambda r: [row["line"].retailer.name for row in r.context["rows"]]  # noqa: E731
    assert names(client.get(url, {"show": "awarded"})) == ["A", "B", "C"]
    assert names(client.get(url, {"show": "capped"})) == ["A"]
    assert names(client.get(url, {"q": "C"})) == ["C"]
    assert names(client.get(url, {"star": "3"})) == ["A", "B", "C", "D"]
    for bad in ({"star": "9"}, {"show": "all"}, {"route": "x"}, {"q": "a\x00b"}):
        response = client.get(url, bad)
        assert response.status_code == 400
        assert 'class="errorlist"' in response.content.decode()


def test_a_computing_run_shows_progress(client, world):
    run, _created = services.allocation_run_request(
        supply=world.supply(), by=world.supervisor, enqueue=False
    )
    client.force_login(world.supervisor)
    response = client.get(reverse("allocation:run-detail", args=[run.pk]))
    assert 'id="run-progress"' in response.content.decode()
    assert "rows" not in response.context
    progress = client.get(reverse("allocation:run-progress", args=[run.pk])).json()
    assert progress == {
        "status": "computing",
        "status_display": "Computing",
        "progress": 0,
        "error": "",
    }


def test_exports_are_safe_from_formula_injection(client, world):
    world.shops["A"].name = '=HYPERLINK("http://x")'
    world.shops["A"].save()
    run = run_of(world)
    client.force_login(world.supervisor)
    response = client.get(reverse("allocation:run-export", args=[run.pk, "csv"]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:6] == ["Route", "Stop", "Licence number", "Retailer", "Star", "Points"]
    by_name = {row[3]: row for row in rows[1:]}
    assert set(by_name) == {'\'=HYPERLINK("http://x")', "B", "C", "D"}
    assert by_name["B"][11] == "3.6"
    assert by_name["B"][15] == "4"
    response = client.get(reverse("allocation:run-export", args=[run.pk, "xlsx"]))
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert len(values) == 5
    assert '\'=HYPERLINK("http://x")' in [row[3] for row in values]
    assert client.get(reverse("allocation:run-export", args=[run.pk, "pdf"])).status_code == 404


def test_manager_sees_published_awards_and_statements(client, world):
    run = run_of(world)
    client.force_login(world.manager)
    url = reverse("allocation:awards")
    assert list(client.get(url, {"cycle": world.cycle.pk}).context["page"]) == []
    publish(run, world.supervisor)
    response = client.get(url, {"cycle": world.cycle.pk})
    assert [(line.retailer.name, line.award) for line in response.context["page"]] == [
        ("A", 4),
        ("B", 4),
        ("C", 2),
    ]
    statement = reverse("allocation:statement", args=[world.shops["B"].pk, world.cycle.pk])
    response = client.get(statement)
    body = response.content.decode()
    assert response.status_code == 200
    assert "紧俏卷烟分配告知书" in body  # Chinese, the retailer's language, by default
    assert "3.6" in body
    response = client.get(statement, {"lang": "en"})
    assert "Scarce-brand allocation statement" in response.content.decode()
    assert client.get(url, {"cycle": "nope"}).status_code == 400


def test_statement_of_another_managers_retailer_is_404(client, world, demo):
    publish(run_of(world), world.supervisor)
    client.force_login(demo["manager2"])
    url = reverse("allocation:statement", args=[world.shops["A"].pk, world.cycle.pk])
    assert client.get(url).status_code == 404
    url = reverse("allocation:statement", args=[world.shops["A"].pk, 999999])
    client.force_login(world.manager)
    assert client.get(url).status_code == 404


def test_points_page_and_recompute(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.manager)
    response = client.get(reverse("allocation:points"), {"cycle": world.before.pk})
    assert [e.points for e in response.context["page"]] == [50, 30, 15, 5]
    assert not response.context["can_compute"]
    assert (
        client.post(reverse("allocation:points-compute", args=[world.before.pk])).status_code == 403
    )
    client.force_login(world.supervisor)
    before = PointsComputation.objects.get(cycle=world.before).computed_at
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("allocation:points-compute", args=[world.before.pk]))
    computation = PointsComputation.objects.get(cycle=world.before)
    assert computation.computed_at > before
    assert computation.computed_by == world.supervisor
    assert client.get(reverse("allocation:points"), {"cycle": "abc"}).status_code == 400


def test_retailer_awards_tag_for_the_card(world):
    publish(run_of(world), world.supervisor)
    request = RequestFactory().get("/")
    request.user = world.manager
    html = Template("{% load allocation %}{% retailer_awards shop cycle %}").render(
        Context({"request": request, "shop": world.shops["B"], "cycle": world.cycle})
    )
    assert world.scarce.name in html
    assert "4 cartons" in html
    assert reverse("allocation:statement", args=[world.shops["B"].pk, world.cycle.pk]) in html
