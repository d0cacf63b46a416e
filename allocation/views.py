"""Pages for points and allocation: thin, calling selectors and services (STYLE.md)."""

from __future__ import annotations

from fractions import Fraction
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from allocation import exports, selectors, services
from allocation.explain import approx, explain, line_quota, quota_text
from allocation.forms import CycleForm, LineFilterForm, RunRequestForm, SupplyForm, apply_errors
from allocation.models import AllocationRun, RunStatus, ScarceSupply
from allocation.tasks import compute_points, propose_star_ratings
from config.errors import ApplicationError
from retailers.models import Retailer
from retailers.selectors import can_supervise, supervised_districts
from retailers.services import previous_quarter
from territory.models import Cycle
from territory.selectors import cycle_list

PAGE_SIZE = 50


def manager_required(view):
    """Supply and run pages are for the supervisors of a branch and administrators; anyone
    else signed in goes to the published awards of their retailers."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not selectors.manageable_branches(request.user).exists():
            if request.method == "GET" and not kwargs:
                return redirect("allocation:awards")
            if request.method != "GET":
                # An action above the role (tests/test_url_walk.py): refused as such.
                raise PermissionDenied
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _cycle_from(request: HttpRequest) -> tuple[CycleForm, Cycle | None]:
    form = CycleForm(request.GET or None)
    if request.GET.get("cycle") and form.is_valid() and form.cleaned_data["cycle"]:
        return form, form.cleaned_data["cycle"]
    if request.GET.get("cycle"):
        return form, None
    cycle = selectors.default_cycle(timezone.localdate())
    return CycleForm(initial={"cycle": cycle}), cycle


@require_GET
@manager_required
def supply_list(request: HttpRequest) -> HttpResponse:
    form, cycle = _cycle_from(request)
    if cycle is None:
        return render(request, "allocation/supply_list.html", {"form": form}, status=400)
    points_cycle = selectors.previous_cycle(cycle)
    context = {
        "form": form,
        "cycle": cycle,
        "supplies": selectors.supply_list(user=request.user, cycle=cycle),
        "points_cycle": points_cycle,
        "points": selectors.points_computation(points_cycle) if points_cycle else None,
    }
    return render(request, "allocation/supply_list.html", context)


@require_http_methods(["GET", "POST"])
@manager_required
def supply_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    cycle = selectors.default_cycle(timezone.localdate())
    if cycle is not None:
        initial["cycle"] = cycle.pk
    form = SupplyForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            supply = services.supply_create(
                branch=form.cleaned_data["branch"],
                cycle=form.cleaned_data["cycle"],
                brand=form.cleaned_data["brand"],
                params=form.params(),
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Supply saved."))
            return redirect("allocation:supply-detail", pk=supply.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "allocation/supply_form.html", {"form": form}, status=status)


def _supply_or_404(request: HttpRequest, pk: int) -> ScarceSupply:
    try:
        return selectors.supply_detail(user=request.user, pk=pk)
    except ScarceSupply.DoesNotExist as exc:
        raise Http404 from exc


@require_http_methods(["GET", "POST"])
@manager_required
def supply_edit(request: HttpRequest, pk: int) -> HttpResponse:
    supply = _supply_or_404(request, pk)
    initial = {
        "quantity": supply.quantity,
        "unit": supply.unit,
        "min_star": supply.min_star,
        "minimum": supply.minimum,
        "violation_cycles": supply.violation_cycles,
        "note": supply.note,
        **{f"cap_star_{star}": cap for star, cap in supply.caps_by_star.items()},
    }
    form = SupplyForm(request.POST or None, user=request.user, supply=supply, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.supply_update(
                supply=supply, params=form.params(), note=form.cleaned_data["note"], by=request.user
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Supply saved."))
            return redirect("allocation:supply-detail", pk=supply.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "supply": supply}
    return render(request, "allocation/supply_form.html", context, status=status)


@require_GET
@manager_required
def supply_detail(request: HttpRequest, pk: int) -> HttpResponse:
    supply = _supply_or_404(request, pk)
    context = {
        "supply": supply,
        "runs": supply.run_list,
        "form": RunRequestForm(),
        "needs_reason": any(
            r.status in (RunStatus.APPROVED, RunStatus.PUBLISHED) for r in supply.run_list
        ),
    }
    return render(request, "allocation/supply_detail.html", context)


@require_POST
@manager_required
def supply_run(request: HttpRequest, pk: int) -> HttpResponse:
    supply = _supply_or_404(request, pk)
    form = RunRequestForm(request.POST)
    if form.is_valid():
        try:
            run, created = services.allocation_run_request(
                supply=supply, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ApplicationError as exc:
            apply_errors(form, exc)
        else:
            if created:
                messages.success(request, _("Run #%(n)s requested.") % {"n": run.number})
            else:
                messages.info(request, _("Run #%(n)s is already computing.") % {"n": run.number})
            return redirect("allocation:run-detail", pk=run.pk)
    context = {"supply": supply, "runs": supply.run_list, "form": form, "needs_reason": True}
    return render(request, "allocation/supply_detail.html", context, status=400)


@require_POST
@manager_required
def cycle_run(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        cycle = cycle_list().get(pk=pk)
    except Cycle.DoesNotExist as exc:
        raise Http404 from exc
    runs = services.allocation_runs_for_cycle(cycle=cycle, by=request.user)
    messages.info(
        request,
        _("%(n)s runs requested; supplies that already have a run, or cannot run, were skipped.")
        % {"n": len(runs)},
    )
    return redirect(f"{reverse('allocation:supply-list')}?cycle={cycle.pk}")


@require_GET
@login_required
def points(request: HttpRequest) -> HttpResponse:
    form = CycleForm(request.GET or None)
    if request.GET.get("cycle"):
        if not form.is_valid():
            return render(request, "allocation/points.html", {"form": form}, status=400)
        cycle = form.cleaned_data["cycle"]
    else:
        current = selectors.default_cycle(timezone.localdate())
        cycle = selectors.previous_cycle(current) if current else None
        form = CycleForm(initial={"cycle": cycle})
    if cycle is None:
        return render(request, "allocation/points.html", {"form": form})
    page = Paginator(selectors.points_ledger(user=request.user, cycle=cycle), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "cycle": cycle,
        "computation": selectors.points_computation(cycle),
        "page": page,
        "can_compute": selectors.manageable_branches(request.user).exists(),
    }
    return render(request, "allocation/points.html", context)


@require_POST
@manager_required
def points_compute(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        cycle = cycle_list().get(pk=pk)
    except Cycle.DoesNotExist as exc:
        raise Http404 from exc
    compute_points.delay_on_commit(cycle.pk, request.user.pk, False)
    messages.info(request, _("Points of cycle %(cycle)s are being computed.") % {"cycle": cycle})
    return redirect(f"{reverse('allocation:points')}?cycle={cycle.pk}")


def _run_or_404(request: HttpRequest, pk: int) -> AllocationRun:
    try:
        return selectors.managed_run(user=request.user, pk=pk)
    except AllocationRun.DoesNotExist as exc:
        raise Http404 from exc


@require_GET
@manager_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_or_404(request, pk)
    context = {"run": run, "events": selectors.run_events(run)}
    if run.status in (RunStatus.COMPUTING, RunStatus.FAILED):
        return render(request, "allocation/run_detail.html", context)
    form = LineFilterForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        context.update(form=form, review=selectors.run_review(user=request.user, run=run))
        return render(request, "allocation/run_detail.html", context, status=400)
    filters = form.cleaned_data if request.GET else {}
    route = filters.get("route")
    lines = selectors.review_lines(
        user=request.user,
        run=run,
        route_id=route.pk if route else None,
        star=filters.get("star"),
        show=filters.get("show", ""),
        search=filters.get("q", ""),
    )
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    review = selectors.run_review(user=request.user, run=run)
    before = selectors.awards_in(review.previous, [line.retailer_id for line in page])
    rows = []
    for line in page:
        last = before.get(line.retailer_id) if review.previous else None
        rows.append(
            {
                "line": line,
                "quota": quota_text(line_quota(line, run) * run.unit) if line.eligible else "0",
                "share": f"{approx(Fraction(line.points * 100, run.total_points))}%"
                if line.eligible and run.total_points
                else "",
                "explanation": explain(line, run),
                "previous": last,
                "change": None if last is None else line.award - last,
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    chart = {
        "star": {
            "labels": [b.label for b in review.by_star],
            "cartons": [b.cartons for b in review.by_star],
            "awarded": [b.awarded for b in review.by_star],
        },
        "route": {
            "labels": [b.label for b in review.by_route],
            "cartons": [b.cartons for b in review.by_route],
            "awarded": [b.awarded for b in review.by_route],
        },
        "cartons": _("Cartons"),
        "awarded": _("Retailers awarded"),
    }
    context.update(
        form=form,
        review=review,
        page=page,
        rows=rows,
        querystring=query.urlencode(),
        chart=chart,
        supersede_form=RunRequestForm(),
        level_text=quota_text(run.level * run.unit) if run.level is not None else "",
    )
    return render(request, "allocation/run_detail.html", context)


@require_GET
@manager_required
def run_progress(request: HttpRequest, pk: int) -> JsonResponse:
    run = _run_or_404(request, pk)
    return JsonResponse(
        {
            "status": run.status,
            "status_display": run.get_status_display(),
            "progress": run.progress,
            "error": run.error,
        }
    )


def _review_action(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    run = _run_or_404(request, pk)
    try:
        action(run=run, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"n": run.number})
    return redirect("allocation:run-detail", pk=run.pk)


@require_POST
@manager_required
def run_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(request, pk, services.allocation_run_approve, _("Run #%(n)s approved."))


@require_POST
@manager_required
def run_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _review_action(request, pk, services.allocation_run_publish, _("Run #%(n)s published."))


@require_GET
@manager_required
def run_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    run = _run_or_404(request, pk)
    if fmt not in ("csv", "xlsx") or run.status in (RunStatus.COMPUTING, RunStatus.FAILED):
        raise Http404
    if fmt == "xlsx":
        return exports.xlsx_response(user=request.user, run=run)
    return exports.csv_response(user=request.user, run=run)


@require_GET
@login_required
def awards(request: HttpRequest) -> HttpResponse:
    """Published allocations of a cycle for the user's retailers (account managers)."""
    form, cycle = _cycle_from(request)
    if cycle is None:
        return render(request, "allocation/awards.html", {"form": form}, status=400)
    lines = selectors.published_lines(user=request.user, cycle=cycle).filter(award__gt=0)
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "cycle": cycle,
        "runs": selectors.published_runs(user=request.user, cycle=cycle),
        "page": page,
        "querystring": query.urlencode(),
    }
    return render(request, "allocation/awards.html", context)


@require_GET
@login_required
def statement(request: HttpRequest, retailer: int, cycle: int) -> HttpResponse:
    """A retailer's printable statement of its published awards in a cycle: in Chinese, the
    retailer's language, whatever the user's own setting, unless ``?lang=en`` asks otherwise."""
    try:
        data = selectors.retailer_statement(user=request.user, retailer_id=retailer, cycle_id=cycle)
    except (Retailer.DoesNotExist, Cycle.DoesNotExist) as exc:
        raise Http404 from exc
    language = "en" if request.GET.get("lang") == "en" else "zh-hans"
    with translation.override(language):
        return _statement(request, data, language)


def _statement(request: HttpRequest, data, language: str) -> HttpResponse:
    items = [
        {
            "line": line,
            "run": line.run,
            "quota": quota_text(line_quota(line, line.run) * line.run.unit)
            if line.eligible
            else "0",
            "explanation": explain(line, line.run),
        }
        for line in data.lines
    ]
    context = {"statement": data, "items": items, "language": language}
    return render(request, "allocation/statement.html", context)


@require_POST
@login_required
def rerating_propose(request: HttpRequest) -> HttpResponse:
    """The re-rating page's button: propose the last quarter's stars for one's own district(s).

    The job runs in a worker (``tasks.propose_star_ratings``); the proposal replaces an
    unapproved one of the same quarter (DESIGN §2.6).
    """
    if not can_supervise(request.user):
        raise PermissionDenied
    districts = supervised_districts(request.user)
    if request.POST.get("district"):
        districts = (
            districts.filter(pk=request.POST["district"])
            if request.POST["district"].isdigit()
            else districts.none()
        )
    ids = list(districts.values_list("pk", flat=True))
    if not ids:
        raise Http404
    start, _end = previous_quarter(timezone.localdate())
    propose_star_ratings.delay_on_commit(start.isoformat(), ids, request.user.pk)
    messages.info(request, _("The stars are being proposed; the proposal appears here shortly."))
    return redirect("retailers:rerating-list")
