"""Points and scarce-brand allocation (DESIGN §2.5, §4, §5).

The points ledger (``PointsEntry``) is written set-based per closed cycle; a ``ScarceSupply``
says how many cartons of a brand a branch shares in a cycle and by which caps; an
``AllocationRun`` applies the exact rule of ``allocation.rule`` to the branch's retailers and
keeps one ``AllocationLine`` per active retailer, with everything needed to explain the award.
"""

from __future__ import annotations

from fractions import Fraction

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from catalog.models import Brand
from retailers.models import Retailer
from territory.models import Branch, Cycle, Route

STARS = (1, 2, 3, 4, 5)
DEFAULT_WEIGHTS = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1}


class PointsRule(models.Model):
    """Weights per price class and bonuses (DESIGN §5), in force from a date on.

    The rule in force for a cycle is the latest one whose ``effective_from`` is on or before
    the cycle's start; with none recorded, the defaults (5/4/3/2/1, no bonus) apply.
    """

    effective_from = models.DateField(_("effective from"), unique=True)
    weight_class_1 = models.PositiveIntegerField(_("weight of price class 1"), default=5)
    weight_class_2 = models.PositiveIntegerField(_("weight of price class 2"), default=4)
    weight_class_3 = models.PositiveIntegerField(_("weight of price class 3"), default=3)
    weight_class_4 = models.PositiveIntegerField(_("weight of price class 4"), default=2)
    weight_class_5 = models.PositiveIntegerField(_("weight of price class 5"), default=1)
    bonus_per_cycle_ordered = models.PositiveIntegerField(
        _("bonus for ordering in the cycle"),
        default=0,
        help_text=_("Points for every retailer with a counted order in the cycle (每个周期都积)."),
    )
    bonus_per_online_carton = models.PositiveIntegerField(
        _("bonus per carton ordered online"),
        default=0,
        help_text=_("Extra points for each carton of a counted online order."),
    )
    bonus_per_new_brand_carton = models.PositiveIntegerField(
        _("bonus per carton of a new brand"),
        default=0,
        help_text=_("Extra points for each carton of a brand marked new (brand cultivation)."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
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
        verbose_name = _("points rule")
        verbose_name_plural = _("points rules")
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.effective_from}: {self.weights_display}"

    @property
    def weights(self) -> dict[int, int]:
        return {c: getattr(self, f"weight_class_{c}") for c in (1, 2, 3, 4, 5)}

    @property
    def weights_display(self) -> str:
        return "/".join(str(w) for w in self.weights.values())


class PointsComputation(models.Model):
    """That the points of a cycle were computed, when, by whom and with which rule."""

    cycle = models.OneToOneField(
        Cycle, on_delete=models.PROTECT, related_name="points_computation", verbose_name=_("cycle")
    )
    rule = models.ForeignKey(
        PointsRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("points rule"),
        help_text=_("Empty: the default weights."),
    )
    weights = models.CharField(_("weights"), max_length=60)
    retailers = models.PositiveIntegerField(_("retailers with points"), default=0)
    total_points = models.BigIntegerField(_("total points"), default=0)
    computed_at = models.DateTimeField(_("computed at"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("computed by"),
    )

    class Meta:
        verbose_name = _("points computation")
        verbose_name_plural = _("points computations")
        ordering = ["-cycle__start_date"]

    def __str__(self) -> str:
        return f"{self.cycle}: {self.retailers} / {self.total_points}"


class PointsEntry(models.Model):
    """A retailer's points of one cycle (DESIGN §5), with its running total over all cycles.

    Written only by ``services.points_compute``; ``cycle_start`` repeats the cycle's start date so
    that the running total can find a retailer's previous entry with one index probe.
    """

    # A cycle writes hundreds of thousands of entries at once, so every per-row cost counts:
    # (cycle, retailer) is the primary key, with no surrogate id and its index; the foreign
    # keys are indexed by the composite indexes, not on their own, and are
    # not checked by the database row by row at commit (the only writer takes the retailers
    # from counted orders and the cycle from the cycle table); deleting a retailer or a cycle
    # still goes through Django's on_delete. On PostgreSQL the table is partitioned by cycle
    # (migration 0002): the job builds a cycle's partition whole and attaches it.
    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="points_entries",
        verbose_name=_("retailer"),
        db_index=False,
        db_constraint=False,
    )
    cycle = models.ForeignKey(
        Cycle,
        on_delete=models.PROTECT,
        related_name="points_entries",
        verbose_name=_("cycle"),
        db_index=False,
        db_constraint=False,
    )
    pk = models.CompositePrimaryKey("cycle", "retailer")
    cycle_start = models.DateField(_("cycle start"))
    cartons = models.PositiveIntegerField(_("cartons"))
    points = models.BigIntegerField(_("points"))
    running_total = models.BigIntegerField(_("running total"))

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points ledger")
        ordering = ["-cycle_start", "retailer_id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(points__gte=0), name="points_not_negative"),
        ]
        indexes = [
            models.Index(
                fields=["retailer", "-cycle_start"],
                include=["running_total"],
                name="points_retailer_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id} {self.cycle_id}: {self.points}"


class ScarceSupply(models.Model):
    """Cartons of a scarce brand a branch shares among its retailers in a cycle (DESIGN §4).

    ``cap_star_N`` is the most a retailer of N stars may get; every star from ``min_star`` to 5
    needs one. ``minimum`` is the guaranteed minimum per eligible retailer (小户有量).
    """

    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="scarce_supplies", verbose_name=_("branch")
    )
    cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="scarce_supplies", verbose_name=_("cycle")
    )
    brand = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="scarce_supplies", verbose_name=_("brand")
    )
    quantity = models.IntegerField(_("quantity (cartons)"))
    unit = models.PositiveIntegerField(
        _("allocation unit (cartons)"),
        default=1,
        help_text=_("1 to allocate by the carton, 50 to allocate whole cases."),
    )
    min_star = models.PositiveSmallIntegerField(
        _("minimum star"), default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    cap_star_1 = models.PositiveIntegerField(_("cap for 1★"), null=True, blank=True)
    cap_star_2 = models.PositiveIntegerField(_("cap for 2★"), null=True, blank=True)
    cap_star_3 = models.PositiveIntegerField(_("cap for 3★"), null=True, blank=True)
    cap_star_4 = models.PositiveIntegerField(_("cap for 4★"), null=True, blank=True)
    cap_star_5 = models.PositiveIntegerField(_("cap for 5★"), null=True, blank=True)
    minimum = models.IntegerField(
        _("guaranteed minimum (cartons)"),
        default=0,
        help_text=_("Shared first to every eligible retailer (小户有量); 0 for none."),
    )
    violation_cycles = models.PositiveSmallIntegerField(
        _("cycles a violation excludes"),
        default=3,
        validators=[MaxValueValidator(52)],
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("scarce supply")
        verbose_name_plural = _("scarce supplies")
        ordering = ["-cycle__start_date", "brand__price_class", "brand__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "cycle", "brand"], name="supply_once_per_cycle_and_brand"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=0), name="supply_quantity_not_negative"
            ),
            models.CheckConstraint(condition=models.Q(unit__gte=1), name="supply_unit_positive"),
            models.CheckConstraint(
                condition=models.Q(minimum__gte=0), name="supply_minimum_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(min_star__gte=1, min_star__lte=5),
                name="supply_min_star_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cycle} {self.brand.name}"

    @property
    def caps_by_star(self) -> dict[int, int | None]:
        return {star: getattr(self, f"cap_star_{star}") for star in STARS}


class SupplyRequest(models.Model):
    """The quantity a retailer asked for: its cap is lowered to it (DESIGN §4)."""

    supply = models.ForeignKey(
        ScarceSupply, on_delete=models.CASCADE, related_name="requests", verbose_name=_("supply")
    )
    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="supply_requests",
        verbose_name=_("retailer"),
    )
    cartons = models.PositiveIntegerField(_("requested cartons"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        verbose_name = _("requested quantity")
        verbose_name_plural = _("requested quantities")
        constraints = [
            models.UniqueConstraint(fields=["supply", "retailer"], name="request_once_per_supply")
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.cartons}"


class RunStatus(models.TextChoices):
    COMPUTING = "computing", _("Computing")
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    FAILED = "failed", _("Failed")


#: A run in one of these is the supply's current one.
LIVE_STATUSES = (RunStatus.COMPUTING, RunStatus.DRAFT, RunStatus.APPROVED, RunStatus.PUBLISHED)


class AllocationRun(models.Model):
    """One application of the rule to one supply (DESIGN §4): computing → draft → approved →
    published; an approved run is never edited, only superseded by a newer run with a reason.

    The supply's parameters are copied when the run is requested, so that a run explains itself
    even after the supply changes. ``inputs_hash`` is the SHA-256 of the canonical inputs: the
    same hash means the same lines.
    """

    supply = models.ForeignKey(
        ScarceSupply, on_delete=models.PROTECT, related_name="runs", verbose_name=_("supply")
    )
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.COMPUTING
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supersedes"),
    )
    superseded_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("superseded by"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    # The supply's parameters when the run was requested.
    points_cycle = models.ForeignKey(
        Cycle, on_delete=models.PROTECT, related_name="+", verbose_name=_("points of cycle")
    )
    quantity = models.PositiveIntegerField(_("quantity (cartons)"))
    unit = models.PositiveIntegerField(_("allocation unit (cartons)"))
    minimum = models.PositiveIntegerField(_("guaranteed minimum (cartons)"))
    min_star = models.PositiveSmallIntegerField(_("minimum star"))
    caps = models.JSONField(_("caps by star"))
    violation_cycles = models.PositiveSmallIntegerField(_("cycles a violation excludes"))
    # Computing.
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    inputs_hash = models.CharField(_("inputs hash"), max_length=64, blank=True)
    # Results.
    retailers = models.PositiveIntegerField(_("retailers considered"), default=0)
    eligible = models.PositiveIntegerField(_("eligible retailers"), default=0)
    total_points = models.BigIntegerField(_("total points of the eligible"), default=0)
    allocated = models.PositiveIntegerField(_("allocated (cartons)"), default=0)
    unallocated = models.PositiveIntegerField(_("unallocated (cartons)"), default=0)
    minimum_allocated = models.PositiveIntegerField(_("given as guaranteed minimum"), default=0)
    quota_den = models.DecimalField(
        _("quota denominator"), max_digits=40, decimal_places=0, default=1
    )
    units_per_point = models.CharField(_("units per point"), max_length=90, blank=True)
    # Review.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("allocation run")
        verbose_name_plural = _("allocation runs")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["supply", "number"], name="run_number_per_supply"),
            # At most one run computes per supply at a time (DESIGN §6); at most one is
            # approved and one published.
            models.UniqueConstraint(
                fields=["supply"],
                condition=models.Q(status=RunStatus.COMPUTING),
                name="one_computing_run_per_supply",
            ),
            models.UniqueConstraint(
                fields=["supply"],
                condition=models.Q(status=RunStatus.APPROVED),
                name="one_approved_run_per_supply",
            ),
            models.UniqueConstraint(
                fields=["supply"],
                condition=models.Q(status=RunStatus.PUBLISHED),
                name="one_published_run_per_supply",
            ),
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="run_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.supply} #{self.number}"

    @property
    def supplied(self) -> int:
        return self.quantity

    @property
    def is_finished(self) -> bool:
        return self.status not in (RunStatus.COMPUTING,)

    @property
    def caps_by_star(self) -> dict[int, int | None]:
        return {int(star): cap for star, cap in self.caps.items()}

    @property
    def supply_units(self) -> int:
        return self.quantity // self.unit

    @property
    def level(self) -> Fraction | None:
        """Units per point of the main pass's water level, or ``None`` (every cap covered)."""
        return Fraction(self.units_per_point) if self.units_per_point else None


class RunEventKind(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    STARTED = "started", _("Computing started")
    COMPUTED = "computed", _("Computed")
    FAILED = "failed", _("Failed")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")


class RunEvent(models.Model):
    """One step of a run, with who (empty: the scheduled job) and when: the audit trail."""

    run = models.ForeignKey(
        AllocationRun, on_delete=models.CASCADE, related_name="events", verbose_name=_("run")
    )
    kind = models.CharField(_("step"), max_length=12, choices=RunEventKind.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("run event")
        verbose_name_plural = _("run events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class IneligibleReason(models.TextChoices):
    UNRATED = "unrated", _("Unrated")
    STAR_BELOW_MINIMUM = "star_below_minimum", _("Star below the minimum")
    VIOLATION = "violation", _("Violation in the recent cycles")
    NO_POINTS = "no_points", _("No points in the previous cycle")
    CAP_BELOW_UNIT = "cap_below_unit", _("Cap below one allocation unit")


class AllocationLine(models.Model):
    """How one active retailer fared in a run (DESIGN §4): every number that explains it.

    ``quota_num / run.quota_den`` is the exact main-pass quota in units; ``minimum_units`` what
    the guaranteed-minimum pass gave first. ``award`` is in cartons.
    """

    # A run writes one line per active retailer of the branch (hundreds of thousands) in one
    # COPY: the foreign keys are indexed only through the composite indexes below and are not
    # checked row by row at commit (the only writer takes them from the run's own input query);
    # deletes still go through Django's on_delete.
    run = models.ForeignKey(
        AllocationRun,
        on_delete=models.CASCADE,
        related_name="lines",
        verbose_name=_("run"),
        db_index=False,
        db_constraint=False,
    )
    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.PROTECT,
        related_name="allocation_lines",
        verbose_name=_("retailer"),
        db_index=False,
        db_constraint=False,
    )
    route = models.ForeignKey(
        Route,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("route"),
        db_index=False,
        db_constraint=False,
    )
    star = models.PositiveSmallIntegerField(_("star"), null=True, blank=True)
    points = models.BigIntegerField(_("points"))
    cap = models.PositiveIntegerField(_("cap (cartons)"))
    requested = models.PositiveIntegerField(_("requested (cartons)"), null=True, blank=True)
    eligible = models.BooleanField(_("eligible"))
    reason = models.CharField(
        _("not eligible because"), max_length=20, choices=IneligibleReason.choices, blank=True
    )
    minimum_units = models.PositiveIntegerField(_("minimum units"), default=0)
    quota_num = models.DecimalField(_("quota numerator"), max_digits=40, decimal_places=0)
    floor_units = models.PositiveIntegerField(_("floor (units)"))
    remainder_rank = models.PositiveIntegerField(_("remainder rank"), null=True, blank=True)
    capped = models.BooleanField(_("capped"))
    award = models.PositiveIntegerField(_("award (cartons)"))

    class Meta:
        verbose_name = _("allocation line")
        verbose_name_plural = _("allocation lines")
        ordering = ["run_id", "retailer_id"]
        # (run, retailer) also serves a retailer's lines: they are looked up within the few
        # published runs of a cycle. No other index, so that the COPY of a run stays cheap.
        constraints = [
            models.UniqueConstraint(fields=["run", "retailer"], name="line_once_per_retailer")
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.retailer_id}: {self.award}"
