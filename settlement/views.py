"""Pages for e-settlement: thin — parse with a form, call a service or selector, render."""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import can_reveal_account_number, can_view_settlement_data
from config.errors import ApplicationError
from settlement import selectors, services, tasks
from settlement.forms import (
    CycleForm,
    MonthForm,
    OrderFilterForm,
    OrderForm,
    OrderLineFormSet,
    RevealForm,
    UploadForm,
)
from settlement.models import ImportBatch, ImportKind, Order
from territory.models import Cycle, CycleStatus

PAGE_SIZE = 25
PREVIEW_ROWS = 50


def settlement_data_required(view):
    """Balances and accounts of a district: supervisors and administrators only (403)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_view_settlement_data(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _error_messages(exc: ApplicationError) -> list[str]:
    return [exc.message, *[m for ms in exc.extra.values() for m in ms if m != exc.message]]


# --- Orders ---------------------------------------------------------------------------------


@require_GET
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        return render(
            request, "settlement/order_list.html", {"form": form, "page": None}, status=400
        )
    filters = form.cleaned_data if request.GET else {}
    orders = selectors.order_list(
        user=request.user,
        cycle=filters.get("cycle"),
        route=filters.get("route"),
        channel=filters.get("channel") or None,
        status=filters.get("status") or None,
        search=filters.get("q", ""),
    )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "querystring": query.urlencode()}
    return render(request, "settlement/order_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def order_create(request: HttpRequest) -> HttpResponse:
    initial = {"cycle": selectors.current_cycle(timezone.localdate())}
    if request.GET.get("retailer", "").isdigit():
        initial["retailer"] = int(request.GET["retailer"])
    if request.method == "POST":
        form = OrderForm(request.POST, user=request.user)
        lines = OrderLineFormSet(request.POST, prefix="lines")
        if form.is_valid() and lines.is_valid():
            try:
                order = services.order_create(
                    retailer=form.cleaned_data["retailer"],
                    cycle=form.cleaned_data["cycle"],
                    channel=form.cleaned_data["channel"],
                    lines=[services.LineInput(brand=b, cartons=n) for b, n in lines.lines()],
                    by=request.user,
                )
            except ApplicationError as exc:
                for message in _error_messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, _("Order saved."))
                return redirect("settlement:order-detail", pk=order.pk)
        context = {"form": form, "lines": lines}
        return render(request, "settlement/order_form.html", context, status=400)
    form = OrderForm(initial=initial, user=request.user)
    lines = OrderLineFormSet(prefix="lines")
    return render(request, "settlement/order_form.html", {"form": form, "lines": lines})


@require_GET
@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        order = selectors.order_detail(user=request.user, pk=pk)
    except Order.DoesNotExist as exc:
        raise Http404 from exc
    context = {
        "order": order,
        "show_account": can_view_settlement_data(request.user),
    }
    return render(request, "settlement/order_detail.html", context)


@require_POST
@login_required
def order_retry(request: HttpRequest, pk: int) -> HttpResponse:
    order = selectors.visible_orders(request.user).filter(pk=pk).first()
    if order is None:
        raise Http404
    try:
        debit = services.debit_retry(order=order, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        transaction.on_commit(lambda: tasks.execute_debit.delay(debit.pk))
        messages.success(request, _("The debit is being retried."))
    target = request.POST.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect("settlement:order-detail", pk=order.pk)


# --- Imports (a dry-run preview, then apply) ------------------------------------------------


def _upload(request: HttpRequest, *, kind: str, template: str, check) -> HttpResponse:
    """Shared by both imports: upload → preview (nothing written but the kept file)."""
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "GET":
        return render(request, template, {"form": form})
    if not form.is_valid():
        return render(request, template, {"form": form}, status=400)
    upload = form.cleaned_data["file"]
    data = upload.read()
    try:
        result = check(services.import_text(data))
    except ApplicationError as exc:
        form.add_error("file", exc.message)
        return render(request, template, {"form": form}, status=400)
    context = {"form": form, "check": result, "preview_rows": PREVIEW_ROWS}
    if not result.ok:
        return render(request, template, context, status=400)
    context["batch"] = services.import_batch_create(
        kind=kind, file_name=upload.name, data=data, by=request.user
    )
    return render(request, template, context)


def _batch(request: HttpRequest, pk: int, kind: str) -> ImportBatch:
    batch = ImportBatch.objects.filter(pk=pk, kind=kind, uploaded_by=request.user).first()
    if batch is None:
        raise Http404
    return batch


@require_http_methods(["GET", "POST"])
@login_required
def order_import(request: HttpRequest) -> HttpResponse:
    return _upload(
        request,
        kind=ImportKind.ORDERS,
        template="settlement/order_import.html",
        check=lambda text: services.order_import_check(text=text, by=request.user),
    )


@require_POST
@login_required
def order_import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk, ImportKind.ORDERS)
    try:
        orders = services.order_import_apply(batch=batch, by=request.user)
    except ApplicationError as exc:
        for message in _error_messages(exc):
            messages.error(request, message)
        return redirect("settlement:order-import")
    messages.success(request, _("%(n)s orders imported.") % {"n": len(orders)})
    return redirect("settlement:order-list")


@require_http_methods(["GET", "POST"])
@settlement_data_required
def balance_import(request: HttpRequest) -> HttpResponse:
    return _upload(
        request,
        kind=ImportKind.BALANCES,
        template="settlement/balance_import.html",
        check=lambda text: services.balance_file_check(text=text, by=request.user),
    )


@require_POST
@settlement_data_required
def balance_import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk, ImportKind.BALANCES)
    try:
        result = services.balance_import_apply(batch=batch, by=request.user)
    except ApplicationError as exc:
        for message in _error_messages(exc):
            messages.error(request, message)
        return redirect("settlement:balance-import")
    transaction.on_commit(tasks.retry_covered_debits.delay)
    messages.success(
        request,
        _("%(updated)s balances updated, %(stale)s older ones ignored.")
        % {"updated": result.updated, "stale": result.stale},
    )
    return redirect("settlement:dashboard")


# --- Settlement accounts ----------------------------------------------------------------------


@never_cache
@require_POST
@login_required
def account_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show one account's full number once, to whoever may (audited; SECURITY.md).

    POST only, so that neither a link, a prefetch nor the browser's history shows it again;
    the answer is never cached. Another district's account is a 404, a role without the
    right a 403.
    """
    if not can_reveal_account_number(request.user):
        raise PermissionDenied
    account = get_object_or_404(
        selectors.visible_accounts(request.user).select_related("retailer"), pk=pk
    )
    form = RevealForm(request.POST)
    if not form.is_valid():
        context = {"account": account, "form": form}
        return render(request, "settlement/account_reveal.html", context, status=400)
    number = services.account_number_reveal(
        account=account, by=request.user, reason=form.cleaned_data["reason"]
    )
    context = {"account": account, "number": number, "form": form}
    return render(request, "settlement/account_reveal.html", context)


# --- Reminders, dashboard, rebates ----------------------------------------------------------


def _cycle_form(request: HttpRequest, *, default: Cycle | None, with_district: bool = False):
    cycles = Cycle.objects.order_by("-start_date")
    data = request.GET.copy()
    if not data.get("cycle") and default is not None:
        data["cycle"] = str(default.pk)
    return CycleForm(data, user=request.user, cycles=cycles, with_district=with_district)


@require_GET
@login_required
def reminder_list(request: HttpRequest) -> HttpResponse:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    form = _cycle_form(request, default=selectors.current_cycle(tomorrow))
    if not form.is_valid() or form.cleaned_data["cycle"] is None:
        return render(request, "settlement/reminder_list.html", {"form": form}, status=400)
    help_only = request.GET.get("help") == "1"
    reminders = selectors.reminders_for_manager(
        user=request.user, cycle=form.cleaned_data["cycle"], help_only=help_only
    )
    context = {
        "form": form,
        "cycle": form.cleaned_data["cycle"],
        "reminders": list(reminders),
        "help_only": help_only,
    }
    return render(request, "settlement/reminder_list.html", context)


@require_POST
@login_required
def reminder_helped(request: HttpRequest, pk: int) -> HttpResponse:
    reminder = selectors.visible_reminders(request.user).filter(pk=pk).first()
    if reminder is None:
        raise Http404
    try:
        services.reminder_mark_helped(reminder=reminder, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Recorded: you helped this retailer deposit."))
    url = reverse("settlement:reminder-list")
    return redirect(f"{url}?cycle={reminder.cycle_id}")


def _default_dashboard_cycle() -> Cycle | None:
    """The latest cycle with debits: the open cycle has few until its order days pass."""
    return (
        Cycle.objects.filter(orders__debits__isnull=False)
        .exclude(status=CycleStatus.PLANNED)
        .order_by("-start_date")
        .first()
    )


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    form = _cycle_form(request, default=_default_dashboard_cycle(), with_district=True)
    template = "settlement/dashboard.html"
    if not form.is_valid() or form.cleaned_data["cycle"] is None:
        return render(request, template, {"form": form}, status=400)
    data = selectors.settlement_dashboard(
        user=request.user,
        cycle=form.cleaned_data["cycle"],
        district=form.cleaned_data.get("district"),
    )
    trend_data = {
        "labels": [s.label for s in data.trend],
        "rates": [None if s.rate is None else float(s.rate) for s in data.trend],
        "goal": data.goal,
        "rate_label": _("Debit success (%)"),
        "goal_label": _("Goal"),
    }
    context = {
        "form": form,
        "data": data,
        "trend_data": trend_data,
        "show_account": can_view_settlement_data(request.user),
        "can_import": can_view_settlement_data(request.user),
    }
    return render(request, template, context)


@require_GET
@login_required
def rebate_report(request: HttpRequest) -> HttpResponse:
    months = selectors.rebate_months(request.user)
    latest = months[0] if months else None
    form = MonthForm(request.GET or None, initial={"month": latest})
    template = "settlement/rebate_report.html"
    if request.GET and not form.is_valid():
        return render(request, template, {"form": form, "months": months}, status=400)
    month = (form.cleaned_data.get("month") if request.GET else None) or latest
    rebates = [] if month is None else list(selectors.rebate_report(user=request.user, month=month))
    context = {
        "form": form,
        "months": months,
        "month": month,
        "rebates": rebates,
        "total": sum((r.amount for r in rebates), start=0),
    }
    return render(request, template, context)
