"""Who sees which runs and lines; the review's figures and checks; what managers are shown."""

import datetime as dt

import pytest

from accounts.tests.factories import AdminFactory, SupervisorFactory, UserFactory
from allocation import selectors, services
from allocation.models import AllocationLine, RunStatus
from allocation.tests.factories import make_world, order
from territory.tests.factories import CycleFactory, RouteFactory

pytestmark = pytest.mark.django_db


def computed(supply, by, **kwargs):
    run, _created = services.allocation_run_request(supply=supply, by=by, enqueue=False, **kwargs)
    services.allocation_run_compute(run_id=run.pk)
    run.refresh_from_db()
    return run


def publish(run, by):
    services.allocation_run_approve(run=run, by=by)
    return services.allocation_run_publish(run=run, by=by)


@pytest.fixture
def example():
    world = make_world()
    # A second route of the same branch, in another district, with its own manager.
    other_manager = UserFactory()
    far_route = RouteFactory(district__branch=world.branch, account_manager=other_manager)
    shops = {
        "A": world.retailer(points=50, name="A", star=5),
        "B": world.retailer(points=30, name="B", star=4),
        "C": world.retailer(points=15, name="C", star=3),
        "D": world.retailer(points=5, name="D", star=3, route=far_route),
    }
    world.points()
    return world, shops, other_manager


def test_visible_runs_by_role(example, demo):
    world, _shops, other_manager = example
    draft = computed(world.supply(), world.supervisor)
    published = publish(
        computed(world.supply(brand=world.class1), world.supervisor), world.supervisor
    )
    assert set(selectors.visible_runs(world.supervisor)) == {draft, published}
    assert set(selectors.visible_runs(AdminFactory())) >= {draft, published}
    assert list(selectors.visible_runs(world.manager)) == [published]
    assert list(selectors.visible_runs(other_manager)) == [published]
    assert list(selectors.visible_runs(demo["manager"])) == []
    assert list(selectors.visible_runs(demo["supervisor"])) == []
    assert list(selectors.visible_runs(SupervisorFactory())) == []
    assert selectors.can_manage(world.supervisor, world.branch)
    assert not selectors.can_manage(world.manager, world.branch)
    assert not selectors.can_manage(demo["supervisor"], world.branch)


def test_lines_are_limited_to_the_retailers_the_user_sees(example):
    world, _shops, other_manager = example
    run = publish(computed(world.supply(), world.supervisor), world.supervisor)
    names = lambda user: sorted(  # noqa: E731
        selectors.run_lines(user=user, run=run).values_list("retailer__name", flat=True)
    )
    assert names(world.supervisor) == ["A", "B", "C"]
    assert names(world.manager) == ["A", "B", "C"]
    assert names(other_manager) == ["D"]
    review = selectors.run_review(user=world.supervisor, run=run)
    assert (review.visible_lines, review.hidden_lines) == (3, 1)
    # The totals and distributions cover the whole run, which the supervisor approves.
    assert sum(b.cartons for b in review.by_star) == run.allocated == 10
    assert [(b.label, b.retailers, b.cartons) for b in review.by_star] == [
        ("★★★★★", 1, 4),
        ("★★★★", 1, 4),
        ("★★★", 2, 2),
    ]
    assert sorted(b.cartons for b in review.by_route) == [0, 10]


def test_published_awards_for_the_today_page_and_card(example, django_assert_num_queries):
    world, shops, other_manager = example
    draft_supply = world.supply(brand=world.class1)
    computed(draft_supply, world.supervisor)
    publish(computed(world.supply(), world.supervisor), world.supervisor)
    with django_assert_num_queries(1):
        awards = selectors.published_awards(world.manager, world.cycle)
    assert awards == {
        shops["A"].pk: [(world.scarce, 4)],
        shops["B"].pk: [(world.scarce, 4)],
        shops["C"].pk: [(world.scarce, 2)],
    }
    assert selectors.published_awards(world.manager, world.cycle, [shops["B"].pk]) == {
        shops["B"].pk: [(world.scarce, 4)]
    }
    assert selectors.published_awards(other_manager, world.cycle) == {}  # D got 0
    assert selectors.published_awards(world.manager, world.before) == {}


def test_fairness_check_finds_more_points_with_less(example):
    world, shops, _other = example
    run = computed(world.supply(), world.supervisor)
    assert selectors.fairness_issues(run) == (0, [])
    # Tamper with a stored line: B (30 points) now gets less than C (15 points), same cap 4.
    AllocationLine.objects.filter(run=run, retailer=shops["B"]).update(award=1)
    count, issues = selectors.fairness_issues(run)
    assert count == 1
    assert issues == [
        selectors.FairnessIssue(
            cap=4, more_points=30, more_points_award=1, fewer_points=15, fewer_points_award=2
        )
    ]


def test_previous_cycle_comparison(example):
    world, shops, _other = example
    # A published run of the same brand in the cycle before (made while that cycle was open).
    world.before.status = "open"
    world.before.save()
    earlier_points = selectors.previous_cycle(world.before)
    order(shops["A"], earlier_points, (world.class1, 2))
    services.points_compute(cycle=earlier_points)
    old = publish(computed(world.supply(cycle=world.before), world.supervisor), world.supervisor)
    new = computed(world.supply(), world.supervisor)
    assert selectors.previous_run(new) == old
    assert selectors.awards_in(old, [shops["A"].pk, shops["B"].pk]) == {
        shops["A"].pk: 4,
        shops["B"].pk: 0,
    }
    assert selectors.previous_run(old) is None


def test_statement_tells_only_published_lines(example):
    world, shops, other_manager = example
    run = computed(world.supply(), world.supervisor)
    statement = selectors.retailer_statement(
        user=world.manager, retailer_id=shops["B"].pk, cycle_id=world.cycle.pk
    )
    assert statement.lines == []
    assert statement.points.points == 30
    assert statement.points_cycle == world.before
    publish(run, world.supervisor)
    statement = selectors.retailer_statement(
        user=world.manager, retailer_id=shops["B"].pk, cycle_id=world.cycle.pk
    )
    assert [(line.run, line.award) for line in statement.lines] == [(run, 4)]
    with pytest.raises(shops["B"].DoesNotExist):
        selectors.retailer_statement(
            user=other_manager, retailer_id=shops["B"].pk, cycle_id=world.cycle.pk
        )


def test_violation_window_counts_back_whole_cycles(example):
    world, _shops, _other = example
    assert selectors.violation_window(world.cycle, 3) == (
        world.cycle.start_date - dt.timedelta(weeks=3),
        world.cycle.end_date,
    )
    assert selectors.violation_window(world.cycle, 0) is None
    # Where the calendar has fewer cycles before, each missing one counts as a week.
    first = CycleFactory(start_date=dt.date(1999, 1, 4), end_date=dt.date(1999, 1, 10))
    assert selectors.violation_window(first, 2) == (dt.date(1998, 12, 21), dt.date(1999, 1, 10))


def test_supply_list_and_review_lines_query_counts(example, django_assert_num_queries):
    world, _shops, _other = example
    for brand in (world.scarce, world.class1):
        computed(world.supply(brand=brand), world.supervisor)
    with django_assert_num_queries(2):  # supplies (branches as a subquery), runs
        supplies = selectors.supply_list(user=world.supervisor, cycle=world.cycle)
        assert [len(s.run_list) for s in supplies] == [1, 1]
    run = supplies[0].run_list[0]
    with django_assert_num_queries(1):
        lines = list(selectors.review_lines(user=world.supervisor, run=run))
        assert [line.retailer.name for line in lines] == ["A", "B", "C"]
        assert {line.route.code for line in lines} == {world.route.code}


def test_default_cycle_and_neighbours(example):
    world, _shops, _other = example
    assert selectors.previous_cycle(world.cycle) == world.before
    assert selectors.next_cycle(world.before) == world.cycle
    assert selectors.default_cycle(world.cycle.start_date + dt.timedelta(days=2)) == world.cycle
    assert RunStatus.PUBLISHED in selectors.RunStatus.values
