"""Re-rating, override and grade pages: happy path, bad input, scoping (404), roles (403)."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import GradeEvaluation
from retailers.models import ProposalStatus, RatingThreshold, StarChange, StarSource
from retailers.tests.rating_world import rating_world
from retailers.tests.test_rating import proposal_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return rating_world()


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_managers_get_403_everywhere(world, as_user):
    client = as_user(world.am1)
    proposal = proposal_for(world, {"up5": 5})
    shop = world.shops["up5"]
    for url in (
        "/retailers/rerating/",
        f"/retailers/rerating/{proposal.pk}/",
        f"/retailers/rerating/thresholds/{world.d1.pk}/",
        f"/retailers/{shop.pk}/star/",
        "/retailers/managers/",
        f"/retailers/managers/{world.am1.pk}/",
        "/retailers/roster/",
    ):
        assert client.get(url).status_code == 403, url
    for url in (f"/retailers/rerating/{proposal.pk}/approve/", "/allocation/rerating/propose/"):
        assert client.post(url).status_code == 403, url
    shop.refresh_from_db()
    assert shop.star == 3


def test_another_districts_supervisor_gets_404(world, as_user):
    client = as_user(world.boss2)
    proposal = proposal_for(world, {"up5": 5})
    shop = world.shops["up5"]
    assert client.get(f"/retailers/rerating/{proposal.pk}/").status_code == 404
    assert client.post(f"/retailers/rerating/{proposal.pk}/approve/").status_code == 404
    assert client.get(f"/retailers/rerating/thresholds/{world.d1.pk}/").status_code == 404
    assert client.get(f"/retailers/{shop.pk}/star/").status_code == 404
    assert (
        client.post(f"/retailers/{shop.pk}/star/", {"star": "5", "reason": "x"}).status_code == 404
    )
    assert client.get(f"/retailers/managers/{world.am1.pk}/").status_code == 404
    assert (
        f"/retailers/rerating/{proposal.pk}/"
        not in client.get("/retailers/rerating/").content.decode()
    )
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT


def test_review_filter_page_and_approve(world, as_user):
    client = as_user(world.boss1)
    proposal = proposal_for(world, {"up5": 5, "same3": 3, "down1": 1})
    page = client.get(f"/retailers/rerating/{proposal.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert world.shops["up5"].name in text
    assert world.shops["down1"].name in text
    assert "met 5★ (points ≥ 100, cartons ≥ 50)" in text
    up = client.get(f"/retailers/rerating/{proposal.pk}/?movement=up").content.decode()
    assert world.shops["up5"].name in up
    assert world.shops["down1"].name not in up
    assert client.get(f"/retailers/rerating/{proposal.pk}/?movement=sideways").status_code == 400
    assert client.post(f"/retailers/rerating/{proposal.pk}/maybe/").status_code == 404

    response = client.post(f"/retailers/rerating/{proposal.pk}/approve/")
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    world.shops["up5"].refresh_from_db()
    assert world.shops["up5"].star == 5
    # Approving again changes nothing and says why.
    again = client.post(f"/retailers/rerating/{proposal.pk}/approve/", follow=True)
    assert "already decided" in again.content.decode()
    assert StarChange.objects.filter(source=StarSource.RERATING).count() == 2


def test_reject(world, as_user):
    client = as_user(world.boss1)
    proposal = proposal_for(world, {"up5": 5})
    client.post(f"/retailers/rerating/{proposal.pk}/reject/")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.REJECTED
    world.shops["up5"].refresh_from_db()
    assert world.shops["up5"].star == 3


def test_thresholds_page_saves_and_refuses_contradictions(world, as_user):
    client = as_user(world.boss1)
    url = f"/retailers/rerating/thresholds/{world.d1.pk}/"
    assert client.get(url).status_code == 200
    good = {"points_5": 500, "cartons_5": 100, "points_4": 300, "cartons_4": 60}
    good |= {"points_3": 100, "cartons_3": 20, "points_2": 10, "cartons_2": 2}
    assert client.post(url, good).status_code == 302
    assert RatingThreshold.objects.get(district=world.d1, star=5).min_points == 500
    bad = good | {"points_5": 1}
    response = client.post(url, bad)
    assert response.status_code == 400
    assert "may not ask for less" in response.content.decode()
    assert client.post(url, good | {"cartons_2": "-1"}).status_code == 400
    assert RatingThreshold.objects.get(district=world.d1, star=5).min_points == 500


def test_propose_button_runs_the_job_for_the_own_district(
    world, as_user, django_capture_on_commit_callbacks
):
    client = as_user(world.boss1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/allocation/rerating/propose/", {"district": world.d1.pk})
    assert response.status_code == 302
    proposal = world.d1.rating_proposals.get()
    assert proposal.retailers == 5
    assert proposal.proposed_by == world.boss1
    assert (
        client.post("/allocation/rerating/propose/", {"district": world.d2.pk}).status_code == 404
    )
    assert client.post("/allocation/rerating/propose/", {"district": "x"}).status_code == 404


def test_override_page(world, as_user):
    client = as_user(world.boss1)
    shop = world.shops["same3"]
    detail = client.get(f"/retailers/{shop.pk}/").content.decode()
    assert f"/retailers/{shop.pk}/star/" in detail
    response = client.post(f"/retailers/{shop.pk}/star/", {"star": "5", "reason": ""})
    assert response.status_code == 400
    shop.refresh_from_db()
    assert shop.star == 3
    response = client.post(f"/retailers/{shop.pk}/star/", {"star": "5", "reason": "新店扩建"})
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.star == 5
    change = StarChange.objects.get(retailer=shop, source=StarSource.OVERRIDE)
    assert (change.changed_by, change.reason) == (world.boss1, "新店扩建")
    manager_view = as_user(world.am1).get(f"/retailers/{shop.pk}/").content.decode()
    assert f"/retailers/{shop.pk}/star/" not in manager_view


def test_grade_pages(world, as_user):
    client = as_user(world.boss1)
    listing = client.get("/retailers/managers/").content.decode()
    assert str(world.am1) in listing
    assert str(world.am2) not in listing
    url = f"/retailers/managers/{world.am1.pk}/"
    data = {
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "score": "88",
        "grade": "senior",
        "notes": "上半年考核",
    }
    assert client.post(url, data).status_code == 302
    world.am1.refresh_from_db()
    assert world.am1.grade == "senior"
    assert "上半年考核" in client.get(url).content.decode()
    bad = client.post(url, data | {"score": "101", "grade": "junior"})
    assert bad.status_code == 400
    backwards = client.post(url, data | {"period_end": "2025-01-01", "grade": "junior"})
    assert backwards.status_code == 400
    assert "ends before it starts" in backwards.content.decode()
    world.am1.refresh_from_db()
    assert world.am1.grade == "senior"
    assert GradeEvaluation.objects.filter(manager=world.am1).count() == 1


def test_admin_looks_but_does_not_decide(world, admin_client):
    proposal = proposal_for(world, {"up5": 5})
    assert admin_client.get(f"/retailers/rerating/{proposal.pk}/").status_code == 200
    admin_client.post(f"/retailers/rerating/{proposal.pk}/approve/")
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.DRAFT
    assert admin_client.post(f"/retailers/managers/{world.am1.pk}/", {}).status_code == 403


def test_review_and_list_pages_do_not_query_per_line(world, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(world.boss1)

    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    small = proposal_for(world, {"up5": 5})
    few = queries(f"/retailers/rerating/{small.pk}/"), queries("/retailers/rerating/")
    small.delete()
    big = proposal_for(world, {"up5": 5, "same3": 3, "down1": 1, "unrated": 2, "same2": 2})
    assert (queries(f"/retailers/rerating/{big.pk}/"), queries("/retailers/rerating/")) == few


def test_api_lists_are_scoped(world, client):
    from accounts.services import grade_evaluation_record
    from config.api.testing import api_token

    proposal = proposal_for(world, {"up5": 5})
    period = {"period_start": dt.date(2026, 1, 1), "period_end": dt.date(2026, 6, 30)}
    mine = grade_evaluation_record(
        manager=world.am1, by=world.boss1, score=90, grade="senior", **period
    )
    grade_evaluation_record(manager=world.am2, by=world.boss2, score=60, grade="junior", **period)

    def get(user, url):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {api_token(user)}")
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert get(world.boss1, "/api/v1/rerating-proposals/") == [proposal.pk]
    assert get(world.boss2, "/api/v1/rerating-proposals/") == []
    assert get(world.am1, "/api/v1/rerating-proposals/") == []
    assert mine.pk in get(world.boss1, "/api/v1/grade-evaluations/")
    assert get(world.am1, "/api/v1/grade-evaluations/") == [mine.pk]
    assert mine.pk not in get(world.boss2, "/api/v1/grade-evaluations/")
    response = client.get("/api/v1/rerating-proposals/")
    assert response.status_code == 401
