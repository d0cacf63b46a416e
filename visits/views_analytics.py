"""The volume, price and stock (量、价、存) page of the half-year report (DESIGN §2.6): thin."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from settlement.analytics import MONTHS, units_for
from visits import analytics
from visits.forms import StockFilterForm


def _num(value) -> float | None:
    return None if value is None else float(value)


@require_GET
@login_required
def stock(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("by", MONTHS)
    data.setdefault("end", f"{today:%Y-%m}")
    form = StockFilterForm(data, units=units_for(request.user))
    template = "visits/stock.html"
    if not form.is_valid():
        return render(request, template, {"form": form, "series": None}, status=400)
    series = analytics.stock_trends(user=request.user, today=today, **form.cleaned_data)
    shown = series[0] if series else None
    chart = None
    if shown is not None:
        chart = {
            "type": "line",
            "labels": [p.label for p in shown.points],
            "datasets": [
                {"label": _("Stock (cartons)"), "data": [_num(p.stock) for p in shown.points]},
                {
                    "label": _("Sold last cycle (cartons)"),
                    "data": [_num(p.sales) for p in shown.points],
                },
                {
                    "label": _("Retail price (yuan per carton)"),
                    "data": [_num(p.price) for p in shown.points],
                    "axis": "right",
                },
            ],
        }
    context = {"form": form, "series": series, "shown": shown, "chart": chart}
    return render(request, template, context)
