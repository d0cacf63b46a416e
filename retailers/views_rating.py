"""Supervisor pages: star re-rating review, thresholds, star override, manager grades.

Thin (STYLE.md): parse with a form, call a selector or a service, render. Account managers
get 403; another district's proposal, retailer or manager answers 404.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import grade_evaluation_record
from config.errors import ApplicationError
from retailers import selectors, services
from retailers.forms import EvaluationForm, ProposalFilterForm, StarOverrideForm, ThresholdsForm
from retailers.models import RatingProposal, Retailer
from territory.models import District
from territory.selectors import visible_account_managers, visible_districts

PAGE_SIZE = 50


def supervisor_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.can_supervise(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _errors_to_form(form, exc: ApplicationError) -> None:
    for field, errors in exc.extra.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.extra:
        form.add_error(None, exc.message)


def _error_messages(request: HttpRequest, exc: ApplicationError) -> None:
    messages.error(request, exc.message)
    for errors in exc.extra.values():
        for error in errors:
            messages.error(request, error)


@require_GET
@supervisor_required
def rerating_list(request: HttpRequest) -> HttpResponse:
    districts = list(visible_districts(request.user).order_by("code"))
    own = set(selectors.supervised_districts(request.user).values_list("pk", flat=True))
    thresholds = selectors.thresholds_by_district([d.pk for d in districts])
    proposals = selectors.visible_proposals(request.user).order_by("-quarter_start", "district")
    context = {
        "districts": [
            (d, d.pk in own, sorted(thresholds.get(d.pk, {}).items(), reverse=True))
            for d in districts
        ],
        "page": Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page")),
        "quarter": services.previous_quarter(timezone.localdate()),
    }
    return render(request, "retailers/rerating_list.html", context)


def _own_district(request: HttpRequest, pk: int) -> District:
    district = selectors.supervised_districts(request.user).filter(pk=pk).first()
    if district is None:
        raise Http404
    return district


@require_http_methods(["GET", "POST"])
@supervisor_required
def thresholds_edit(request: HttpRequest, pk: int) -> HttpResponse:
    district = _own_district(request, pk)
    current = services.rating_thresholds_of(district.pk)
    initial = {}
    for star, (points, cartons) in current.items():
        initial[f"points_{star}"], initial[f"cartons_{star}"] = points, cartons
    form = ThresholdsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.rating_thresholds_set(
                    district=district, thresholds=form.thresholds, by=request.user
                )
            except ApplicationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("The thresholds were saved."))
                return redirect("retailers:rerating-list")
        context = {"form": form, "district": district}
        return render(request, "retailers/thresholds.html", context, status=400)
    return render(request, "retailers/thresholds.html", {"form": form, "district": district})


def _proposal(request: HttpRequest, pk: int) -> RatingProposal:
    proposal = selectors.visible_proposals(request.user).filter(pk=pk).first()
    if proposal is None:
        raise Http404
    return proposal


@require_GET
@supervisor_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal(request, pk)
    form = ProposalFilterForm(request.GET or None, district=proposal.district)
    context = {
        "proposal": proposal,
        "form": form,
        "can_decide": proposal.is_draft
        and selectors.supervised_districts(request.user).filter(pk=proposal.district_id).exists(),
        "thresholds": sorted(((int(k), v) for k, v in proposal.thresholds.items()), reverse=True),
    }
    if request.GET and not form.is_valid():
        context["page"] = None
        return render(request, "retailers/proposal_detail.html", context, status=400)
    filters = form.cleaned_data if request.GET else {}
    lines = selectors.proposal_lines(
        proposal=proposal,
        movement=filters.get("movement") or "",
        route=filters.get("route"),
        search=filters.get("q", ""),
    )
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    for line in page:
        line.reason = selectors.line_reason(line, proposal.thresholds)
    query = request.GET.copy()
    query.pop("page", None)
    context.update(page=page, querystring=query.urlencode())
    return render(request, "retailers/proposal_detail.html", context)


@require_POST
@supervisor_required
def proposal_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in ("approve", "reject"):
        raise Http404
    proposal = _proposal(request, pk)
    try:
        if decision == "approve":
            changed = services.rating_proposal_approve(proposal=proposal, by=request.user)
            messages.success(
                request,
                _("Approved: %(n)s retailers' stars changed.") % {"n": changed},
            )
        else:
            services.rating_proposal_reject(proposal=proposal, by=request.user)
            messages.success(request, _("The proposal was rejected."))
    except ApplicationError as exc:
        _error_messages(request, exc)
    return redirect("retailers:proposal-detail", pk=proposal.pk)


@require_http_methods(["GET", "POST"])
@supervisor_required
def star_override(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        retailer = selectors.retailer_detail(user=request.user, pk=pk)
    except Retailer.DoesNotExist as exc:
        raise Http404 from exc
    form = StarOverrideForm(request.POST or None)
    context = {"form": form, "retailer": retailer}
    if request.method == "GET":
        return render(request, "retailers/star_override.html", context)
    if form.is_valid():
        try:
            services.retailer_override_star(
                retailer=retailer,
                star=form.cleaned_data["star"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ApplicationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("The star was overridden."))
            return redirect("retailers:detail", pk=retailer.pk)
    return render(request, "retailers/star_override.html", context, status=400)


# --- Grades ---------------------------------------------------------------------------------


@require_GET
@supervisor_required
def manager_list(request: HttpRequest) -> HttpResponse:
    managers = visible_account_managers(request.user).order_by("full_name", "username")
    page = Paginator(managers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "retailers/manager_list.html", {"page": page})


@require_http_methods(["GET", "POST"])
@supervisor_required
def manager_detail(request: HttpRequest, pk: int) -> HttpResponse:
    manager = visible_account_managers(request.user).filter(pk=pk).first()
    if manager is None:
        raise Http404
    form = EvaluationForm(request.POST or None)
    can_evaluate = request.user.is_supervisor
    status = 200
    if request.method == "POST":
        if not can_evaluate:
            raise PermissionDenied
        if form.is_valid():
            try:
                grade_evaluation_record(manager=manager, by=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                _errors_to_form(form, exc)
            else:
                messages.success(request, _("The evaluation was recorded."))
                return redirect("retailers:manager-detail", pk=manager.pk)
        status = 400
    context = {
        "manager": manager,
        "form": form,
        "can_evaluate": can_evaluate,
        "evaluations": selectors.grade_evaluations(manager),
    }
    return render(request, "retailers/manager_detail.html", context, status=status)
