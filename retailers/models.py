from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from territory.models import Route

STAR_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]
licence_validator = RegexValidator(
    r"^[0-9A-Za-z-]{6,20}$", _("A licence number has 6 to 20 letters, digits or dashes.")
)


class BusinessType(models.TextChoices):
    CONVENIENCE = "convenience", _("Convenience store")
    SUPERMARKET = "supermarket", _("Supermarket")
    GROCERY = "grocery", _("Grocery")
    TOBACCO_LIQUOR = "tobacco_liquor", _("Tobacco and liquor store")
    CATERING = "catering", _("Catering")
    ENTERTAINMENT = "entertainment", _("Entertainment venue")
    OTHER = "other", _("Other")


#: Catering and entertainment venues may get emergency deliveries (DESIGN §2.2).
HOSPITALITY_TYPES = (BusinessType.CATERING, BusinessType.ENTERTAINMENT)


class IntegrityLevel(models.TextChoices):
    A = "A", _("A (highest)")
    B = "B", "B"
    C = "C", "C"
    D = "D", _("D (lowest)")


class RetailerStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class OrderingChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    ONLINE = "online", _("Online")


class PaymentMethod(models.TextChoices):
    E_SETTLEMENT = "e_settlement", _("E-settlement")
    CASH = "cash", _("Cash")


class Retailer(models.Model):
    """A licensed retailer on a route (DESIGN §3).

    ``star`` and ``status`` are the current values; their dated history lives in
    :class:`StarChange` and :class:`StatusChange`, which answer "as of a date".
    """

    licence_number = models.CharField(
        _("licence number"), max_length=20, unique=True, validators=[licence_validator]
    )
    name = models.CharField(_("name"), max_length=100)
    owner_name = models.CharField(_("owner"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    route = models.ForeignKey(
        Route, on_delete=models.PROTECT, related_name="retailers", verbose_name=_("route")
    )
    stop_order = models.PositiveIntegerField(_("stop order"), default=1)
    star = models.PositiveSmallIntegerField(
        _("star"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    business_type = models.CharField(
        _("business type"), max_length=20, choices=BusinessType.choices
    )
    integrity_level = models.CharField(
        _("integrity level"), max_length=1, choices=IntegrityLevel.choices, default="B"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RetailerStatus.choices, default=RetailerStatus.ACTIVE
    )
    ordering_channel = models.CharField(
        _("ordering channel"),
        max_length=10,
        choices=OrderingChannel.choices,
        default=OrderingChannel.PHONE,
    )
    payment_method = models.CharField(
        _("payment method"), max_length=20, choices=PaymentMethod.choices, default="cash"
    )
    needs_assistance = models.BooleanField(
        _("needs assistance"),
        default=False,
        help_text=_("Small, elderly or limited-mobility retailer who may need help to deposit."),
    )
    is_standard_store = models.BooleanField(_("standard store"), default=False)
    is_demonstration_store = models.BooleanField(_("demonstration store"), default=False)
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
    opened_on = models.DateField(_("licensed on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("retailer")
        verbose_name_plural = _("retailers")
        ordering = ["route_id", "stop_order", "id"]
        indexes = [
            models.Index(fields=["route", "stop_order"], name="retailer_route_stop"),
            models.Index(fields=["status", "star"], name="retailer_status_star"),
            models.Index(fields=["updated_at", "id"], name="retailer_updated_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(star__isnull=True) | models.Q(star__gte=1, star__lte=5),
                name="retailer_star_1_to_5_or_null",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.licence_number})"

    @property
    def is_e_settlement(self) -> bool:
        return self.payment_method == PaymentMethod.E_SETTLEMENT

    @property
    def is_hospitality(self) -> bool:
        return self.business_type in HOSPITALITY_TYPES


class StarSource(models.TextChoices):
    """Why a star changed. Stars are locked between re-ratings (DESIGN §2.6): after a retailer
    joins, only an approved quarterly re-rating or a supervisor's audited override changes it."""

    HISTORY = "history", _("Recorded history")
    JOINED = "joined", _("Joined")
    RERATING = "rerating", _("Quarterly re-rating")
    OVERRIDE = "override", _("Override")


class StarChange(models.Model):
    """A retailer's star from ``effective_from`` on (``star`` null = unrated)."""

    retailer = models.ForeignKey(
        Retailer, on_delete=models.CASCADE, related_name="star_history", verbose_name=_("retailer")
    )
    star = models.PositiveSmallIntegerField(
        _("star"), null=True, blank=True, validators=STAR_VALIDATORS
    )
    effective_from = models.DateField(_("effective from"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    # A database default too: bulk loaders (COPY) that name no source record plain history.
    source = models.CharField(
        _("source"),
        max_length=10,
        choices=StarSource.choices,
        default=StarSource.HISTORY,
        db_default=StarSource.HISTORY,
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("star change")
        verbose_name_plural = _("star history")
        ordering = ["retailer_id", "-effective_from"]
        constraints = [
            # ``star`` is carried in the index so that "the star as of a day" (one backward
            # probe per retailer, ``selectors.retailers_as_of``) never reads the table.
            models.UniqueConstraint(
                fields=["retailer", "effective_from"],
                include=["star"],
                name="star_change_once_per_day",
            ),
            models.CheckConstraint(
                condition=models.Q(star__isnull=True) | models.Q(star__gte=1, star__lte=5),
                name="star_change_star_1_to_5_or_null",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.star or '-'} from {self.effective_from}"


class StatusChange(models.Model):
    """A retailer's status from ``effective_from`` on; the first one is when it joined."""

    retailer = models.ForeignKey(
        Retailer,
        on_delete=models.CASCADE,
        related_name="status_history",
        verbose_name=_("retailer"),
    )
    status = models.CharField(_("status"), max_length=10, choices=RetailerStatus.choices)
    effective_from = models.DateField(_("effective from"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status history")
        ordering = ["retailer_id", "-effective_from"]
        constraints = [
            # ``status`` is carried in the index so that "the status as of a day" (one backward
            # probe per retailer, ``selectors.retailers_as_of``) never reads the table.
            models.UniqueConstraint(
                fields=["retailer", "effective_from"],
                include=["status"],
                name="status_change_once_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.status} from {self.effective_from}"


class ViolationKind(models.TextChoices):
    ILLEGAL_SOURCE = "illegal_source", _("Cigarettes from an illegal source")
    COUNTERFEIT = "counterfeit", _("Counterfeit cigarettes")
    PRICE = "price", _("Price violation")
    MINORS = "minors", _("Sale to minors")
    OTHER = "other", _("Other")


class Violation(models.Model):
    """A recorded violation; it excludes the retailer from scarce-brand allocation for a while."""

    retailer = models.ForeignKey(
        Retailer, on_delete=models.CASCADE, related_name="violations", verbose_name=_("retailer")
    )
    occurred_on = models.DateField(_("occurred on"))
    kind = models.CharField(_("kind"), max_length=20, choices=ViolationKind.choices)
    description = models.TextField(_("description"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("violation")
        verbose_name_plural = _("violations")
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["retailer", "occurred_on"], name="violation_retailer_day")]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.get_kind_display()} on {self.occurred_on}"


# --- Quarterly star re-rating (DESIGN §2.6) --------------------------------------------------

RATED_STARS = (5, 4, 3, 2)


class RatingThreshold(models.Model):
    """What a retailer of a district needs over the last quarter to be proposed ``star``.

    A retailer is proposed the highest star whose points and purchases (cartons) minimums it
    both meets; one that meets none is proposed 1★. Set by the district's supervisor.
    """

    district = models.ForeignKey(
        "territory.District",
        on_delete=models.CASCADE,
        related_name="rating_thresholds",
        verbose_name=_("district"),
    )
    star = models.PositiveSmallIntegerField(
        _("star"), validators=[MinValueValidator(2), MaxValueValidator(5)]
    )
    min_points = models.PositiveIntegerField(_("minimum points"))
    min_cartons = models.PositiveIntegerField(_("minimum cartons"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("rating threshold")
        verbose_name_plural = _("rating thresholds")
        ordering = ["district_id", "-star"]
        constraints = [
            models.UniqueConstraint(fields=["district", "star"], name="rating_threshold_once"),
            models.CheckConstraint(
                condition=models.Q(star__gte=2, star__lte=5), name="rating_threshold_star_2_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.star}: {self.min_points} / {self.min_cartons}"


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Awaiting review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class RatingProposal(models.Model):
    """The proposed stars of one district's active retailers from one quarter's figures.

    One per district and quarter: a rerun replaces a draft or rejected proposal; an approved
    one is never changed. ``thresholds`` keeps the thresholds it was computed with.
    """

    district = models.ForeignKey(
        "territory.District",
        on_delete=models.CASCADE,
        related_name="rating_proposals",
        verbose_name=_("district"),
    )
    quarter_start = models.DateField(_("quarter"))
    quarter_end = models.DateField(_("quarter end"))
    status = models.CharField(
        _("status"), max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT
    )
    thresholds = models.JSONField(_("thresholds"), default=dict)
    retailers = models.PositiveIntegerField(_("retailers"), default=0)
    moving_up = models.PositiveIntegerField(_("moving up"), default=0)
    moving_down = models.PositiveIntegerField(_("moving down"), default=0)
    proposed_at = models.DateTimeField(_("proposed at"))
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    effective_from = models.DateField(_("effective from"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-rating proposal")
        verbose_name_plural = _("re-rating proposals")
        ordering = ["-quarter_start", "district_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "quarter_start"], name="rating_proposal_once_per_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.district_id} {self.quarter_start:%Y}Q{(self.quarter_start.month + 2) // 3}"

    @property
    def quarter_label(self) -> str:
        return f"{self.quarter_start:%Y} Q{(self.quarter_start.month + 2) // 3}"

    @property
    def unchanged(self) -> int:
        return self.retailers - self.moving_up - self.moving_down

    @property
    def is_draft(self) -> bool:
        return self.status == ProposalStatus.DRAFT


class RatingProposalLine(models.Model):
    """One retailer's figures, current star and proposed star in a proposal.

    ``basis_star`` is the threshold the retailer met (``None``: none, so 1★): the reason.
    ``movement`` is -1, 0 or 1 (down, same, up) so that the review page filters by index.
    """

    proposal = models.ForeignKey(
        RatingProposal, on_delete=models.CASCADE, related_name="lines", verbose_name=_("proposal")
    )
    retailer = models.ForeignKey(
        Retailer, on_delete=models.CASCADE, related_name="+", verbose_name=_("retailer")
    )
    current_star = models.PositiveSmallIntegerField(_("current star"), null=True, blank=True)
    proposed_star = models.PositiveSmallIntegerField(_("proposed star"))
    basis_star = models.PositiveSmallIntegerField(_("threshold met"), null=True, blank=True)
    points = models.BigIntegerField(_("points"))
    cartons = models.BigIntegerField(_("cartons"))
    movement = models.SmallIntegerField(_("movement"))

    class Meta:
        verbose_name = _("re-rating proposal line")
        verbose_name_plural = _("re-rating proposal lines")
        ordering = ["proposal_id", "retailer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "retailer"], name="rating_line_once_per_retailer"
            )
        ]
        indexes = [
            models.Index(fields=["proposal", "movement", "retailer"], name="rating_line_movement")
        ]

    def __str__(self) -> str:
        return f"{self.retailer_id}: {self.current_star} → {self.proposed_star}"


# --- Roster import ---------------------------------------------------------------------------


class RosterImportStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed")
    APPLIED = "applied", _("Applied")


class RosterImport(models.Model):
    """An uploaded roster file kept between its dry-run preview and its application.

    ``digest`` is the SHA-256 of ``content``: the apply step checks it and re-validates the
    stored bytes, so what is applied is exactly what was previewed. Applying claims the row
    with a conditional update, so a double submit applies it once.
    """

    file_name = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("format"), max_length=4)
    content = models.BinaryField(_("content"))
    digest = models.CharField(_("digest"), max_length=64)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=RosterImportStatus.choices,
        default=RosterImportStatus.PREVIEWED,
    )
    rows = models.PositiveIntegerField(_("rows"), default=0)
    summary = models.CharField(_("summary"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.file_name
