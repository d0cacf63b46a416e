"""Grades change only by a recorded evaluation (DESIGN §2.6)."""

import datetime as dt

import pytest

from accounts.models import GradeEvaluation
from accounts.services import grade_evaluation_record
from accounts.tests.factories import SupervisorFactory, UserFactory
from config.errors import ApplicationError

pytestmark = pytest.mark.django_db

PERIOD = {"period_start": dt.date(2026, 1, 1), "period_end": dt.date(2026, 6, 30)}


def test_evaluation_sets_the_grade_and_keeps_the_previous_one():
    boss, am = SupervisorFactory(), UserFactory(grade="junior")
    evaluation = grade_evaluation_record(
        manager=am, by=boss, score=85, grade="intermediate", notes=" good ", **PERIOD
    )
    am.refresh_from_db()
    assert am.grade == "intermediate"
    assert (evaluation.previous_grade, evaluation.grade, evaluation.notes) == (
        "junior",
        "intermediate",
        "good",
    )
    assert evaluation.evaluated_by == boss


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"score": 101}, "score"),
        ({"grade": "expert"}, "grade"),
        ({"period_end": dt.date(2025, 1, 1)}, "period_end"),
        ({"period_start": dt.date(2099, 1, 1), "period_end": dt.date(2099, 2, 1)}, "period_start"),
    ],
)
def test_bad_evaluations_change_nothing(changes, field):
    boss, am = SupervisorFactory(), UserFactory(grade="junior")
    values = {"score": 80, "grade": "senior", **PERIOD, **changes}
    with pytest.raises(ApplicationError) as err:
        grade_evaluation_record(manager=am, by=boss, **values)
    assert field in err.value.extra
    am.refresh_from_db()
    assert am.grade == "junior"
    assert GradeEvaluation.objects.filter(evaluated_by=boss).count() == 0


def test_only_supervisors_evaluate_and_only_managers_are_graded():
    boss, am = SupervisorFactory(), UserFactory()
    with pytest.raises(ApplicationError):
        grade_evaluation_record(manager=am, by=UserFactory(), score=1, grade="junior", **PERIOD)
    with pytest.raises(ApplicationError) as err:
        grade_evaluation_record(
            manager=SupervisorFactory(), by=boss, score=1, grade="junior", **PERIOD
        )
    assert "manager" in err.value.extra
    assert GradeEvaluation.objects.filter(evaluated_by=boss).count() == 0


def test_admin_cannot_edit_a_grade(admin_client):
    am = UserFactory(grade="junior")
    page = admin_client.get(f"/admin/accounts/user/{am.pk}/change/").content.decode()
    assert 'name="grade"' not in page
