"""Retailer training and terminal programs: services and selectors (DESIGN §2.6)."""

import datetime as dt

import pytest
from django.utils import timezone

from config.errors import ApplicationError
from retailers.models import Retailer, RetailerStatus
from territory.models import District, Route
from visits import services as visit_services
from visits.models import (
    AttendanceStatus,
    MembershipStatus,
    ProgramCriterion,
    ProgramKind,
    ProgramMembership,
    ProgramReview,
    TrainingAttendance,
    TrainingSession,
)
from visits.programs import selectors, services

pytestmark = pytest.mark.django_db


def route(code: str) -> Route:
    return Route.objects.get(code=code, district__branch__code="YC")


def shops(code: str, n: int) -> list[Retailer]:
    return list(
        Retailer.objects.filter(route=route(code), status=RetailerStatus.ACTIVE).order_by(
            "stop_order"
        )[:n]
    )


def session_for(by, *, route_code="A", **kwargs) -> TrainingSession:
    values = {
        "topic": "display",
        "held_on": timezone.localdate(),
        "place": "会议室",
        "trainer": "李红",
        "route": route(route_code),
    }
    return services.training_session_create(by=by, **(values | kwargs))


def fresh_member(demo, kind=ProgramKind.FUNCTIONAL, code="A") -> ProgramMembership:
    """A store of ``code`` that is in no program yet, enrolled now by the supervisor."""
    shop = (
        Retailer.objects.filter(route=route(code), status=RetailerStatus.ACTIVE)
        .exclude(program_memberships__isnull=False)
        .order_by("stop_order")
        .first()
    )
    by = demo["supervisor"] if code in "ABCDE" else demo["admin"]
    return services.program_enrol(by=by, retailer=shop, kind=kind)


# --- Training sessions ------------------------------------------------------------------------


def test_a_supervisor_records_a_district_wide_training(demo):
    district = District.objects.get(routes__code="A")
    session = services.training_session_create(
        by=demo["supervisor"],
        topic="policy_law",
        held_on=dt.date(2026, 11, 3),
        place=" 营销部会议室 ",
        trainer="王建国",
        district=district,
    )
    assert (session.district, session.route, session.place) == (district, None, "营销部会议室")
    assert session.created_by == demo["supervisor"]


def test_an_account_manager_records_a_training_for_their_route(demo):
    session = session_for(demo["manager"], route_code="B")
    assert (session.route.code, session.district.code) == ("B", route("B").district.code)


@pytest.mark.parametrize(
    ("who", "kwargs", "field", "message"),
    [
        ("manager", {"route_code": "F"}, "route", "This route is not one of yours."),
        ("manager2", {"route_code": "A"}, "route", "This route is not one of yours."),
        ("manager", {"place": "  "}, "place", "Say where the training is held."),
        ("manager", {"topic": "cooking"}, "topic", "Choose a topic from the list."),
        ("manager", {"held_on": dt.date(2001, 1, 1)}, "held_on", "more than five years back"),
    ],
)
def test_a_training_with_bad_input_is_refused_and_not_saved(demo, who, kwargs, field, message):
    before = TrainingSession.objects.count()
    with pytest.raises(ApplicationError) as caught:
        session_for(demo[who], **kwargs)
    assert message in caught.value.message
    assert field in caught.value.extra
    assert TrainingSession.objects.count() == before


def test_an_account_manager_cannot_record_a_district_wide_training(demo):
    with pytest.raises(ApplicationError, match="one of their routes"):
        services.training_session_create(
            by=demo["manager"],
            topic="display",
            held_on=timezone.localdate(),
            place="x",
            trainer="y",
            district=route("A").district,
        )


# --- Attendance -------------------------------------------------------------------------------


def test_attendance_is_recorded_updated_and_cleared(demo):
    session = session_for(demo["manager"])
    a, b, c = shops("A", 3)
    result = services.training_attendance_record(
        session=session, by=demo["manager"], marks={a.pk: "attended", b.pk: "absent", c.pk: ""}
    )
    assert result == {"saved": 2, "removed": 0}
    result = services.training_attendance_record(
        session=session, by=demo["manager"], marks={a.pk: "", b.pk: "attended"}
    )
    assert result == {"saved": 1, "removed": 1}
    assert dict(session.attendance.values_list("retailer_id", "status")) == {
        b.pk: AttendanceStatus.ATTENDED
    }


def test_attendance_for_a_retailer_out_of_scope_refuses_the_whole_request(demo):
    """manager2 records for their own session, slipping in one of manager's retailers."""
    session = session_for(demo["manager2"], route_code="F")
    (own,) = shops("F", 1)
    (foreign,) = shops("A", 1)
    with pytest.raises(ApplicationError) as caught:
        services.training_attendance_record(
            session=session,
            by=demo["manager2"],
            marks={own.pk: "attended", foreign.pk: "attended"},
        )
    assert str(foreign.pk) in caught.value.message
    assert "Nothing was recorded" in caught.value.message
    assert not TrainingAttendance.objects.filter(session=session).exists()


def test_attendance_on_a_route_session_is_limited_to_that_route(demo):
    session = session_for(demo["manager"], route_code="A")
    (other_route,) = shops("B", 1)
    with pytest.raises(ApplicationError, match="not in this training's scope"):
        services.training_attendance_record(
            session=session, by=demo["manager"], marks={other_route.pk: "attended"}
        )


def test_an_unknown_attendance_mark_is_refused(demo):
    session = session_for(demo["manager"])
    (shop,) = shops("A", 1)
    with pytest.raises(ApplicationError, match="Unknown attendance mark: late"):
        services.training_attendance_record(
            session=session, by=demo["manager"], marks={shop.pk: "late"}
        )
    assert not session.attendance.exists()


def test_sessions_are_visible_by_route_and_district(demo):
    route_session = session_for(demo["manager"], route_code="A")
    wide = services.training_session_create(
        by=demo["supervisor"],
        topic="ordering",
        held_on=timezone.localdate(),
        place="p",
        trainer="t",
        district=route("A").district,
    )
    mine = set(selectors.visible_sessions(demo["manager"]).values_list("pk", flat=True))
    theirs = set(selectors.visible_sessions(demo["manager2"]).values_list("pk", flat=True))
    assert {route_session.pk, wide.pk} <= mine
    assert not {route_session.pk, wide.pk} & theirs


def test_training_summary_counts_retailers_per_topic_and_route(demo):
    """A day well before the demo's sessions keeps them out: A gets a display session (2 attended,
    1 absent) and an ordering one (1 of the same attended again and 1 new), B one display
    attendee through a district-wide session."""
    day = timezone.localdate() - dt.timedelta(days=300)
    a1, a2, a3 = shops("A", 3)
    (b1,) = shops("B", 1)
    display = session_for(demo["manager"], held_on=day)
    ordering = session_for(demo["manager"], held_on=day, topic="ordering")
    wide = services.training_session_create(
        by=demo["supervisor"],
        topic="display",
        held_on=day,
        place="p",
        trainer="t",
        district=route("A").district,
    )
    marks = {a1.pk: "attended", a2.pk: "attended", a3.pk: "absent"}
    services.training_attendance_record(session=display, by=demo["manager"], marks=marks)
    services.training_attendance_record(
        session=ordering, by=demo["manager"], marks={a1.pk: "attended", a3.pk: "attended"}
    )
    services.training_attendance_record(
        session=wide, by=demo["supervisor"], marks={b1.pk: "attended", a1.pk: "attended"}
    )
    summary = selectors.training_summary(
        user=demo["supervisor"], since=day, until=day + dt.timedelta(days=1)
    )
    rows = {row.route.code: row for row in summary.rows}
    assert rows["A"].by_topic == {
        "policy_law": 0,
        "supply_grading": 0,
        "display": 2,
        "inventory": 0,
        "ordering": 2,
        "brand_cultivation": 0,
    }
    assert (rows["A"].trained, rows["A"].sessions, rows["A"].active) == (3, 2, 59)
    assert (rows["B"].by_topic["display"], rows["B"].trained, rows["B"].sessions) == (1, 1, 0)
    assert (summary.total.by_topic["display"], summary.total.trained) == (3, 4)
    assert summary.total.sessions == 3
    assert {row.route.code for row in summary.rows} == {"A", "B", "C", "D", "E"}


# --- Programs: enrolment ----------------------------------------------------------------------


def test_a_supervisor_enrols_and_withdraws_a_store_and_the_flags_follow(demo):
    membership = fresh_member(demo, ProgramKind.DEMONSTRATION)
    shop = Retailer.objects.get(pk=membership.retailer_id)
    assert (shop.is_demonstration_store, shop.is_standard_store) == (True, False)
    assert membership.enrolled_by == demo["supervisor"]
    services.program_withdraw(by=demo["supervisor"], membership=membership, note="整改")
    membership.refresh_from_db()
    shop.refresh_from_db()
    assert (membership.status, membership.until, membership.note) == (
        MembershipStatus.WITHDRAWN,
        timezone.localdate(),
        "整改",
    )
    assert shop.is_demonstration_store is False


def test_an_account_manager_cannot_enrol(demo):
    (shop,) = shops("A", 1)
    before = ProgramMembership.objects.count()
    with pytest.raises(ApplicationError, match="Only supervisors manage terminal programs"):
        services.program_enrol(by=demo["manager"], retailer=shop, kind=ProgramKind.STANDARD)
    assert ProgramMembership.objects.count() == before


def test_a_store_is_enrolled_once_per_program_and_must_be_active_and_visible(demo):
    member = fresh_member(demo, ProgramKind.STANDARD)
    with pytest.raises(ApplicationError, match="already a member"):
        services.program_enrol(
            by=demo["supervisor"], retailer=member.retailer, kind=ProgramKind.STANDARD
        )
    closed = Retailer.objects.filter(status=RetailerStatus.CLOSED, route__code="A").first()
    closed = closed or Retailer.objects.filter(status=RetailerStatus.CLOSED).first()
    with pytest.raises(ApplicationError, match="Only active retailers"):
        services.program_enrol(by=demo["supervisor"], retailer=closed, kind=ProgramKind.STANDARD)
    (town,) = shops("F", 1)
    with pytest.raises(ApplicationError, match="No retailer of yours"):
        services.program_enrol(by=demo["supervisor"], retailer=town, kind=ProgramKind.STANDARD)


# --- Programs: reviews ------------------------------------------------------------------------


def open_visit(demo, membership):
    return visit_services.visit_check_in(retailer=membership.retailer, by=demo["manager"])


def test_a_review_during_a_visit_stores_the_ticked_criteria(demo):
    membership = fresh_member(demo)
    visit = open_visit(demo, membership)
    criteria = services.active_criteria(membership.kind)
    review = services.program_review_record(
        by=demo["manager"], visit=visit, membership=membership, met=[criteria[0].pk]
    )
    assert (review.criteria_met, review.criteria_total) == (1, len(criteria))
    # Ticking again during the same visit replaces the answer.
    services.program_review_record(
        by=demo["manager"],
        visit=visit,
        membership=membership,
        met=[c.pk for c in criteria[:3]],
    )
    review = ProgramReview.objects.get(membership=membership, visit=visit)
    assert review.criteria_met == 3
    assert sorted(review.items.filter(met=True).values_list("criterion_id", flat=True)) == sorted(
        c.pk for c in criteria[:3]
    )
    assert review.items.count() == len(criteria)


def test_a_review_with_a_criterion_of_another_program_is_refused(demo):
    membership = fresh_member(demo)
    visit = open_visit(demo, membership)
    other = ProgramCriterion.objects.filter(kind=ProgramKind.STANDARD).first()
    with pytest.raises(ApplicationError, match="Tick criteria of this program only"):
        services.program_review_record(
            by=demo["manager"], visit=visit, membership=membership, met=[other.pk]
        )
    assert not ProgramReview.objects.filter(visit=visit).exists()


def test_only_the_visiting_manager_reviews_and_only_while_the_visit_is_open(demo):
    membership = fresh_member(demo)
    visit = open_visit(demo, membership)
    with pytest.raises(ApplicationError, match="Only the account manager on this visit"):
        services.program_review_record(
            by=demo["supervisor"], visit=visit, membership=membership, met=[]
        )
    visit_services.visit_check_out(visit=visit, by=demo["manager"])
    with pytest.raises(ApplicationError, match="This visit is closed"):
        services.program_review_record(
            by=demo["manager"], visit=visit, membership=membership, met=[]
        )
    assert not ProgramReview.objects.filter(visit=visit).exists()


# --- Programs: criteria and overview ----------------------------------------------------------


def test_criteria_are_added_edited_and_retired(demo):
    criterion = services.program_criterion_add(
        by=demo["supervisor"], kind=ProgramKind.FUNCTIONAL, text=" 有监控 "
    )
    assert criterion.text == "有监控"
    with pytest.raises(ApplicationError, match="already has this criterion"):
        services.program_criterion_add(
            by=demo["supervisor"], kind=ProgramKind.FUNCTIONAL, text="有监控"
        )
    services.program_criterion_update(
        by=demo["supervisor"], criterion=criterion, text="有监控设备", is_active=False
    )
    criterion.refresh_from_db()
    assert (criterion.text, criterion.is_active) == ("有监控设备", False)
    assert criterion not in services.active_criteria(ProgramKind.FUNCTIONAL)
    with pytest.raises(ApplicationError, match="Only supervisors"):
        services.program_criterion_add(by=demo["manager"], kind="functional", text="x")


def test_overview_counts_members_stale_reviews_and_share_met(demo, settings):
    """Route G of the small town (manager2) holds the demo's members; a fresh member reviewed
    now with 2 of 4 criteria is added, the target is lowered to 1 so G is flagged."""
    settings.DEMONSTRATION_STORES_PER_ROUTE = 1
    user = demo["manager2"]
    before = {row.label: row for row in selectors.program_overview(user=user).rows}
    membership = fresh_member(demo, ProgramKind.FUNCTIONAL, code="G")
    visit = visit_services.visit_check_in(retailer=membership.retailer, by=user)
    criteria = services.active_criteria(ProgramKind.FUNCTIONAL)
    services.program_review_record(
        by=user, visit=visit, membership=membership, met=[c.pk for c in criteria[:2]]
    )
    overview = selectors.program_overview(user=user, stale_days=30)
    rows = {row.label: row for row in overview.rows}
    assert set(rows) == {"YC-XZ F", "YC-XZ G"}
    g, g_before = rows["YC-XZ G"], before["YC-XZ G"]
    assert g.by_kind["functional"].members == g_before.by_kind["functional"].members + 1
    assert g.by_kind["functional"].stale == g_before.by_kind["functional"].stale
    assert (g.met - g_before.met, g.total - g_before.total) == (2, len(criteria))
    assert g.last_reviewed_at == ProgramReview.objects.get(visit=visit).reviewed_at
    # Exact figures for the route from the stored latest reviews.
    members = selectors.membership_list(user=user, route=route("G"))
    assert g.members == len(members)
    assert g.met == sum(m.last_met or 0 for m in members)
    cutoff = timezone.now() - dt.timedelta(days=30)
    assert g.stale == sum(
        1 for m in members if m.last_reviewed_at is None or m.last_reviewed_at < cutoff
    )
    assert g.demonstration_over is (g.by_kind["demonstration"].members > 1)
    assert overview.target == 1
    stale = selectors.membership_list(user=user, route=route("G"), stale_days=30)
    assert membership not in stale
    assert len(stale) == g.stale


def test_the_demo_has_trainings_members_and_reviews(demo):
    city = route("A").district
    assert TrainingSession.objects.filter(district=city).count() == 6
    assert TrainingAttendance.objects.filter(session__district=city).count() > 100
    for code in "ABCDE":
        demonstration = ProgramMembership.objects.filter(
            retailer__route__code=code, kind="demonstration", status="active"
        ).count()
        assert demonstration == 5
    assert ProgramReview.objects.filter(membership__retailer__route__district=city).exists()
