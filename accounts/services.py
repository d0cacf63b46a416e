"""Writes for accounts: API tokens (DESIGN §1: REST clients authenticate with tokens)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, Grade, GradeEvaluation, User
from accounts.tokens import new_token, token_digest
from config.errors import ApplicationError


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str = "",
    read_only: bool = False,
    lifetime_days: int | None = None,
) -> tuple[ApiToken, str]:
    """A new token for ``user``, and its secret form, which exists only in this return value.

    It expires after ``lifetime_days`` (default ``settings.API_TOKEN_TTL_DAYS``, at most
    ``settings.API_TOKEN_MAX_TTL_DAYS``).
    """
    if not user.is_active:
        raise ApplicationError(_("This account is disabled."))
    days = settings.API_TOKEN_TTL_DAYS if lifetime_days is None else lifetime_days
    maximum = settings.API_TOKEN_MAX_TTL_DAYS
    if not 1 <= days <= maximum:
        message = _("Choose a lifetime from 1 to %(max)d days.") % {"max": maximum}
        raise ApplicationError(message, extra={"expires_in_days": [message]})
    key_id, raw = new_token()
    token = ApiToken(
        user=user,
        name=name,
        key_id=key_id,
        digest=token_digest(raw),
        read_only=read_only,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token`` from now on; revoking it again changes nothing."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return token


def api_token_mark_used(*, token: ApiToken, now: dt.datetime) -> None:
    """Record when ``token`` was last used, at most once per ``API_TOKEN_TOUCH_SECONDS``.

    A write on every request would serialise a busy client on one row; a minute's precision
    is enough to tell which tokens are in use.
    """
    interval = dt.timedelta(seconds=settings.API_TOKEN_TOUCH_SECONDS)
    if token.last_used_at is not None and now - token.last_used_at < interval:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# --- Grades (DESIGN §2.6: account manager grades with the evaluation record) ----------------


@transaction.atomic
def grade_evaluation_record(
    *,
    manager: User,
    by: User,
    period_start: dt.date,
    period_end: dt.date,
    score: int,
    grade: str,
    notes: str = "",
) -> GradeEvaluation:
    """Record an evaluation of ``manager`` by a supervisor; the manager's grade becomes its
    resulting grade. The only way a grade changes. Whether ``by`` supervises ``manager`` is
    decided by the caller through ``territory.selectors.visible_account_managers``."""
    errors: dict[str, list[str]] = {}
    if not (by.is_active and by.is_supervisor):
        raise ApplicationError(_("Only a supervisor may evaluate an account manager."))
    if not manager.is_account_manager:
        errors["manager"] = [_("Only account managers are graded.")]
    if grade not in Grade.values:
        errors["grade"] = [_("Choose senior, intermediate or junior.")]
    if not 0 <= score <= 100:
        errors["score"] = [_("A score is 0 to 100.")]
    if period_end < period_start:
        errors["period_end"] = [_("The period ends before it starts.")]
    elif period_start > timezone.localdate():
        errors["period_start"] = [_("The period has not started yet.")]
    if errors:
        raise ApplicationError(_("The evaluation was not recorded."), extra=errors)
    locked = User.objects.select_for_update().get(pk=manager.pk)
    evaluation = GradeEvaluation.objects.create(
        manager=locked,
        evaluated_by=by,
        period_start=period_start,
        period_end=period_end,
        score=score,
        notes=notes.strip(),
        previous_grade=locked.grade,
        grade=grade,
    )
    User.objects.filter(pk=locked.pk).update(grade=grade)
    manager.grade = grade
    return evaluation
