"""Pages of the half-year report (DESIGN §2.6): sales, channels and e-settlement over time,
brand-cultivation targets. Thin: parse with a form, call ``analytics`` or a service, render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ApplicationError
from settlement import analytics, services
from settlement.export import Sheet, csv_response, xlsx_response
from settlement.forms import ChannelFilterForm, SalesFilterForm, TargetFilterForm, TargetForm
from settlement.models import CultivationTarget, OrderChannel

EXPORTS = {"csv": csv_response, "xlsx": xlsx_response}


def _default_level(user) -> str:
    return analytics.Level.DISTRICT if user.is_administrator else analytics.Level.ROUTE


def _with_defaults(request: HttpRequest, defaults: dict[str, str]):
    data = request.GET.copy()
    for name, value in defaults.items():
        if name not in data:
            data[name] = value
    return data


def _form_errors(form) -> str:
    return "; ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {error}".lstrip(": ")
        for name, errors in form.errors.items()
        for error in errors
    )


# --- Sales ----------------------------------------------------------------------------------


def _sales(request: HttpRequest):
    today = timezone.localdate()
    units = analytics.units_for(request.user)
    defaults = {
        "period": analytics.last_complete(analytics.MONTH, today).code,
        "level": _default_level(request.user),
    }
    form = SalesFilterForm(_with_defaults(request, defaults), units=units, today=today)
    if not form.is_valid():
        return form, None
    data = analytics.sales_dashboard(
        user=request.user, today=today, units=units, **form.cleaned_data
    )
    return form, data


def _measures_chart(label_now: str, label_before: str, points, *, kind: str = "bar") -> dict:
    return {
        "type": kind,
        "labels": [p.label for p in points],
        "datasets": [
            {"label": label_now, "data": [p.current.cartons for p in points]},
            {"label": label_before, "data": [p.year_before.cartons for p in points]},
        ],
    }


def _sales_charts(data: analytics.SalesDashboard) -> dict:
    cartons = _("Cartons")
    year_before = _("Same period a year before")
    top = data.by_brand[: analytics.TOP_BRANDS_CHARTED]
    return {
        "months": _measures_chart(cartons, _("A year before"), data.months, kind="line"),
        "halves": {
            "type": "bar",
            "labels": [p.label for p in data.halves],
            "datasets": [{"label": cartons, "data": [p.current.cartons for p in data.halves]}],
        },
        "classes": _measures_chart(cartons, year_before, data.by_class),
        "brands": {
            "type": "bar",
            "horizontal": True,
            "labels": [row.label for row in top],
            "datasets": [
                {"label": cartons, "data": [row.current.cartons for row in top]},
                {"label": year_before, "data": [row.year_before.cartons for row in top]},
            ],
        },
    }


@require_GET
@login_required
def sales(request: HttpRequest) -> HttpResponse:
    form, data = _sales(request)
    template = "settlement/analytics/sales.html"
    if data is None:
        return render(request, template, {"form": form}, status=400)
    context = {
        "form": form,
        "data": data,
        "charts": _sales_charts(data),
        "level_label": dict(analytics.Level.CHOICES)[data.level],
        "querystring": form.data.urlencode(),
    }
    return render(request, template, context)


def _sales_row(row: analytics.SalesRow) -> list:
    return [
        row.label,
        row.current.cartons,
        row.year_before.cartons,
        row.previous.cartons,
        row.cartons_yoy,
        row.cartons_pop,
        row.current.cases,
        row.year_before.cases,
        row.previous.cases,
        row.current.revenue,
        row.year_before.revenue,
        row.previous.revenue,
        row.revenue_yoy,
        row.revenue_pop,
        row.share,
    ]


def sales_sheets(data: analytics.SalesDashboard, *, level_label: str) -> list[Sheet]:
    header = [
        _("Name"),
        _("Cartons"),
        _("Cartons, a year before"),
        _("Cartons, period before"),
        _("Cartons YoY %"),
        _("Cartons PoP %"),
        _("Cases"),
        _("Cases, a year before"),
        _("Cases, period before"),
        _("Revenue (yuan)"),
        _("Revenue, a year before"),
        _("Revenue, period before"),
        _("Revenue YoY %"),
        _("Revenue PoP %"),
        _("Share of cartons %"),
    ]
    comparison = data.comparison
    about = Sheet(
        title=_("About"),
        header=[_("Item"), _("Value")],
        rows=[
            [_("Period"), comparison.period.label],
            [_("Days counted"), str(comparison.current)],
            [_("A year before"), str(comparison.year_before)],
            [_("Period before"), str(comparison.previous)],
            [_("Area"), data.area.label if data.area else _("All I can see")],
            [_("Brand"), data.brand.name if data.brand else _("All brands")],
            [_("Price class"), data.price_class or _("All classes")],
            [_("Revenue"), _("Amount charged: price per carton × cartons")],
        ],
    )
    summary = [data.total, data.key_brands, data.low_tar]
    months_header = [_("Month"), _("Cartons"), _("Cases"), _("Revenue (yuan)"), _("A year before")]
    return [
        about,
        Sheet(_("Summary"), header, [_sales_row(r) for r in summary]),
        Sheet(
            _("By %(level)s") % {"level": level_label},
            header,
            [_sales_row(r) for r in data.by_unit],
        ),
        Sheet(_("By price class"), header, [_sales_row(r) for r in data.by_class]),
        Sheet(_("By brand"), header, [_sales_row(r) for r in data.by_brand]),
        Sheet(
            _("By month"),
            months_header,
            [
                [
                    p.label,
                    p.current.cartons,
                    p.current.cases,
                    p.current.revenue,
                    p.year_before.cartons,
                ]
                for p in data.months
            ],
        ),
    ]


@require_GET
@login_required
def sales_export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in EXPORTS:
        raise Http404
    form, data = _sales(request)
    if data is None:
        return HttpResponse(
            _form_errors(form), status=400, content_type="text/plain; charset=utf-8"
        )
    level_label = str(dict(analytics.Level.CHOICES)[data.level])
    sheets = sales_sheets(data, level_label=level_label)
    filename = f"sales-{data.comparison.period.code}-{data.level}.{fmt}"
    return EXPORTS[fmt](filename=filename, sheets=sheets)


# --- Ordering channels and e-settlement -----------------------------------------------------


@require_GET
@login_required
def channels(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    units = analytics.units_for(request.user)
    defaults = {"by": analytics.MONTHS, "end": f"{today:%Y-%m}"}
    form = ChannelFilterForm(_with_defaults(request, defaults), units=units)
    template = "settlement/analytics/channels.html"
    if not form.is_valid():
        return render(request, template, {"form": form}, status=400)
    points = analytics.channel_series(user=request.user, today=today, **form.cleaned_data)
    labels = [p.label for p in points]
    shares = {
        "type": "bar",
        "stacked": True,
        "percent": True,
        "labels": labels,
        "datasets": [
            {"label": str(label), "data": [_num(p.order_shares[value]) for p in points]}
            for value, label in OrderChannel.choices
        ],
    }
    e_settlement = {
        "type": "line",
        "percent": True,
        "labels": labels,
        "datasets": [
            {"label": _("Of active retailers"), "data": [_num(p.e_retailer_share) for p in points]},
            {"label": _("Of orders"), "data": [_num(p.e_order_share) for p in points]},
            {"label": _("Of amount"), "data": [_num(p.e_amount_share) for p in points]},
        ],
    }
    success = {
        "type": "line",
        "percent": True,
        "labels": labels,
        "datasets": [
            {"label": _("Debit success (%)"), "data": [_num(p.debits.rate) for p in points]},
            {
                "label": _("Goal"),
                "data": [settings.SETTLEMENT_DEBIT_SUCCESS_GOAL] * len(points),
                "dashed": True,
            },
        ],
    }
    context = {
        "form": form,
        "points": points,
        "channels": OrderChannel.choices,
        "charts": {"shares": shares, "e_settlement": e_settlement, "success": success},
        "goal": settings.SETTLEMENT_DEBIT_SUCCESS_GOAL,
    }
    return render(request, template, context)


def _num(value) -> float | None:
    return None if value is None else float(value)


# --- Brand-cultivation targets --------------------------------------------------------------


def _can_manage(user) -> bool:
    return user.is_supervisor or user.is_administrator


@require_GET
@login_required
def target_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    managers = analytics.manageable_managers(request.user)
    form = TargetFilterForm(
        request.GET or None, managers=managers, with_manager=_can_manage(request.user)
    )
    template = "settlement/analytics/targets.html"
    if request.GET and not form.is_valid():
        return render(request, template, {"form": form, "rows": None}, status=400)
    filters = form.cleaned_data if request.GET else {}
    targets = analytics.target_list(
        user=request.user,
        today=today,
        manager=filters.get("manager"),
        current_only=filters.get("show", "current") != "all",
    )
    rows = analytics.target_progress(user=request.user, targets=list(targets), today=today)
    context = {"form": form, "rows": rows, "can_manage": _can_manage(request.user)}
    return render(request, template, context)


def _target_error(form: TargetForm, exc: ApplicationError) -> None:
    placed = False
    for name, errors in exc.extra.items():
        field = "subject" if name in ("brand", "brand_group") else name
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _editable_target(request: HttpRequest, pk: int) -> CultivationTarget:
    target = analytics.visible_targets(request.user).filter(pk=pk).first()
    if target is None:
        raise Http404
    if not _can_manage(request.user):
        raise PermissionDenied
    return target


@require_http_methods(["GET", "POST"])
@login_required
def target_create(request: HttpRequest) -> HttpResponse:
    if not _can_manage(request.user):
        raise PermissionDenied
    managers = analytics.manageable_managers(request.user)
    template = "settlement/analytics/target_form.html"
    if request.method == "GET":
        half = analytics.Period.of(analytics.HALF, timezone.localdate())
        form = TargetForm(
            initial={"start_date": half.start, "end_date": half.end}, managers=managers
        )
        return render(request, template, {"form": form})
    form = TargetForm(request.POST, managers=managers)
    if form.is_valid():
        try:
            services.cultivation_target_create(data=form.target_input(), by=request.user)
        except ApplicationError as exc:
            _target_error(form, exc)
        else:
            messages.success(request, _("Target saved."))
            return redirect("settlement:targets")
    return render(request, template, {"form": form}, status=400)


@require_http_methods(["GET", "POST"])
@login_required
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    target = _editable_target(request, pk)
    managers = analytics.manageable_managers(request.user)
    template = "settlement/analytics/target_form.html"
    if request.method == "GET":
        form = TargetForm(initial=TargetForm.initial_for(target), managers=managers)
        return render(request, template, {"form": form, "target": target})
    form = TargetForm(request.POST, managers=managers)
    if form.is_valid():
        try:
            services.cultivation_target_update(
                target=target, data=form.target_input(), by=request.user
            )
        except ApplicationError as exc:
            _target_error(form, exc)
        else:
            messages.success(request, _("Target saved."))
            return redirect("settlement:targets")
    return render(request, template, {"form": form, "target": target}, status=400)


@require_POST
@login_required
def target_delete(request: HttpRequest, pk: int) -> HttpResponse:
    target = _editable_target(request, pk)
    try:
        services.cultivation_target_delete(target=target, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Target deleted."))
    return redirect("settlement:targets")
