"""Read queries for retailers, scoped to the user (DESIGN §3: visibility in one place)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from accounts.models import GradeEvaluation, User
from retailers.models import (
    OrderingChannel,
    PaymentMethod,
    RatingProposal,
    RatingProposalLine,
    RatingThreshold,
    Retailer,
    RetailerStatus,
    StarChange,
    StatusChange,
)
from territory.models import District, Route
from territory.selectors import route_scope, visible_account_managers, visible_districts

STARS = (5, 4, 3, 2, 1)
UNRATED = "unrated"


def visible_retailers(user: User) -> QuerySet[Retailer]:
    """Every retailer the user may see, of any status: the one visibility rule for retailers.

    An account manager sees the retailers on routes assigned to them, a supervisor those of the
    districts they supervise, an administrator all (DESIGN §3).
    """
    scope = route_scope(user, prefix="route__")
    retailers = Retailer.objects.all()
    return retailers if scope is None else retailers.filter(scope)


def search_retailers(retailers: QuerySet[Retailer], text: str) -> QuerySet[Retailer]:
    """Retailers whose name contains ``text`` or whose licence number starts with it."""
    return retailers.filter(Q(name__icontains=text) | Q(licence_number__istartswith=text))


#: What ``retailer_api_list`` annotates with the settlement account (bank, last digits).
API_SETTLEMENT_ANNOTATIONS = ("settlement_bank", "settlement_last4")


def retailer_api_list(*, user: User, with_settlement: bool) -> QuerySet[Retailer]:
    """Visible retailers of every status, with what the API shows loaded in the same query.

    ``with_settlement`` adds the settlement account's bank and last digits (never the
    encrypted number) as ``settlement_bank`` and ``settlement_last4`` (``None`` without an
    account) for roles that may see them (``accounts.permissions.can_view_settlement_data``).
    They are looked up per returned row, not joined: a join sorted by id made PostgreSQL walk
    the accounts from the first one to a deep cursor's position on every page (88 ms at
    500,000 retailers, against 2 ms for the page itself).
    """
    retailers = visible_retailers(user).select_related("route", "route__district")
    if with_settlement:
        # The reverse one-to-one's model, without importing settlement (DESIGN §3).
        accounts = Retailer._meta.get_field("settlement_account").related_model.objects.filter(
            retailer=OuterRef("pk")
        )
        bank, last4 = API_SETTLEMENT_ANNOTATIONS
        retailers = retailers.annotate(
            **{
                bank: Subquery(accounts.values("bank_name")[:1]),
                last4: Subquery(accounts.values("account_last4")[:1]),
            }
        )
    return retailers


def retailer_list(
    *,
    user: User,
    route: Route | None = None,
    district: District | None = None,
    star: int | str | None = None,
    status: str | None = None,
    business_type: str | None = None,
    search: str = "",
) -> QuerySet[Retailer]:
    """Visible retailers filtered as the list page asks; ``star`` may be ``"unrated"``."""
    retailers = visible_retailers(user).select_related("route", "route__district")
    if route is not None:
        retailers = retailers.filter(route=route)
    if district is not None:
        retailers = retailers.filter(route__district=district)
    if star == UNRATED:
        retailers = retailers.filter(star__isnull=True)
    elif star is not None:
        retailers = retailers.filter(star=star)
    if status:
        retailers = retailers.filter(status=status)
    if business_type:
        retailers = retailers.filter(business_type=business_type)
    if search:
        retailers = search_retailers(retailers, search)
    return retailers.order_by("route__district__code", "route__code", "stop_order", "id")


def retailer_detail(*, user: User, pk: int) -> Retailer:
    """One visible retailer with its history loaded; raises ``Retailer.DoesNotExist``."""
    return (
        visible_retailers(user)
        .select_related("route", "route__district", "route__account_manager")
        .prefetch_related("star_history__changed_by", "status_history__changed_by", "violations")
        .get(pk=pk)
    )


def _as_of(model, value: str, day: dt.date) -> Subquery:
    return Subquery(
        model.objects.filter(retailer=OuterRef("pk"), effective_from__lte=day)
        .order_by("-effective_from")
        .values(value)[:1]
    )


def retailers_as_of(day: dt.date) -> QuerySet[Retailer]:
    """Retailers annotated with ``status_at`` and ``star_at``: their values at the end of ``day``.

    A retailer with no status recorded on or before ``day`` had not joined yet.
    """
    return Retailer.objects.annotate(
        status_at=_as_of(StatusChange, "status", day), star_at=_as_of(StarChange, "star", day)
    )


@dataclass
class SummaryRow:
    """One line of the district summary: a route, or the totals."""

    label: str
    route: Route | None = None
    retailers: int = 0
    by_star: dict[int | str, int] = field(
        default_factory=lambda: dict.fromkeys((*STARS, UNRATED), 0)
    )
    e_settlement: int = 0
    online: int = 0

    @property
    def stars(self) -> list[int]:
        return [self.by_star[key] for key in (*STARS, UNRATED)]

    @property
    def e_settlement_share(self) -> Decimal | None:
        """Percentage with one decimal, rounded half up; ``None`` with no retailers."""
        if self.retailers == 0:
            return None
        share = Decimal(self.e_settlement * 100) / Decimal(self.retailers)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def add(self, *, star: int | None, e_settlement: bool, online: bool, count: int) -> None:
        self.retailers += count
        self.by_star[UNRATED if star is None else star] += count
        self.e_settlement += count if e_settlement else 0
        self.online += count if online else 0


@dataclass
class DistrictSummary:
    district: District
    as_of: dt.date
    rows: list[SummaryRow]
    total: SummaryRow


def district_summary(*, user: User, district: District, as_of: dt.date) -> DistrictSummary:
    """Per route of a district: active retailers as of a date, by star, e-settlement, online.

    Counts come from status and star history, so a past date shows the retailers active then
    with the star they had then (DESIGN §1: 310 at the quarter start, 308 today). Only routes
    the user may see are counted.
    """
    routes = list(
        Route.objects.filter(district=district)
        .filter(route_scope(user) or Q())
        .select_related("district")
        .order_by("code")
    )
    rows = {route.pk: SummaryRow(label=route.code, route=route) for route in routes}
    counts = (
        retailers_as_of(as_of)
        .filter(route__in=routes, status_at=RetailerStatus.ACTIVE)
        .values("route_id", "star_at", "payment_method", "ordering_channel")
        .annotate(n=Count("id"))
        .order_by()
    )
    total = SummaryRow(label="total")
    for item in counts:
        for row in (rows[item["route_id"]], total):
            row.add(
                star=item["star_at"],
                e_settlement=item["payment_method"] == PaymentMethod.E_SETTLEMENT,
                online=item["ordering_channel"] == OrderingChannel.ONLINE,
                count=item["n"],
            )
    return DistrictSummary(district=district, as_of=as_of, rows=list(rows.values()), total=total)


# --- Re-rating, grades (supervisor pages) ---------------------------------------------------

MOVEMENTS = {"up": 1, "down": -1, "same": 0}


def can_supervise(user: User) -> bool:
    """Re-rating, overrides, grades and the roster import are pages for supervisors (and
    administrators, who may look); account managers are refused (403)."""
    return bool(
        user.is_authenticated and user.is_active and (user.is_supervisor or user.is_administrator)
    )


def supervised_districts(user: User) -> QuerySet[District]:
    """The districts whose stars, thresholds and roster ``user`` may decide: a supervisor's own.
    Administrators look but do not decide."""
    if not can_supervise(user) or not user.is_supervisor:
        return District.objects.none()
    return District.objects.filter(supervisor=user)


def visible_proposals(user: User) -> QuerySet[RatingProposal]:
    if not can_supervise(user):
        return RatingProposal.objects.none()
    return RatingProposal.objects.filter(district__in=visible_districts(user)).select_related(
        "district", "decided_by", "proposed_by"
    )


def proposal_lines(
    *, proposal: RatingProposal, movement: str = "", route: Route | None = None, search: str = ""
) -> QuerySet[RatingProposalLine]:
    """A proposal's lines as the review page filters them, retailer and route loaded."""
    lines = RatingProposalLine.objects.filter(proposal=proposal).select_related(
        "retailer", "retailer__route"
    )
    if movement in MOVEMENTS:
        lines = lines.filter(movement=MOVEMENTS[movement])
    if route is not None:
        lines = lines.filter(retailer__route=route)
    if search:
        lines = lines.filter(
            Q(retailer__name__icontains=search) | Q(retailer__licence_number__istartswith=search)
        )
    return lines.order_by("retailer__route__code", "retailer__stop_order", "retailer_id")


def line_reason(line: RatingProposalLine, thresholds: dict[str, list[int]]) -> str:
    """Why a retailer is proposed its star: the threshold it met, and the next one it missed."""
    parts = []
    if line.basis_star:
        points, cartons = thresholds[str(line.basis_star)]
        parts.append(
            _("met %(star)s★ (points ≥ %(points)s, cartons ≥ %(cartons)s)")
            % {"star": line.basis_star, "points": points, "cartons": cartons}
        )
    above = (line.basis_star or 1) + 1
    if above <= 5:
        points, cartons = thresholds[str(above)]
        parts.append(
            _("below %(star)s★ (points ≥ %(points)s, cartons ≥ %(cartons)s)")
            % {"star": above, "points": points, "cartons": cartons}
        )
    return "; ".join(parts)


def grade_evaluations(manager: User) -> QuerySet[GradeEvaluation]:
    return GradeEvaluation.objects.filter(manager=manager).select_related("evaluated_by")


def thresholds_by_district(district_ids: list[int]) -> dict[int, dict[int, tuple[int, int]]]:
    """``{district id: {star: (min points, min cartons)}}`` in one query."""
    found: dict[int, dict[int, tuple[int, int]]] = {}
    for t in RatingThreshold.objects.filter(district_id__in=district_ids):
        found.setdefault(t.district_id, {})[t.star] = (t.min_points, t.min_cartons)
    return found


def visible_evaluations(user: User) -> QuerySet[GradeEvaluation]:
    """Grade evaluations: of the managers on a supervisor's routes, an account manager's own,
    or all for an administrator."""
    evaluations = GradeEvaluation.objects.select_related("manager", "evaluated_by")
    if not user.is_authenticated or not user.is_active:
        return evaluations.none()
    if user.is_administrator:
        return evaluations
    if user.is_supervisor:
        return evaluations.filter(manager__in=visible_account_managers(user))
    return evaluations.filter(manager=user)
