"""The quarterly star re-rating job: propose every retailer's star (DESIGN §2.6).

It lives here because it reads both points (this app's ledger) and purchases (settlement's
order lines) — the rightmost app it needs (DESIGN §3). The proposals, their review, approval and
the star lock belong to ``retailers`` (``retailers.services``); this module only fills them.

Set-based: one ``INSERT … SELECT`` fills the lines of every district asked for at once, whatever
their number (500,000 retailers is one statement), from two aggregates (points of the quarter's
cycles from the ledger, cartons of the quarter's counted orders) and the thresholds pivoted per
district. No query runs per retailer.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.models import User
from allocation.models import PointsEntry
from config.logs import JOBS, log_event
from retailers import services as retailer_services
from retailers.models import (
    RATED_STARS,
    RatingProposal,
    RatingProposalLine,
    RatingThreshold,
    Retailer,
    RetailerStatus,
)
from settlement.models import COUNTED_ORDER_STATUSES, Order, OrderLine
from territory.models import Cycle, District, Route


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _fill_sql(n_statuses: int) -> str:
    pivot = ", ".join(
        f"MAX(CASE WHEN star = {s} THEN min_points END) AS p{s},"
        f" MAX(CASE WHEN star = {s} THEN min_cartons END) AS c{s}"
        for s in RATED_STARS
    )
    basis = " ".join(
        f"WHEN COALESCE(pt.points, 0) >= t.p{s} AND COALESCE(pc.cartons, 0) >= t.c{s} THEN {s}"
        for s in RATED_STARS
    )
    statuses = ", ".join(["%s"] * n_statuses)
    # Only table names and star numbers are interpolated; every value is a parameter.
    return (
        f"INSERT INTO {_t(RatingProposalLine)}"  # noqa: S608
        " (proposal_id, retailer_id, current_star, proposed_star, basis_star, points, cartons,"
        "  movement)"
        " SELECT m.proposal_id, m.id, m.star, COALESCE(m.basis, 1), m.basis, m.points, m.cartons,"
        "  CASE WHEN m.star IS NULL OR COALESCE(m.basis, 1) > m.star THEN 1"
        "       WHEN COALESCE(m.basis, 1) < m.star THEN -1 ELSE 0 END"
        " FROM ("
        "  SELECT p.id AS proposal_id, r.id, r.star,"
        "   COALESCE(pt.points, 0) AS points, COALESCE(pc.cartons, 0) AS cartons,"
        f"   CASE {basis} ELSE NULL END AS basis"
        f"  FROM {_t(Retailer)} r"
        f"  JOIN {_t(Route)} rt ON rt.id = r.route_id"
        f"  JOIN {_t(RatingProposal)} p ON p.district_id = rt.district_id"
        f"  JOIN (SELECT district_id, {pivot} FROM {_t(RatingThreshold)} GROUP BY district_id) t"
        "    ON t.district_id = rt.district_id"
        "  LEFT JOIN ("
        "   SELECT e.retailer_id, SUM(e.points) AS points"
        f"   FROM {_t(PointsEntry)} e"
        "   WHERE e.cycle_start BETWEEN %s AND %s"
        "   GROUP BY e.retailer_id"
        "  ) pt ON pt.retailer_id = r.id"
        "  LEFT JOIN ("
        "   SELECT o.retailer_id, SUM(l.cartons) AS cartons"
        f"   FROM {_t(OrderLine)} l JOIN {_t(Order)} o ON o.id = l.order_id"
        f"   JOIN {_t(Cycle)} cy ON cy.id = o.cycle_id"
        f"   WHERE cy.start_date BETWEEN %s AND %s AND o.status IN ({statuses})"
        "   GROUP BY o.retailer_id"
        "  ) pc ON pc.retailer_id = r.id"
        "  WHERE p.id = ANY(%s) AND r.status = %s"
        " ) m"
    )


def _fill_sql_portable(n_statuses: int, n_ids: int) -> str:
    # SQLite (the quick start) has no ``= ANY(array)``.
    return _fill_sql(n_statuses).replace("p.id = ANY(%s)", f"p.id IN ({', '.join(['%s'] * n_ids)})")


@transaction.atomic
def rerating_propose(
    *,
    quarter_start: dt.date,
    districts: QuerySet[District] | list[District] | None = None,
    by: User | None = None,
) -> list[RatingProposal]:
    """Propose every active retailer's star from the quarter's points and purchases.

    ``districts`` defaults to every district; those without thresholds or with an approved
    proposal for the quarter are skipped. A rerun replaces the quarter's unapproved proposal.
    Returns the proposals written.
    """
    chosen = list(District.objects.all() if districts is None else districts)
    proposals = retailer_services.rating_proposals_prepare(
        districts=chosen, quarter_start=quarter_start, by=by
    )
    if not proposals:
        return []
    start, end = proposals[0].quarter_start, proposals[0].quarter_end
    statuses = [str(s) for s in COUNTED_ORDER_STATUSES]
    ids = [p.pk for p in proposals]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            sql, id_params = _fill_sql(len(statuses)), [ids]
        else:
            sql, id_params = _fill_sql_portable(len(statuses), len(ids)), ids
        cursor.execute(sql, [start, end, start, end, *statuses, *id_params, RetailerStatus.ACTIVE])
    retailer_services.rating_proposals_count(proposals=proposals)
    log_event(
        JOBS,
        "rerating_proposed",
        level=logging.INFO,
        quarter=start.isoformat(),
        proposals=len(proposals),
        retailers=sum(p.retailers for p in proposals),
        by=getattr(by, "pk", None),
    )
    return proposals
