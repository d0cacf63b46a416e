"""Pages: Today, retailer card, visit logging, policies, plan and compliance (thin)."""

from __future__ import annotations

import csv
import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import can_view_settlement_data
from config.errors import ApplicationError
from config.spreadsheet import safe_cell
from retailers import selectors as retailer_selectors
from retailers.models import Retailer
from settlement.analytics import current_targets
from territory.selectors import cycle_for_day
from visits import selectors, services, tasks
from visits.forms import (
    CheckInForm,
    CheckOutForm,
    ComplianceForm,
    EmergencyRequestForm,
    PlanAddForm,
    PlanFilterForm,
    PlanMoveForm,
    PlanRunForm,
    PolicyForm,
    RetailerSearchForm,
    StockFormSet,
)
from visits.models import ServicePolicy, Visit, VisitPlan
from visits.programs import selectors as program_selectors

PLAN_PAGE_SIZE = 50
#: Stands for the retailer's id in the card link put together once per Today page.
CARD_URL_MARK = 987654321
SEARCH_LIMIT = 30


def _require_supervisor(request: HttpRequest) -> None:
    if not (request.user.is_supervisor or request.user.is_administrator):
        raise PermissionDenied


def _add_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's refusal on the form, beside the field it names when it has one."""
    placed = False
    for field, errors in exc.extra.items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


# --- Today and the retailer card --------------------------------------------------------------


class DayForm(forms.Form):
    day = forms.DateField(required=False)


@require_GET
@login_required
def today(request: HttpRequest) -> HttpResponse:
    form = DayForm(request.GET)
    if not form.is_valid():
        return render(request, "visits/today.html", {"form": form, "rows": None}, status=400)
    day = form.cleaned_data["day"] or timezone.localdate()
    rows = selectors.today_rows(user=request.user, day=day)
    targets = current_targets(user=request.user, today=timezone.localdate())
    # Each row links to its retailer's card: the link's two halves around the id, once.
    card_url_start, card_url_end = reverse("visits:card", args=[CARD_URL_MARK]).split(
        str(CARD_URL_MARK)
    )
    context = {
        "form": form,
        "day": day,
        "card_url_start": card_url_start,
        "card_url_end": card_url_end,
        "is_today": day == timezone.localdate(),
        "previous_day": day - dt.timedelta(days=1),
        "next_day": day + dt.timedelta(days=1),
        "rows": rows,
        "done": sum(1 for row in rows if row.state == "done"),
        "open_visit": selectors.open_visit_of(request.user),
        "targets": targets,
        "targets_behind": sum(1 for p in targets if p.state == "behind"),
    }
    return render(request, "visits/today.html", context)


@require_GET
@login_required
def find_retailer(request: HttpRequest) -> HttpResponse:
    form = RetailerSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "visits/find.html", {"form": form, "results": None}, status=400)
    query = form.cleaned_data["q"]
    results = (
        list(retailer_selectors.retailer_list(user=request.user, search=query)[:SEARCH_LIMIT])
        if query
        else None
    )
    return render(request, "visits/find.html", {"form": form, "results": results})


def _card_context(request: HttpRequest, pk: int, **forms_) -> dict:
    try:
        retailer = retailer_selectors.retailer_detail(user=request.user, pk=pk)
    except Retailer.DoesNotExist as exc:
        raise Http404 from exc
    return {
        "retailer": retailer,
        "show_settlement": can_view_settlement_data(request.user),
        "card": selectors.retailer_card(user=request.user, retailer=retailer),
        "check_in_form": forms_.get("check_in_form") or CheckInForm(),
        "emergency_form": forms_.get("emergency_form") or EmergencyRequestForm(),
        "trainings": program_selectors.retailer_trainings(retailer=retailer),
        "memberships": program_selectors.retailer_programs(retailer=retailer),
    }


@require_GET
@login_required
def retailer_card(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "visits/card.html", _card_context(request, pk))


@require_POST
@login_required
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    context = _card_context(request, pk, check_in_form=CheckInForm(request.POST))
    form = context["check_in_form"]
    if form.is_valid():
        try:
            visit = services.visit_check_in(
                retailer=context["retailer"],
                by=request.user,
                latitude=form.cleaned_data["latitude"],
                longitude=form.cleaned_data["longitude"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("visits:visit", visit.pk)
    return render(request, "visits/card.html", context, status=400)


@require_POST
@login_required
def emergency_request(request: HttpRequest, pk: int) -> HttpResponse:
    context = _card_context(request, pk, emergency_form=EmergencyRequestForm(request.POST))
    form = context["emergency_form"]
    if form.is_valid():
        try:
            services.emergency_request_create(
                retailer=context["retailer"],
                by=request.user,
                visit=context["card"].open_visit,
                **form.cleaned_data,
            )
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Emergency delivery requested."))
            return redirect("visits:card", pk)
    return render(request, "visits/card.html", context, status=400)


# --- A visit: check out with what was done ---------------------------------------------------


def visit_context(visit: Visit, *, editable: bool, data=None) -> dict:
    """What the visit page shows: the check-out form while the visit is the user's and open,
    the program checklists to tick (or the reviews recorded), else the record."""
    context: dict = {"visit": visit, "editable": editable}
    if not editable:
        context["program_reviews"] = program_selectors.visit_reviews(visit=visit)
        return context
    policy = selectors.policy_for(star=visit.star)
    follow_ups = selectors.open_follow_ups(retailer=visit.retailer)
    context |= {
        "form": CheckOutForm(data, policy=policy, open_follow_ups=follow_ups),
        "stock": StockFormSet(data, prefix="stock"),
        "policy": policy,
        "now": timezone.now(),
        "review_forms": program_selectors.visit_review_forms(visit=visit),
    }
    return context


@require_http_methods(["GET", "POST"])
@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        visit = selectors.visit_detail(user=request.user, pk=pk)
    except Visit.DoesNotExist as exc:
        raise Http404 from exc
    editable = visit.is_open and visit.account_manager_id == request.user.pk
    if not editable:
        if request.method == "POST":
            raise PermissionDenied
        return render(request, "visits/visit.html", visit_context(visit, editable=False))
    data = request.POST if request.method == "POST" else None
    context = visit_context(visit, editable=True, data=data)
    form, stock = context["form"], context["stock"]
    if request.method == "GET":
        return render(request, "visits/visit.html", context)
    if form.is_valid() and stock.is_valid():
        try:
            services.visit_check_out(
                visit=visit,
                by=request.user,
                at=form.left_at_datetime(visit.checked_in_at),
                activities=form.cleaned_data["activities"],
                notes=form.cleaned_data["notes"],
                feedback=form.cleaned_data["feedback"],
                stock=stock.stock_inputs(),
                follow_ups=form.cleaned_data["follow_ups"],
                done_follow_ups=form.done_follow_ups(),
            )
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Checked out of %(name)s.") % {"name": visit.retailer.name})
            return redirect(reverse("visits:card", args=[visit.retailer_id]) + "#history")
    return render(request, "visits/visit.html", context, status=400)


# --- Service policy ---------------------------------------------------------------------------


@require_GET
@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    context = {"policies": selectors.policy_list(), "history": selectors.policy_history()}
    return render(request, "visits/policies.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def policy_edit(request: HttpRequest, star: int) -> HttpResponse:
    _require_supervisor(request)
    try:
        policy = selectors.policy_list().get(star=star)
    except ServicePolicy.DoesNotExist as exc:
        raise Http404 from exc
    if request.method == "GET":
        form = PolicyForm(initial=policy.snapshot())
        return render(request, "visits/policy_form.html", {"form": form, "policy": policy})
    form = PolicyForm(request.POST)
    if form.is_valid():
        try:
            services.service_policy_update(policy=policy, by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Policy for %(star)s saved.") % {"star": policy})
            return redirect("visits:policies")
    return render(request, "visits/policy_form.html", {"form": form, "policy": policy}, status=400)


# --- Visit plan -------------------------------------------------------------------------------


def _current_cycle_code() -> str | None:
    cycle = cycle_for_day(timezone.localdate())
    return cycle.code if cycle else None


@require_GET
@login_required
def plan(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    data = request.GET.copy()
    if not data.get("cycle") and _current_cycle_code():
        data["cycle"] = _current_cycle_code()
    form = PlanFilterForm(data, user=request.user)
    context: dict = {"form": form, "run_form": PlanRunForm(initial={"cycle": data.get("cycle")})}
    if not form.is_valid():
        return render(request, "visits/plan.html", context, status=400)
    cycle = form.cleaned_data["cycle"]
    entries = selectors.plan_entries(
        user=request.user,
        cycle=cycle,
        route=form.cleaned_data["route"],
        day=form.cleaned_data["day"],
    )
    query = request.GET.copy()
    query.pop("page", None)
    context |= {
        "cycle": cycle,
        "days": selectors.plan_days(user=request.user, cycle=cycle),
        "page": Paginator(entries, PLAN_PAGE_SIZE).get_page(request.GET.get("page")),
        "querystring": query.urlencode(),
        "add_form": PlanAddForm(user=request.user),
    }
    return render(request, "visits/plan.html", context)


@require_POST
@login_required
def plan_run(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form = PlanRunForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a cycle to plan."))
        return redirect("visits:plan")
    cycle = form.cleaned_data["cycle"]
    districts = None
    if not request.user.is_administrator:
        districts = list(request.user.supervised_districts.values_list("pk", flat=True))
    tasks.plan_visits.delay_on_commit(cycle.pk, districts)
    messages.success(
        request,
        _("Planning of cycle %(cycle)s has been queued; refresh in a moment.") % {"cycle": cycle},
    )
    return redirect(reverse("visits:plan") + f"?cycle={cycle.code}")


def _plan_entry(request: HttpRequest, pk: int) -> VisitPlan:
    try:
        return selectors.visible_plan(request.user).select_related("retailer", "cycle").get(pk=pk)
    except VisitPlan.DoesNotExist as exc:
        raise Http404 from exc


@require_http_methods(["GET", "POST"])
@login_required
def plan_move(request: HttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request)
    entry = _plan_entry(request, pk)
    form = PlanMoveForm(request.POST or None, initial={"day": entry.day})
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_plan_move(entry=entry, day=form.cleaned_data["day"], by=request.user)
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Visit moved."))
            return redirect(reverse("visits:plan") + f"?cycle={entry.cycle.code}")
    status = 400 if request.method == "POST" else 200
    return render(request, "visits/plan_move.html", {"form": form, "entry": entry}, status=status)


@require_POST
@login_required
def plan_add(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form = PlanAddForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            entry = services.visit_plan_add(
                retailer=form.cleaned_data["retailer"],
                day=form.cleaned_data["day"],
                by=request.user,
            )
        except ApplicationError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, _("Visit added to the plan."))
            return redirect(reverse("visits:plan") + f"?cycle={entry.cycle.code}")
    return render(request, "visits/plan_add.html", {"form": form}, status=400)


# --- Compliance -------------------------------------------------------------------------------


def _report(request: HttpRequest):
    _require_supervisor(request)
    form = ComplianceForm(request.GET, user=request.user)
    if not form.is_valid():
        return form, None
    report = selectors.compliance_report(
        user=request.user, cycle=form.cleaned_data["cycle"], district=form.cleaned_data["district"]
    )
    return form, report


@require_GET
@login_required
def compliance(request: HttpRequest) -> HttpResponse:
    form, report = _report(request)
    query = request.GET.urlencode()
    context = {"form": form, "report": report, "querystring": query}
    return render(request, "visits/compliance.html", context, status=200 if report else 400)


@require_GET
@login_required
def compliance_csv(request: HttpRequest, part: str) -> HttpResponse:
    form, report = _report(request)
    if report is None:
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"compliance-{report.cycle.code}-{part}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response.write("\ufeff")  # so that spreadsheet programs read the Chinese as UTF-8
    writer = csv.writer(response)
    if part == "summary":
        writer.writerow(
            [
                _("Group"),
                _("Name"),
                pgettext("visits", "Planned"),
                _("Done"),
                _("Done %"),
                _("Visits"),
                _("Unplanned"),
                _("Stay met"),
                _("Short stays"),
                _("Average stay (min)"),
                _("Average minimum (min)"),
            ]
        )
        groups = [
            (_("Total"), [report.total]),
            (_("Account manager"), report.by_manager),
            (_("Route"), report.by_route),
            (_("Star"), report.by_star),
        ]
        for group, rows in groups:
            for row in rows:
                writer.writerow(
                    safe_cell(v)
                    for v in (
                        group,
                        row.label,
                        row.planned,
                        row.done,
                        row.done_share,
                        row.visits,
                        row.unplanned,
                        row.stay_ok,
                        row.short,
                        row.average_stay,
                        row.average_required,
                    )
                )
    else:
        writer.writerow(
            [
                _("Licence number"),
                _("Retailer"),
                _("Route"),
                _("Star"),
                _("Account manager"),
                pgettext("visits", "Planned"),
                _("Visited"),
                _("Last visit"),
            ]
        )
        for item in report.missed:
            retailer = item.retailer
            last = timezone.localtime(item.last_visit_at) if item.last_visit_at else None
            writer.writerow(
                safe_cell(v)
                for v in (
                    retailer.licence_number,
                    retailer.name,
                    retailer.route.code,
                    retailer.star or _("Unrated"),
                    retailer.route.account_manager or "",
                    item.planned,
                    item.visited,
                    f"{last:%Y-%m-%d %H:%M}" if last else "",
                )
            )
    return response
