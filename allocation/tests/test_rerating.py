"""The quarterly re-rating job (DESIGN §2.6): proposals from points and purchases."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from allocation import tasks
from allocation.models import PointsEntry
from allocation.rerating import rerating_propose
from allocation.tests.factories import BrandFactory, order
from retailers import services
from retailers.models import ProposalStatus, RatingProposal, RatingProposalLine, RatingThreshold
from retailers.tests.factories import RetailerFactory
from retailers.tests.rating_world import QUARTER, THRESHOLDS, rating_world
from settlement.models import OrderStatus
from territory.models import Cycle
from territory.tests.factories import CycleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_demo_rerating():
    """The demo's proposal and thresholds are not these tests' (removed in the transaction)."""
    RatingProposal.objects.all().delete()
    RatingThreshold.objects.all().delete()


def cycle(start: dt.date) -> Cycle:
    """The week starting ``start`` (the demo may hold it already)."""
    found = Cycle.objects.filter(start_date=start).first()
    return found or CycleFactory(start_date=start)


def points(retailer, cycle, value):
    PointsEntry.objects.create(
        retailer=retailer,
        cycle=cycle,
        cycle_start=cycle.start_date,
        cartons=0,
        points=value,
        running_total=value,
    )


@pytest.fixture
def world():
    w = rating_world()
    june, july, sept = (cycle(dt.date(2026, m, d)) for m, d in ((6, 22), (7, 6), (9, 28)))
    brand = BrandFactory()
    s = w.shops
    points(s["up5"], july, 70)
    points(s["up5"], sept, 50)
    order(s["up5"], july, (brand, 40))
    order(s["up5"], sept, (brand, 20))
    points(s["same3"], july, 40)
    order(s["same3"], july, (brand, 20))
    order(s["same3"], june, (brand, 500))  # the quarter before: not counted
    points(s["same3"], june, 900)
    points(s["unrated"], july, 10)
    order(s["unrated"], july, (brand, 2))
    points(s["same2"], july, 200)
    order(s["same2"], july, (brand, 5))
    order(s["same2"], july, (BrandFactory(), 100), status=OrderStatus.CANCELLED)
    points(s["closed"], july, 500)
    points(s["other"], july, 500)
    w.cycles = (june, july, sept)
    return w


def lines(proposal):
    return {
        line.retailer_id: (
            line.current_star,
            line.proposed_star,
            line.basis_star,
            line.points,
            line.cartons,
            line.movement,
        )
        for line in RatingProposalLine.objects.filter(proposal=proposal)
    }


def test_proposes_each_active_retailer_with_the_threshold_met(world):
    proposals = rerating_propose(quarter_start=QUARTER)
    # District 2 has no thresholds: no proposal.
    assert [p.district for p in proposals] == [world.d1]
    proposal = proposals[0]
    s = world.shops
    assert lines(proposal) == {
        s["up5"].pk: (3, 5, 5, 120, 60, 1),
        s["same3"].pk: (3, 3, 3, 40, 20, 0),
        s["down1"].pk: (4, 1, None, 0, 0, -1),
        s["unrated"].pk: (None, 2, 2, 10, 2, 1),
        s["same2"].pk: (2, 2, 2, 200, 5, 0),
    }
    proposal.refresh_from_db()
    assert (proposal.retailers, proposal.moving_up, proposal.moving_down) == (5, 2, 1)
    assert proposal.status == ProposalStatus.DRAFT
    assert proposal.quarter_end == dt.date(2026, 9, 30)
    assert proposal.thresholds == {str(k): list(v) for k, v in THRESHOLDS.items()}


def test_rerun_replaces_the_draft_and_approved_is_immutable(world):
    first = rerating_propose(quarter_start=QUARTER)[0]
    services.rating_thresholds_set(
        district=world.d1,
        thresholds={5: (1000, 1000), 4: (60, 30), 3: (30, 10), 2: (5, 1)},
        by=world.boss1,
    )
    second = rerating_propose(quarter_start=dt.date(2026, 8, 15))[0]
    assert second.pk == first.pk
    assert RatingProposal.objects.count() == 1
    assert lines(second)[world.shops["up5"].pk][1] == 4
    assert RatingProposalLine.objects.filter(proposal=second).count() == 5

    services.rating_proposal_approve(proposal=second, by=world.boss1)
    assert rerating_propose(quarter_start=QUARTER) == []
    second.refresh_from_db()
    assert second.status == ProposalStatus.APPROVED
    assert lines(second)[world.shops["up5"].pk][1] == 4


def test_rejected_proposal_can_be_rerun(world):
    proposal = rerating_propose(quarter_start=QUARTER)[0]
    services.rating_proposal_reject(proposal=proposal, by=world.boss1)
    again = rerating_propose(quarter_start=QUARTER)[0]
    assert again.pk == proposal.pk
    assert again.status == ProposalStatus.DRAFT
    assert again.decided_by is None


def test_query_count_does_not_grow_with_retailers(world):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            rerating_propose(quarter_start=QUARTER)
        return len(ctx.captured_queries)

    count()  # the first run creates the proposal; later ones replace it
    before = count()
    RetailerFactory.create_batch(30, route=world.r1)
    assert count() == before
    assert RatingProposalLine.objects.count() == 35


def test_task_and_command(world):
    assert tasks.propose_star_ratings.delay("2026-07-01", [world.d1.pk], world.boss1.pk).get() == 1
    proposal = RatingProposal.objects.get()
    assert proposal.proposed_by == world.boss1
    services.rating_thresholds_set(district=world.d2, thresholds=THRESHOLDS, by=world.boss2)
    call_command("propose_star_ratings", "--quarter", "2026-09-30", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert RatingProposal.objects.count() == 2
    other = RatingProposal.objects.get(district=world.d2)
    assert lines(other) == {world.shops["other"].pk: (1, 1, None, 500, 0, 0)}


def test_command_refuses_bad_input(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO"):
        call_command("propose_star_ratings", "--quarter", "July")
    with pytest.raises(CommandError, match="NOPE"):
        call_command("propose_star_ratings", "--quarter", "2026-07-01", "--district", "NOPE")
    assert RatingProposal.objects.count() == 0
