"""Star lock, override, thresholds and re-rating approval (DESIGN §2.6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from config.errors import ApplicationError
from retailers import services
from retailers.models import (
    ProposalStatus,
    RatingProposal,
    RatingProposalLine,
    RatingThreshold,
    StarChange,
    StarSource,
)
from retailers.tests.rating_world import QUARTER, THRESHOLDS, rating_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return rating_world()


def proposal_for(world, stars: dict[str, int]) -> RatingProposal:
    """A draft proposal of district 1 with the given proposed stars (figures made up)."""
    proposal = services.rating_proposals_prepare(
        districts=[world.d1], quarter_start=QUARTER, by=None
    )[0]
    for key, star in stars.items():
        shop = world.shops[key]
        current = shop.star
        RatingProposalLine.objects.create(
            proposal=proposal,
            retailer=shop,
            current_star=current,
            proposed_star=star,
            basis_star=star if star > 1 else None,
            points=0,
            cartons=0,
            movement=0 if current == star else (1 if current is None or star > current else -1),
        )
    services.rating_proposals_count(proposals=[proposal])
    proposal.refresh_from_db()
    return proposal


# --- the lock -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nobody", "am1", "boss2"])
def test_star_is_locked_for_everyone_but_the_district_supervisor(world, who):
    shop = world.shops["same3"]
    by = None if who == "nobody" else getattr(world, who)
    with pytest.raises(ApplicationError, match="locked between re-ratings"):
        services.retailer_change_star(
            retailer=shop, star=5, effective_from=timezone.localdate(), by=by, reason="why"
        )
    shop.refresh_from_db()
    assert shop.star == 3
    assert StarChange.objects.filter(retailer=shop).count() == 1


@pytest.mark.parametrize("source", [StarSource.HISTORY, StarSource.RERATING, StarSource.JOINED])
def test_other_sources_are_refused_once_a_retailer_has_a_star(world, source):
    shop = world.shops["same3"]
    with pytest.raises(ApplicationError, match="locked"):
        services.retailer_change_star(
            retailer=shop,
            star=5,
            effective_from=timezone.localdate(),
            by=world.boss1,
            reason="x",
            source=source,
        )
    assert StarChange.objects.filter(retailer=shop).count() == 1


def test_override_by_the_district_supervisor_is_audited(world):
    shop = world.shops["same3"]
    change = services.retailer_override_star(
        retailer=shop, star=5, by=world.boss1, reason="  Opened a second counter  "
    )
    shop.refresh_from_db()
    assert shop.star == 5
    assert (change.source, change.changed_by, change.reason, change.effective_from) == (
        StarSource.OVERRIDE,
        world.boss1,
        "Opened a second counter",
        timezone.localdate(),
    )


def test_override_needs_a_reason_a_real_change_and_no_past_date(world):
    shop = world.shops["same3"]
    with pytest.raises(ApplicationError) as err:
        services.retailer_override_star(retailer=shop, star=5, by=world.boss1, reason="  ")
    assert "reason" in err.value.extra
    with pytest.raises(ApplicationError) as err:
        services.retailer_override_star(retailer=shop, star=3, by=world.boss1, reason="same")
    assert "star" in err.value.extra
    with pytest.raises(ApplicationError) as err:
        services.retailer_change_star(
            retailer=shop,
            star=4,
            effective_from=timezone.localdate() - dt.timedelta(days=1),
            by=world.boss1,
            reason="back-dated",
        )
    assert "effective_from" in err.value.extra
    with pytest.raises(ApplicationError):
        services.retailer_override_star(retailer=shop, star=6, by=world.boss1, reason="x")
    shop.refresh_from_db()
    assert shop.star == 3
    assert StarChange.objects.filter(retailer=shop).count() == 1


def test_admin_cannot_edit_the_star(admin_client, world):
    shop = world.shops["same3"]
    response = admin_client.get(f"/admin/retailers/retailer/{shop.pk}/change/")
    assert response.status_code == 200
    assert 'name="star"' not in response.content.decode()
    assert 'name="name"' in response.content.decode()


# --- thresholds -----------------------------------------------------------------------------


def test_thresholds_must_not_contradict_and_only_the_supervisor_sets_them(world):
    with pytest.raises(ApplicationError) as err:
        services.rating_thresholds_set(
            district=world.d1,
            thresholds={5: (10, 50), 4: (60, 30), 3: (30, 10), 2: (5, 1)},
            by=world.boss1,
        )
    assert "points_5" in err.value.extra
    with pytest.raises(ApplicationError):
        services.rating_thresholds_set(district=world.d1, thresholds=THRESHOLDS, by=world.boss2)
    with pytest.raises(ApplicationError):
        services.rating_thresholds_set(district=world.d1, thresholds={5: (1, 1)}, by=world.boss1)
    assert services.rating_thresholds_of(world.d1.pk) == THRESHOLDS
    assert RatingThreshold.objects.filter(district=world.d2).count() == 0


# --- approval -------------------------------------------------------------------------------


def test_approve_changes_the_stars_with_history(world):
    proposal = proposal_for(world, {"up5": 5, "same3": 3, "down1": 1, "unrated": 2})
    assert (proposal.retailers, proposal.moving_up, proposal.moving_down) == (4, 2, 1)
    changed = services.rating_proposal_approve(proposal=proposal, by=world.boss1)
    assert changed == 3
    s = world.shops
    for key, star in {"up5": 5, "same3": 3, "down1": 1, "unrated": 2, "same2": 2}.items():
        s[key].refresh_from_db()
        assert s[key].star == star, key
    rerated = StarChange.objects.filter(source=StarSource.RERATING)
    assert {(c.retailer_id, c.star) for c in rerated} == {
        (s["up5"].pk, 5),
        (s["down1"].pk, 1),
        (s["unrated"].pk, 2),
    }
    assert {c.changed_by for c in rerated} == {world.boss1}
    assert {c.effective_from for c in rerated} == {timezone.localdate()}
    assert {c.reason for c in rerated} == {"Re-rating 2026 Q3"}
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.decided_by == world.boss1


def test_only_the_district_supervisor_decides_and_only_once(world):
    proposal = proposal_for(world, {"up5": 5})
    for who in (world.boss2, world.am1):
        with pytest.raises(ApplicationError):
            services.rating_proposal_approve(proposal=proposal, by=who)
        with pytest.raises(ApplicationError):
            services.rating_proposal_reject(proposal=proposal, by=who)
    world.shops["up5"].refresh_from_db()
    assert world.shops["up5"].star == 3
    services.rating_proposal_reject(proposal=proposal, by=world.boss1)
    with pytest.raises(ApplicationError, match="already decided"):
        services.rating_proposal_approve(proposal=proposal, by=world.boss1)
    world.shops["up5"].refresh_from_db()
    assert world.shops["up5"].star == 3
    assert not StarChange.objects.filter(source=StarSource.RERATING).exists()


def test_quarter_helpers():
    assert services.quarter_bounds(dt.date(2026, 11, 5)) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
    )
    assert services.previous_quarter(dt.date(2026, 1, 2)) == (
        dt.date(2025, 10, 1),
        dt.date(2025, 12, 31),
    )
