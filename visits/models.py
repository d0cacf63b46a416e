"""Differentiated service (DESIGN §2.1, §2.2, §2.6): policy per star, visit plans, visits.

How visits per cycle are spread (the rule the plan generator implements, see
``visits.services.visit_plan_generate``): a policy says ``visits`` visits every
``period_cycles`` cycles.

* ``period_cycles`` > 1 (e.g. 1–2★: one visit every 2 cycles): a retailer is planned in the
  cycles where ``(cycle week number + retailer id) % period_cycles == 0``, so over any
  ``period_cycles`` consecutive cycles it gets exactly ``visits`` visits, and the small shops
  of a route are split evenly between the alternating weeks instead of all falling in one.
* ``visits`` > 1 (e.g. 5★: twice a cycle): the first visit is on the route's own weekday, the
  others on the account manager's other route days, spread evenly around their weekly round:
  with the manager's route weekdays ``D`` (sorted; padded with the remaining weekdays from
  Monday on if the manager has fewer days than visits), visit ``j`` goes on
  ``D[(i + j * len(D) // visits) % len(D)]`` where ``D[i]`` is the route's weekday. The days
  are always distinct, so the counts in a cycle match the policy exactly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalog.models import Brand
from retailers.models import Retailer
from territory.models import Cycle, Route

#: ``ServicePolicy.star`` of the policy for retailers that have no star yet.
UNRATED = 0
#: A stay longer than this is refused as a mistake (a visit left open overnight).
MAX_STAY_MINUTES = 12 * 60
#: Bounds of a stock observation: anything outside is a typing mistake, not a shop.
MAX_CARTONS = 2000
MAX_SALES_CARTONS = 5000
#: A retail price seen is accepted between these multiples of the brand's list price.
PRICE_FACTOR_MIN, PRICE_FACTOR_MAX = 0.5, 3
MAX_EMERGENCY_CARTONS = 100
MAX_FOLLOW_UPS = 5


class PolicyStar(models.IntegerChoices):
    FIVE = 5, "5★"
    FOUR = 4, "4★"
    THREE = 3, "3★"
    TWO = 2, "2★"
    ONE = 1, "1★"
    UNRATED = UNRATED, _("Unrated")


class FocusActivity(models.TextChoices):
    """The focus activities of a visit (DESIGN §2.1; the source document's 服务措施)."""

    PROMOTE_BRANDS = "promote_brands", _("Promote class-1/2 and new brands")
    LAW = "law", _("Law and regulation")
    INVENTORY = "inventory", _("Inventory guidance")
    SUBSTITUTES = "substitutes", _("Substitute brands")
    COUNTER = "counter", _("Counter tidying and display")
    SALES = "sales", _("Sales guidance")
    TRAINING = "training", _("Training")


def validate_activities(value) -> None:
    if not isinstance(value, list) or any(item not in FocusActivity.values for item in value):
        raise ValidationError(_("Choose activities from the list."), code="invalid")
    if len(set(value)) != len(value):
        raise ValidationError(_("An activity is listed twice."), code="duplicate")


class ServicePolicy(models.Model):
    """How retailers of one star are served (DESIGN §2.1); one row per star and one unrated."""

    star = models.PositiveSmallIntegerField(_("star"), choices=PolicyStar.choices, unique=True)
    visits = models.PositiveSmallIntegerField(
        _("visits"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    period_cycles = models.PositiveSmallIntegerField(
        _("every … cycles"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text=_("1: the visits are every cycle; 2: every other cycle, and so on."),
    )
    min_stay_minutes = models.PositiveSmallIntegerField(
        _("minimum stay (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    activities = models.JSONField(
        _("focus activities"), default=list, blank=True, validators=[validate_activities]
    )
    emergency_delivery = models.BooleanField(
        _("emergency delivery"),
        default=False,
        help_text=_(
            "Retailers of this star with integrity level A may ask for emergency deliveries "
            "(catering and entertainment venues always may)."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("service policy")
        verbose_name_plural = _("service policies")
        ordering = ["-star"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(star__gte=0, star__lte=5), name="service_policy_star_0_to_5"
            ),
            models.CheckConstraint(
                condition=models.Q(visits__gte=1, visits__lte=5),
                name="service_policy_visits_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(period_cycles__gte=1, period_cycles__lte=4),
                name="service_policy_period_1_to_4",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_star_display())

    @property
    def activity_labels(self) -> list[str]:
        return [FocusActivity(a).label for a in self.activities]

    def snapshot(self) -> dict:
        return {
            "visits": self.visits,
            "period_cycles": self.period_cycles,
            "min_stay_minutes": self.min_stay_minutes,
            "activities": list(self.activities),
            "emergency_delivery": self.emergency_delivery,
        }


class ServicePolicyChange(models.Model):
    """Who changed a policy when, and from what to what."""

    policy = models.ForeignKey(
        ServicePolicy, on_delete=models.CASCADE, related_name="changes", verbose_name=_("policy")
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    before = models.JSONField(_("before"))
    after = models.JSONField(_("after"))

    class Meta:
        verbose_name = _("service policy change")
        verbose_name_plural = _("service policy changes")
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.policy_id} @ {self.changed_at:%Y-%m-%d %H:%M}"


class PlanSource(models.TextChoices):
    GENERATED = "generated", _("Generated")
    ADDED = "added", _("Added by a supervisor")


class VisitPlan(models.Model):
    """One planned visit: a retailer, a day and the account manager who goes (三到位)."""

    # The generator writes a province's plan (about 480,000 entries) in one statement, taking
    # every id from the same query's joins; the database's per-row foreign-key checks of these
    # four columns cost about a quarter of that job, so they are not declared in the database
    # (as for the points ledger and the allocation lines). Deleting a cycle, retailer, user or
    # route still goes through Django's on_delete.
    cycle = models.ForeignKey(
        Cycle,
        on_delete=models.PROTECT,
        related_name="visit_plans",
        verbose_name=_("cycle"),
        db_constraint=False,
    )
    day = models.DateField(_("day"))
    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="visit_plans",
        verbose_name=_("retailer"),
        db_index=False,  # the unique (retailer, cycle, sequence) index serves it
        db_constraint=False,
    )
    #: The n-th planned visit of this retailer in this cycle: reruns of the generator find
    #: the same (retailer, cycle, sequence) and leave a moved entry where it was moved.
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="visit_plans",
        verbose_name=_("account manager"),
        db_index=False,  # the (account_manager, day) index serves it
        db_constraint=False,
    )
    route = models.ForeignKey(
        Route,
        on_delete=models.PROTECT,
        related_name="visit_plans",
        verbose_name=_("route"),
        db_constraint=False,
    )
    #: The retailer's star and the policy's minimum stay when the entry was planned.
    star = models.PositiveSmallIntegerField(_("star"), null=True, blank=True)
    min_stay_minutes = models.PositiveSmallIntegerField(_("minimum stay (minutes)"))
    source = models.CharField(
        _("source"), max_length=10, choices=PlanSource.choices, default=PlanSource.GENERATED
    )
    moved_at = models.DateTimeField(_("moved at"), null=True, blank=True)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("moved by"),
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("visit plan entry")
        verbose_name_plural = _("visit plan")
        ordering = ["day", "route_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["retailer", "cycle", "sequence"], name="visit_plan_once_per_sequence"
            ),
            models.UniqueConstraint(fields=["retailer", "day"], name="visit_plan_once_per_day"),
        ]
        indexes = [
            models.Index(fields=["account_manager", "day"], name="visit_plan_manager_day"),
            models.Index(fields=["cycle", "route"], name="visit_plan_cycle_route"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.retailer_id} #{self.sequence}"


class Visit(models.Model):
    """A visit to a retailer: check in, what was done, check out (DESIGN §2.6).

    ``star``, ``route`` and ``required_stay_minutes`` are what they were at check-in, so the
    compliance report does not move when a policy or a star changes later.
    """

    retailer = models.ForeignKey(
        Retailer, on_delete=models.CASCADE, related_name="visits", verbose_name=_("retailer")
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("account manager"),
    )
    plan = models.OneToOneField(
        VisitPlan,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="visit",
        verbose_name=_("plan entry"),
    )
    cycle = models.ForeignKey(
        Cycle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        verbose_name=_("cycle"),
    )
    route = models.ForeignKey(
        Route, on_delete=models.PROTECT, related_name="visits", verbose_name=_("route")
    )
    star = models.PositiveSmallIntegerField(_("star"), null=True, blank=True)
    required_stay_minutes = models.PositiveSmallIntegerField(_("minimum stay (minutes)"))
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    stay_minutes = models.PositiveSmallIntegerField(
        _("stay (minutes)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_STAY_MINUTES)],
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    activities = models.JSONField(
        _("activities"), default=list, blank=True, validators=[validate_activities]
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    feedback = models.TextField(_("retailer feedback and suggestions"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-checked_in_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(checked_out_at__isnull=True)
                | models.Q(checked_out_at__gte=models.F("checked_in_at")),
                name="visit_out_after_in",
            ),
            models.CheckConstraint(
                condition=models.Q(stay_minutes__isnull=True)
                | models.Q(stay_minutes__lte=MAX_STAY_MINUTES),
                name="visit_stay_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | models.Q(latitude__gte=-90, latitude__lte=90),
                name="visit_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | models.Q(longitude__gte=-180, longitude__lte=180),
                name="visit_longitude_range",
            ),
            # One open visit at a time, per account manager and per retailer.
            models.UniqueConstraint(
                fields=["account_manager"],
                condition=models.Q(checked_out_at__isnull=True),
                name="visit_one_open_per_manager",
            ),
            models.UniqueConstraint(
                fields=["retailer"],
                condition=models.Q(checked_out_at__isnull=True),
                name="visit_one_open_per_retailer",
            ),
        ]
        indexes = [
            models.Index(fields=["retailer", "checked_in_at"], name="visit_retailer_time"),
            models.Index(fields=["cycle", "route"], name="visit_cycle_route"),
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id} @ {self.checked_in_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.checked_out_at is None

    @property
    def is_unplanned(self) -> bool:
        return self.plan_id is None

    @property
    def is_short(self) -> bool:
        return self.stay_minutes is not None and self.stay_minutes < self.required_stay_minutes

    @property
    def activity_labels(self) -> list[str]:
        return [FocusActivity(a).label for a in self.activities if a in FocusActivity.values]


class StockObservation(models.Model):
    """Volume, price and stock (量、价、存) of one brand seen at a visit."""

    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="stock", verbose_name=_("visit")
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("brand")
    )
    cartons_on_hand = models.PositiveIntegerField(
        _("stock (cartons)"), validators=[MaxValueValidator(MAX_CARTONS)]
    )
    retail_price = models.DecimalField(
        _("retail price per carton"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    sales_last_cycle = models.PositiveIntegerField(
        _("sold last cycle (cartons)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_SALES_CARTONS)],
    )

    class Meta:
        verbose_name = _("stock observation")
        verbose_name_plural = _("stock observations")
        ordering = ["visit_id", "brand__price_class", "brand__code"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "brand"], name="stock_observation_once"),
            models.CheckConstraint(
                condition=models.Q(cartons_on_hand__lte=MAX_CARTONS),
                name="stock_observation_cartons_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(retail_price__isnull=True) | models.Q(retail_price__gt=0),
                name="stock_observation_price_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand_id}: {self.cartons_on_hand}"


class FollowUp(models.Model):
    """An action for the next visit: planned at one visit, evaluated at a later one."""

    retailer = models.ForeignKey(
        Retailer, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("retailer")
    )
    text = models.CharField(_("follow-up"), max_length=200)
    created_in = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="follow_ups_created", verbose_name=_("set at")
    )
    done_in = models.ForeignKey(
        Visit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups_done",
        verbose_name=_("done at"),
    )
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["retailer_id", "id"]
        indexes = [
            models.Index(
                fields=["retailer"],
                condition=models.Q(done_in__isnull=True),
                name="follow_up_open",
            )
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_open(self) -> bool:
        return self.done_in_id is None


class EmergencyRequest(models.Model):
    """A request for an emergency delivery between cycles (应急配送, DESIGN §2.2)."""

    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="emergency_requests",
        verbose_name=_("retailer"),
    )
    visit = models.ForeignKey(
        Visit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emergency_requests",
        verbose_name=_("visit"),
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("brand")
    )
    cartons = models.PositiveIntegerField(
        _("cartons"), validators=[MinValueValidator(1), MaxValueValidator(MAX_EMERGENCY_CARTONS)]
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"))

    class Meta:
        verbose_name = _("emergency delivery request")
        verbose_name_plural = _("emergency delivery requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cartons__gte=1, cartons__lte=MAX_EMERGENCY_CARTONS),
                name="emergency_request_cartons_bounded",
            )
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.brand_id} × {self.cartons}"


# --- Retailer training and terminal programs (DESIGN §2.6) ------------------------------------


class TrainingTopic(models.TextChoices):
    """The six training topics of the half-year report."""

    POLICY_LAW = "policy_law", _("Policy and law")
    SUPPLY_GRADING = "supply_grading", _("Supply grading")
    DISPLAY = "display", _("Display")
    INVENTORY = "inventory", _("Inventory")
    ORDERING = "ordering", _("Ordering")
    BRAND_CULTIVATION = "brand_cultivation", _("Brand cultivation")


class TrainingSession(models.Model):
    """A training for retailers of one district, or of one route of it."""

    topic = models.CharField(_("topic"), max_length=20, choices=TrainingTopic.choices)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=100)
    trainer = models.CharField(_("trainer"), max_length=60)
    district = models.ForeignKey(
        "territory.District",
        on_delete=models.PROTECT,
        related_name="training_sessions",
        verbose_name=_("district"),
    )
    route = models.ForeignKey(
        Route,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="training_sessions",
        verbose_name=_("route"),
        help_text=_("Empty: the whole district."),
    )
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-held_on", "-id"]
        indexes = [models.Index(fields=["district", "held_on"], name="training_district_day")]

    def __str__(self) -> str:
        return f"{self.held_on} {self.get_topic_display()}"


class AttendanceStatus(models.TextChoices):
    ATTENDED = "attended", _("Attended")
    ABSENT = "absent", _("Absent")


class TrainingAttendance(models.Model):
    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.CASCADE,
        related_name="attendance",
        verbose_name=_("training session"),
    )
    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="training_attendance",
        verbose_name=_("retailer"),
    )
    status = models.CharField(_("attendance"), max_length=10, choices=AttendanceStatus.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("training attendance")
        verbose_name_plural = _("training attendance")
        ordering = ["session_id", "retailer_id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "retailer"], name="training_attendance_once")
        ]
        indexes = [models.Index(fields=["retailer"], name="training_attendance_retailer")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.retailer_id} {self.status}"


class ProgramKind(models.TextChoices):
    """Terminal programs (终端建设): 标准店, 示范店 (about 5 a route), 功能终端."""

    STANDARD = "standard", pgettext_lazy("terminal program", "Standard store")
    DEMONSTRATION = "demonstration", pgettext_lazy("terminal program", "Demonstration store")
    FUNCTIONAL = "functional", pgettext_lazy("terminal program", "Functional terminal")


class ProgramCriterion(models.Model):
    """One item of a program's checklist; retired items stay for the reviews that used them."""

    kind = models.CharField(_("program"), max_length=20, choices=ProgramKind.choices)
    text = models.CharField(_("criterion"), max_length=200)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("in use"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("program criterion")
        verbose_name_plural = _("program criteria")
        ordering = ["kind", "position", "id"]

    def __str__(self) -> str:
        return self.text


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("Member")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ProgramMembership(models.Model):
    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="program_memberships",
        verbose_name=_("retailer"),
    )
    kind = models.CharField(_("program"), max_length=20, choices=ProgramKind.choices)
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enrolled by"),
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("withdrawn by"),
    )

    class Meta:
        verbose_name = _("program membership")
        verbose_name_plural = _("program memberships")
        ordering = ["kind", "retailer_id", "-since"]
        constraints = [
            models.UniqueConstraint(
                fields=["retailer", "kind"],
                condition=models.Q(status="active"),
                name="program_membership_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True) | models.Q(until__gte=models.F("since")),
                name="program_membership_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id} {self.kind}"

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE


class ProgramReview(models.Model):
    """The criteria a store met, ticked by the account manager during a visit."""

    membership = models.ForeignKey(
        ProgramMembership,
        on_delete=models.CASCADE,
        related_name="reviews",
        verbose_name=_("program membership"),
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="program_reviews", verbose_name=_("visit")
    )
    reviewed_at = models.DateTimeField(_("reviewed at"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    #: Counts at the time of the review, so a later change of the checklist does not move them.
    criteria_total = models.PositiveSmallIntegerField(_("criteria"))
    criteria_met = models.PositiveSmallIntegerField(_("criteria met"))
    notes = models.CharField(_("notes"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("program review")
        verbose_name_plural = _("program reviews")
        ordering = ["-reviewed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "visit"], name="program_review_once"),
            models.CheckConstraint(
                condition=models.Q(criteria_met__lte=models.F("criteria_total")),
                name="program_review_met_le_total",
            ),
        ]
        indexes = [models.Index(fields=["membership", "reviewed_at"], name="program_review_latest")]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.criteria_met}/{self.criteria_total}"

    @property
    def share(self) -> Decimal | None:
        if not self.criteria_total:
            return None
        return (Decimal(self.criteria_met * 100) / Decimal(self.criteria_total)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


class ProgramReviewItem(models.Model):
    review = models.ForeignKey(
        ProgramReview, on_delete=models.CASCADE, related_name="items", verbose_name=_("review")
    )
    criterion = models.ForeignKey(
        ProgramCriterion, on_delete=models.PROTECT, related_name="+", verbose_name=_("criterion")
    )
    met = models.BooleanField(_("met"))

    class Meta:
        verbose_name = _("program review item")
        verbose_name_plural = _("program review items")
        ordering = ["review_id", "criterion__position", "criterion_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "criterion"], name="program_review_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.criterion_id}: {self.met}"
