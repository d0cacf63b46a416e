"""/api/v1/trainings/ and /api/v1/programs/: read-only, scoped like the pages."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from config.api.testing import api_token, bearer
from retailers.models import Retailer
from territory.models import Route
from visits.models import ProgramMembership, TrainingAttendance, TrainingSession
from visits.programs import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    cache.clear()


def get(client, user, url, **params):
    return client.get(url, params, **bearer(api_token(user)))


def test_trainings_list_is_scoped_and_carries_visible_attendance(client, demo):
    town = get(client, demo["manager2"], "/api/v1/trainings/", page_size=100).json()["results"]
    assert {row["district_code"] for row in town} == {"YC-XZ"}
    city = get(client, demo["manager"], "/api/v1/trainings/", page_size=100).json()["results"]
    assert {row["district_code"] for row in city} == {"YC-CQ"}
    assert len(city) == 6
    first = city[0]
    session = TrainingSession.objects.get(pk=first["id"])
    expected = TrainingAttendance.objects.filter(session=session)
    assert first["attended"] == expected.filter(status="attended").count()
    assert [a["retailer"] for a in first["attendance"]] == sorted(
        expected.values_list("retailer_id", flat=True)
    )
    assert first["topic"] == session.topic
    assert first["held_on"] == session.held_on.isoformat()


def test_another_managers_training_is_a_404(client, demo):
    session = TrainingSession.objects.filter(district__code="YC-CQ").first()
    response = get(client, demo["manager2"], f"/api/v1/trainings/{session.pk}/")
    assert response.status_code == 404
    response = get(client, demo["manager"], f"/api/v1/trainings/{session.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == session.pk


def test_trainings_filter_by_topic_route_and_dates(client, demo):
    route = Route.objects.get(code="A", district__code="YC-CQ")
    session = services.training_session_create(
        by=demo["manager"],
        topic="display",
        held_on=timezone.localdate(),
        place="p",
        trainer="t",
        route=route,
    )
    rows = get(
        client, demo["manager"], "/api/v1/trainings/", topic="display", route=route.pk
    ).json()["results"]
    assert [row["id"] for row in rows] == [session.pk]
    response = get(client, demo["manager"], "/api/v1/trainings/", topic="cooking")
    assert response.status_code == 400
    assert "topic" in response.json()["error"]["fields"]
    response = get(client, demo["manager"], "/api/v1/trainings/", held_since="yesterday")
    assert response.status_code == 400


def test_programs_list_is_scoped_with_the_last_review(client, demo):
    rows = get(client, demo["manager2"], "/api/v1/programs/", page_size=500).json()["results"]
    assert {row["route_code"] for row in rows} == {"F", "G"}
    assert len(rows) == ProgramMembership.objects.filter(retailer__route__code__in="FG").count()
    member = ProgramMembership.objects.filter(
        retailer__route__code="A", reviews__isnull=False
    ).first()
    assert get(client, demo["manager2"], f"/api/v1/programs/{member.pk}/").status_code == 404
    body = get(client, demo["manager"], f"/api/v1/programs/{member.pk}/").json()
    latest = member.reviews.order_by("-reviewed_at").first()
    assert (body["last_criteria_met"], body["last_criteria_total"]) == (
        latest.criteria_met,
        latest.criteria_total,
    )
    assert (
        body["retailer_licence_number"]
        == Retailer.objects.get(pk=member.retailer_id).licence_number
    )


def test_programs_filter_by_kind_and_reject_bad_values(client, demo):
    rows = get(
        client, demo["supervisor"], "/api/v1/programs/", kind="demonstration", page_size=500
    ).json()["results"]
    assert len(rows) == 25
    assert {row["kind"] for row in rows} == {"demonstration"}
    assert get(client, demo["supervisor"], "/api/v1/programs/", kind="x").status_code == 400
    assert get(client, demo["supervisor"], "/api/v1/programs/", route="1.5").status_code == 400


def test_the_endpoints_are_read_only_and_need_a_token(client, demo):
    assert client.get("/api/v1/programs/").status_code == 401
    token = api_token(demo["supervisor"])
    assert client.post("/api/v1/programs/", {}, **bearer(token)).status_code == 405
    assert client.post("/api/v1/trainings/", {}, **bearer(token)).status_code == 405
