"""Pages: retailer training and terminal programs (thin: parse, call, render)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ApplicationError
from retailers.models import Retailer
from visits.models import (
    ProgramCriterion,
    ProgramKind,
    ProgramMembership,
    TrainingSession,
    TrainingTopic,
    Visit,
)
from visits.programs import selectors, services
from visits.programs.forms import (
    CriterionEditForm,
    CriterionForm,
    EnrolForm,
    PeriodForm,
    ProgramFilterForm,
    ReviewForm,
    SessionFilterForm,
    SessionForm,
    StaleDaysForm,
    WithdrawForm,
    attendance_marks,
)
from visits.selectors import visit_detail as visible_visit
from visits.views import visit_context

PAGE_SIZE = 30


def _require_trainer(request: HttpRequest) -> None:
    user = request.user
    if not (user.is_supervisor or user.is_administrator or user.is_account_manager):
        raise PermissionDenied


def _require_program_manager(request: HttpRequest) -> None:
    if not services.is_program_manager(request.user):
        raise PermissionDenied


def _add_error(form: forms.Form, exc: ApplicationError) -> None:
    placed = False
    for field, errors in exc.extra.items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _page(request: HttpRequest, items):
    query = request.GET.copy()
    query.pop("page", None)
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page")), query.urlencode()


# --- Training ---------------------------------------------------------------------------------


@require_GET
@login_required
def training_list(request: HttpRequest) -> HttpResponse:
    _require_trainer(request)
    form = SessionFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        context = {"form": form, "page": None}
        return render(request, "visits/programs/training_list.html", context, status=400)
    sessions = selectors.session_list(
        user=request.user,
        topic=form.cleaned_data["topic"] or None,
        route=form.cleaned_data["route"],
    )
    page, querystring = _page(request, sessions)
    context = {"form": form, "page": page, "querystring": querystring}
    return render(request, "visits/programs/training_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def training_create(request: HttpRequest) -> HttpResponse:
    _require_trainer(request)
    form = SessionForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.training_session_create(
                by=request.user,
                topic=form.cleaned_data["topic"],
                held_on=form.cleaned_data["held_on"],
                place=form.cleaned_data["place"],
                trainer=form.cleaned_data["trainer"],
                district=form.cleaned_data.get("district"),
                route=form.cleaned_data["route"],
                notes=form.cleaned_data["notes"],
            )
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Training recorded; now record who attended."))
            return redirect("visits:training", session.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "visits/programs/training_form.html", {"form": form}, status=status)


def _session(request: HttpRequest, pk: int) -> TrainingSession:
    try:
        return selectors.session_detail(user=request.user, pk=pk)
    except TrainingSession.DoesNotExist as exc:
        raise Http404 from exc


@require_http_methods(["GET", "POST"])
@login_required
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_trainer(request)
    session = _session(request, pk)
    routes = selectors.session_routes(session, request.user)
    wanted = request.POST.get("route") or request.GET.get("route")
    route = next((r for r in routes if str(r.pk) == wanted), routes[0] if routes else None)
    errors: list[str] = []
    if request.method == "POST":
        try:
            marks = attendance_marks(request.POST)
            result = services.training_attendance_record(
                session=session, by=request.user, marks=marks
            )
        except forms.ValidationError as exc:
            errors = list(exc.messages)
        except ApplicationError as exc:
            errors = [exc.message]
        else:
            messages.success(
                request,
                _("Attendance saved: %(saved)s recorded, %(removed)s cleared.") % result,
            )
            url = reverse("visits:training", args=[session.pk])
            return redirect(f"{url}?route={route.pk}" if route else url)
    context = {
        "session": session,
        "routes": routes,
        "route": route,
        "rows": (
            selectors.attendance_rows(session=session, user=request.user, route=route)
            if route
            else []
        ),
        "recorded": selectors.session_attendance(session=session, user=request.user),
        "errors": errors,
    }
    status = 400 if errors else 200
    return render(request, "visits/programs/training_detail.html", context, status=status)


@require_GET
@login_required
def training_summary(request: HttpRequest) -> HttpResponse:
    _require_trainer(request)
    form = PeriodForm(request.GET)
    context: dict = {"form": form, "topics": TrainingTopic.choices}
    if not form.is_valid():
        return render(request, "visits/programs/training_summary.html", context, status=400)
    today = timezone.localdate()
    context["summary"] = selectors.training_summary(
        user=request.user,
        since=form.cleaned_data["since"] or selectors.half_year_start(today),
        until=form.cleaned_data["until"] or today,
    )
    return render(request, "visits/programs/training_summary.html", context)


# --- Programs ---------------------------------------------------------------------------------


def _program_list_context(request: HttpRequest, enrol_form: EnrolForm | None = None) -> dict:
    form = ProgramFilterForm(request.GET, user=request.user)
    context: dict = {
        "form": form,
        "can_manage": services.is_program_manager(request.user),
        "enrol_form": enrol_form or EnrolForm(user=request.user),
        "page": None,
    }
    if form.is_valid():
        memberships = selectors.membership_list(
            user=request.user,
            kind=form.cleaned_data["kind"] or None,
            route=form.cleaned_data["route"],
            status=form.cleaned_data["status"] or None if "status" in request.GET else "active",
            stale_days=form.cleaned_data["stale_days"],
        )
        context["page"], context["querystring"] = _page(request, memberships)
    return context


@require_GET
@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    context = _program_list_context(request)
    status = 200 if context["page"] is not None else 400
    return render(request, "visits/programs/program_list.html", context, status=status)


@require_POST
@login_required
def program_enrol(request: HttpRequest) -> HttpResponse:
    _require_program_manager(request)
    form = EnrolForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            membership = services.program_enrol(
                by=request.user,
                retailer=form.cleaned_data["retailer"],
                kind=form.cleaned_data["kind"],
                since=form.cleaned_data["since"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s enrolled as %(kind)s.")
                % {"name": membership.retailer.name, "kind": membership.get_kind_display()},
            )
            route_id = membership.retailer.route_id
            target = services.demonstration_target()
            if (
                membership.kind == ProgramKind.DEMONSTRATION
                and services.demonstration_count(route_id) > target
            ):
                messages.warning(
                    request,
                    _("Route %(route)s now has more than %(target)s demonstration stores.")
                    % {"route": membership.retailer.route.code, "target": target},
                )
            return redirect("visits:programs")
    context = _program_list_context(request, enrol_form=form)
    return render(request, "visits/programs/program_list.html", context, status=400)


def _membership(request: HttpRequest, pk: int) -> ProgramMembership:
    try:
        return selectors.membership_detail(user=request.user, pk=pk)
    except ProgramMembership.DoesNotExist as exc:
        raise Http404 from exc


@require_POST
@login_required
def program_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    _require_program_manager(request)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            services.program_withdraw(by=request.user, membership=membership, **form.cleaned_data)
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s left the program %(kind)s.")
                % {"name": membership.retailer.name, "kind": membership.get_kind_display()},
            )
            return redirect("visits:programs")
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)
    return redirect("visits:programs")


@require_GET
@login_required
def program_overview(request: HttpRequest) -> HttpResponse:
    form = StaleDaysForm(request.GET)
    context: dict = {"form": form, "kinds": ProgramKind.choices}
    if not form.is_valid():
        return render(request, "visits/programs/program_overview.html", context, status=400)
    context["overview"] = selectors.program_overview(
        user=request.user, stale_days=form.cleaned_data["stale_days"]
    )
    return render(request, "visits/programs/program_overview.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def program_criteria(request: HttpRequest) -> HttpResponse:
    _require_program_manager(request)
    form = CriterionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.program_criterion_add(by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Criterion added."))
            return redirect("visits:program-criteria")
    grouped = selectors.criteria_by_kind(active_only=False)
    context = {
        "form": form,
        "groups": [(label, grouped[kind]) for kind, label in ProgramKind.choices],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "visits/programs/criteria.html", context, status=status)


@require_POST
@login_required
def program_criterion_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_program_manager(request)
    try:
        criterion = ProgramCriterion.objects.get(pk=pk)
    except ProgramCriterion.DoesNotExist as exc:
        raise Http404 from exc
    form = CriterionEditForm(request.POST)
    if form.is_valid():
        try:
            services.program_criterion_update(
                by=request.user, criterion=criterion, **form.cleaned_data
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Criterion saved."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("visits:program-criteria")


# --- Reviews on a visit -----------------------------------------------------------------------


@require_POST
@login_required
def visit_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The criteria ticked for one program member during an open visit."""
    try:
        visit = visible_visit(user=request.user, pk=pk)
    except Visit.DoesNotExist as exc:
        raise Http404 from exc
    if visit.account_manager_id != request.user.pk:
        raise PermissionDenied
    if not visit.is_open:
        messages.error(
            request, _("This visit is checked out: criteria are reviewed during a visit.")
        )
        return redirect("visits:visit", visit.pk)
    reviews = selectors.visit_review_forms(visit=visit)
    form = ReviewForm(
        request.POST, criteria_ids=[c.pk for review in reviews for c in review.criteria]
    )
    membership = None
    if form.is_valid():
        membership = next(
            (r.membership for r in reviews if r.membership.pk == form.cleaned_data["membership"]),
            None,
        )
        if membership is None:
            form.add_error(None, _("This store is not a program member of the visited retailer."))
    if form.is_valid() and membership is not None:
        try:
            services.program_review_record(
                by=request.user,
                visit=visit,
                membership=membership,
                met=form.cleaned_data["criteria"],
                notes=form.cleaned_data["notes"],
            )
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(
                request,
                _("Review of %(kind)s saved.") % {"kind": membership.get_kind_display()},
            )
            return redirect(reverse("visits:visit", args=[visit.pk]) + "#programs")
    errors = [e for field_errors in form.errors.values() for e in field_errors]
    context = visit_context(visit, editable=True)
    shown = next(
        (rf for rf in context["review_forms"] if membership and rf.membership.pk == membership.pk),
        None,
    )
    if shown is not None:
        shown.errors = errors
        shown.met = set(form.cleaned_data.get("criteria") or []) if form.is_bound else shown.met
    else:
        context["review_errors"] = errors
    return render(request, "visits/visit.html", context, status=400)


# --- Panels on other pages --------------------------------------------------------------------


def retailer_panel_context(retailer: Retailer) -> dict:
    return {
        "retailer": retailer,
        "trainings": selectors.retailer_trainings(retailer=retailer),
        "memberships": selectors.retailer_programs(retailer=retailer),
    }


def retailer_panel(request: HttpRequest, *, retailer: Retailer) -> str:
    """Trainings and programs of a retailer, for the retailers app's detail page."""
    return render_to_string(
        "visits/programs/_retailer.html", retailer_panel_context(retailer), request=request
    )
