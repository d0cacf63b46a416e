"""Training and program pages: happy paths, bad input, scoping (404) and permissions (403)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from retailers.models import Retailer, RetailerStatus
from territory.models import Route
from visits import services as visit_services
from visits.models import (
    ProgramCriterion,
    ProgramKind,
    ProgramMembership,
    ProgramReview,
    TrainingAttendance,
    TrainingSession,
)
from visits.programs import services

pytestmark = pytest.mark.django_db


def route(code: str) -> Route:
    return Route.objects.get(code=code, district__branch__code="YC")


def shops(code: str, n: int) -> list[Retailer]:
    return list(
        Retailer.objects.filter(route=route(code), status=RetailerStatus.ACTIVE).order_by(
            "stop_order"
        )[:n]
    )


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def new_session(by, code="A") -> TrainingSession:
    return services.training_session_create(
        by=by,
        topic="inventory",
        held_on=timezone.localdate(),
        place="会议室",
        trainer="李红",
        route=route(code),
    )


# --- Training pages ---------------------------------------------------------------------------


def test_a_manager_creates_a_training_and_records_attendance(demo, as_user):
    client = as_user(demo["manager"])
    response = client.post(
        reverse("visits:training-create"),
        {
            "topic": "ordering",
            "held_on": "2026-11-20",
            "place": "营销部",
            "trainer": "李红",
            "route": route("C").pk,
        },
    )
    session = TrainingSession.objects.get(place="营销部")
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:training", args=[session.pk])
    a, b = shops("C", 2)
    response = client.post(
        reverse("visits:training", args=[session.pk]),
        {"route": route("C").pk, f"r-{a.pk}": "attended", f"r-{b.pk}": "absent"},
    )
    assert response.status_code == 302
    assert dict(session.attendance.values_list("retailer_id", "status")) == {
        a.pk: "attended",
        b.pk: "absent",
    }
    page = client.get(reverse("visits:training", args=[session.pk])).content.decode()
    assert a.name in page
    assert 'value="attended" selected' in page


def test_a_training_form_with_bad_input_answers_400_and_saves_nothing(demo, as_user):
    client = as_user(demo["manager"])
    before = TrainingSession.objects.count()
    response = client.post(
        reverse("visits:training-create"),
        {"topic": "display", "held_on": "2026-11-20", "place": "x", "trainer": "y"},
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode() or "这个字段是必填项" in (
        response.content.decode()
    )
    response = client.post(
        reverse("visits:training-create"),
        {
            "topic": "display",
            "held_on": "2026-11-20",
            "place": "x",
            "trainer": "y",
            "route": route("F").pk,
        },
    )
    assert response.status_code == 400
    assert TrainingSession.objects.count() == before


def test_manager2_cannot_see_or_record_for_managers_training(demo, as_user):
    session = new_session(demo["manager"])
    (shop,) = shops("A", 1)
    client = as_user(demo["manager2"])
    url = reverse("visits:training", args=[session.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {f"r-{shop.pk}": "attended"}).status_code == 404
    assert not session.attendance.exists()


def test_recording_a_retailer_outside_scope_is_a_clear_400(demo, as_user):
    session = new_session(demo["manager2"], code="F")
    (own,) = shops("F", 1)
    (foreign,) = shops("A", 1)
    client = as_user(demo["manager2"])
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("visits:training", args=[session.pk]),
        {f"r-{own.pk}": "attended", f"r-{foreign.pk}": "attended"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert f"not in this training&#x27;s scope: {foreign.pk}" in response.content.decode()
    assert not TrainingAttendance.objects.filter(session=session).exists()
    response = client.post(reverse("visits:training", args=[session.pk]), {"r-x1": "attended"})
    assert response.status_code == 400


def test_training_pages_answer_for_the_roles(demo, as_user):
    client = as_user(demo["supervisor"])
    assert client.get(reverse("visits:trainings")).status_code == 200
    response = client.get(reverse("visits:training-summary"))
    assert response.status_code == 200
    assert response.context["summary"].total.sessions == 6
    bad = client.get(reverse("visits:training-summary"), {"since": "2026-12-01", "until": "2026"})
    assert bad.status_code == 400
    assert client.get(reverse("visits:trainings"), {"topic": "cooking"}).status_code == 400


def test_the_card_and_the_retailer_page_show_trainings_and_programs(demo, as_user):
    attended = TrainingAttendance.objects.filter(
        retailer__route__code="A", status="attended"
    ).first()
    client = as_user(demo["manager"])
    for name in ("visits:card", "retailers:detail"):
        page = client.get(reverse(name, args=[attended.retailer_id])).content.decode()
        assert 'id="retailer-trainings"' in page
        assert attended.session.place in page
        assert 'id="program-memberships"' in page


# --- Program pages ----------------------------------------------------------------------------


def test_a_supervisor_enrols_a_store_by_licence_number(demo, as_user):
    shop = (
        Retailer.objects.filter(route=route("D"), status=RetailerStatus.ACTIVE)
        .exclude(program_memberships__isnull=False)
        .first()
    )
    client = as_user(demo["supervisor"])
    response = client.post(
        reverse("visits:program-enrol"),
        {"licence_number": shop.licence_number, "kind": "demonstration"},
    )
    assert response.status_code == 302
    membership = ProgramMembership.objects.get(retailer=shop, kind="demonstration")
    assert membership.status == "active"
    # Route D had 5: the sixth is enrolled with a warning.
    page = client.get(response["Location"]).content.decode()
    assert shop.name in page
    overview = client.get(reverse("visits:program-overview")).context["overview"]
    assert [row.route.code for row in overview.over_target] == ["D"]


def test_managers_cannot_enrol_or_withdraw(demo, as_user):
    (shop,) = shops("A", 1)
    member = ProgramMembership.objects.filter(retailer__route__code="A", status="active").first()
    client = as_user(demo["manager"])
    before = ProgramMembership.objects.count()
    response = client.post(
        reverse("visits:program-enrol"),
        {"licence_number": shop.licence_number, "kind": "standard"},
    )
    assert response.status_code == 403
    assert client.post(reverse("visits:program-withdraw", args=[member.pk])).status_code == 403
    assert client.get(reverse("visits:program-criteria")).status_code == 403
    assert ProgramMembership.objects.count() == before
    member.refresh_from_db()
    assert member.status == "active"


def test_enrolling_an_unknown_licence_is_a_400_and_saves_nothing(demo, as_user):
    (town,) = shops("F", 1)
    client = as_user(demo["supervisor"])
    before = ProgramMembership.objects.count()
    response = client.post(
        reverse("visits:program-enrol"), {"licence_number": town.licence_number, "kind": "standard"}
    )
    assert response.status_code == 400
    assert response.context["enrol_form"].errors["licence_number"]
    assert ProgramMembership.objects.count() == before


def test_manager2_sees_only_their_members_and_cannot_withdraw_others(demo, as_user):
    member = ProgramMembership.objects.filter(retailer__route__code="A", status="active").first()
    client = as_user(demo["manager2"])
    page = client.get(reverse("visits:programs"))
    assert page.status_code == 200
    assert {m.retailer.route.code for m in page.context["page"]} <= {"F", "G"}
    supervisor_town = as_user(demo["admin"])
    assert supervisor_town.get(reverse("visits:programs")).status_code == 200
    client = as_user(demo["supervisor"])
    town_member = ProgramMembership.objects.filter(retailer__route__code="F").first()
    response = client.post(reverse("visits:program-withdraw", args=[town_member.pk]))
    assert response.status_code == 404
    assert member.status == "active"


def test_a_supervisor_withdraws_a_member(demo, as_user):
    member = ProgramMembership.objects.filter(retailer__route__code="B", status="active").first()
    client = as_user(demo["supervisor"])
    response = client.post(
        reverse("visits:program-withdraw", args=[member.pk]), {"note": "不再符合"}
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.status, member.note) == ("withdrawn", "不再符合")


def test_the_overview_and_list_filters(demo, as_user):
    client = as_user(demo["supervisor"])
    response = client.get(reverse("visits:program-overview"), {"stale_days": "14"})
    assert response.status_code == 200
    overview = response.context["overview"]
    assert [row.route.code for row in overview.rows] == ["A", "B", "C", "D", "E"]
    assert overview.total.by_kind["demonstration"].members == 25
    assert client.get(reverse("visits:program-overview"), {"stale_days": "0"}).status_code == 400
    response = client.get(reverse("visits:programs"), {"kind": "demonstration"})
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 25
    assert client.get(reverse("visits:programs"), {"kind": "nope"}).status_code == 400


def test_a_supervisor_edits_the_criteria(demo, as_user):
    client = as_user(demo["supervisor"])
    response = client.post(
        reverse("visits:program-criteria"), {"kind": "functional", "text": "有收银系统"}
    )
    assert response.status_code == 302
    criterion = ProgramCriterion.objects.get(text="有收银系统")
    response = client.post(
        reverse("visits:program-criterion-edit", args=[criterion.pk]), {"text": "有收银终端"}
    )
    criterion.refresh_from_db()
    assert (criterion.text, criterion.is_active) == ("有收银终端", False)
    before = ProgramCriterion.objects.count()
    response = client.post(reverse("visits:program-criteria"), {"kind": "x", "text": ""})
    assert response.status_code == 400
    assert ProgramCriterion.objects.count() == before


# --- Reviews on the visit page ----------------------------------------------------------------


@pytest.fixture
def member_visit(demo):
    shop = (
        Retailer.objects.filter(route=route("A"), status=RetailerStatus.ACTIVE)
        .exclude(program_memberships__isnull=False)
        .first()
    )
    membership = services.program_enrol(
        by=demo["supervisor"], retailer=shop, kind=ProgramKind.STANDARD
    )
    visit = visit_services.visit_check_in(retailer=shop, by=demo["manager"])
    return membership, visit


def test_the_manager_ticks_criteria_on_the_visit_page(demo, as_user, member_visit):
    membership, visit = member_visit
    criteria = services.active_criteria(ProgramKind.STANDARD)
    client = as_user(demo["manager"])
    page = client.get(reverse("visits:visit", args=[visit.pk])).content.decode()
    assert 'id="programs"' in page
    assert criteria[0].text in page
    response = client.post(
        reverse("visits:visit-review", args=[visit.pk]),
        {"membership": membership.pk, "criteria": [criteria[0].pk, criteria[2].pk]},
    )
    assert response.status_code == 302
    review = ProgramReview.objects.get(visit=visit)
    assert (review.criteria_met, review.criteria_total, review.reviewed_by) == (
        2,
        len(criteria),
        demo["manager"],
    )


def test_a_review_with_bad_input_is_a_400_and_saves_nothing(demo, as_user, member_visit):
    membership, visit = member_visit
    foreign = ProgramCriterion.objects.filter(kind="demonstration").first()
    client = as_user(demo["manager"])
    url = reverse("visits:visit-review", args=[visit.pk])
    response = client.post(url, {"membership": membership.pk, "criteria": [foreign.pk]})
    assert response.status_code == 400
    other = ProgramMembership.objects.exclude(retailer=visit.retailer).first()
    response = client.post(url, {"membership": other.pk, "criteria": []})
    assert response.status_code == 400
    assert "not a program member" in response.content.decode() or "不是" in (
        response.content.decode()
    )
    assert not ProgramReview.objects.filter(visit=visit).exists()


def test_a_checked_out_visit_takes_no_review(demo, as_user, member_visit):
    membership, visit = member_visit
    visit_services.visit_check_out(visit=visit, by=demo["manager"])
    client = as_user(demo["manager"])
    url = reverse("visits:visit-review", args=[visit.pk])
    response = client.post(url, {"membership": membership.pk, "criteria": []}, follow=True)
    assert response.redirect_chain == [(reverse("visits:visit", args=[visit.pk]), 302)]
    assert "checked out" in response.content.decode() or "已签退" in response.content.decode()
    assert not ProgramReview.objects.filter(visit=visit).exists()


def test_others_cannot_review_on_someone_elses_visit(demo, as_user, member_visit):
    membership, visit = member_visit
    url = reverse("visits:visit-review", args=[visit.pk])
    data = {"membership": membership.pk, "criteria": []}
    assert as_user(demo["manager2"]).post(url, data).status_code == 404
    assert as_user(demo["supervisor"]).post(url, data).status_code == 403
    assert not ProgramReview.objects.filter(visit=visit).exists()


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("visits:programs", {}),
        ("visits:program-overview", {}),
        ("visits:trainings", {}),
        ("visits:training-summary", {}),
    ],
)
def test_the_lists_load_in_a_fixed_number_of_queries(
    demo, as_user, django_assert_max_num_queries, name, params
):
    """30 members or sessions on a page, yet a handful of queries: nothing per row."""
    client = as_user(demo["supervisor"])
    client.get(reverse(name), params)  # warm the session and the user
    with django_assert_max_num_queries(14):
        response = client.get(reverse(name), params)
    assert response.status_code == 200
