from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.permissions import can_view_settlement_data
from config import panels
from config.dates import quarter_start
from retailers import selectors
from retailers.forms import DistrictSummaryForm, RetailerFilterForm
from retailers.models import Retailer

PAGE_SIZE = 25


@require_GET
@login_required
def retailer_list(request: HttpRequest) -> HttpResponse:
    form = RetailerFilterForm(request.GET or None, user=request.user)
    if request.GET and not form.is_valid():
        context = {"form": form, "page": None, "querystring": ""}
        return render(request, "retailers/list.html", context, status=400)
    filters = form.cleaned_data if request.GET else {}
    retailers = selectors.retailer_list(
        user=request.user,
        route=filters.get("route"),
        star=filters.get("star"),
        status=filters.get("status") or None,
        business_type=filters.get("business_type") or None,
        search=filters.get("q", ""),
    )
    page = Paginator(retailers, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "querystring": query.urlencode()}
    return render(request, "retailers/list.html", context)


@require_GET
@login_required
def retailer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        retailer = selectors.retailer_detail(user=request.user, pk=pk)
    except Retailer.DoesNotExist as exc:
        raise Http404 from exc
    context = {
        "retailer": retailer,
        "show_settlement": can_view_settlement_data(request.user),
        "panels": panels.render_panels("retailers:detail", request, retailer=retailer),
        "can_override": selectors.supervised_districts(request.user)
        .filter(pk=retailer.route.district_id)
        .exists(),
    }
    return render(request, "retailers/detail.html", context)


@require_GET
@login_required
def district_summary(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    data = request.GET.copy()
    data.setdefault("as_of", today.isoformat())
    form = DistrictSummaryForm(data, user=request.user)
    context = {"form": form, "today": today, "quarter_start": quarter_start(today)}
    if not form.is_valid():
        return render(request, "retailers/district_summary.html", context, status=400)
    context["summary"] = selectors.district_summary(
        user=request.user,
        district=form.cleaned_data["district"],
        as_of=form.cleaned_data["as_of"],
    )
    return render(request, "retailers/district_summary.html", context)
