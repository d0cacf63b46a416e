"""The e-settlement pages in a real headless Chromium at phone size (Playwright)."""

from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.models import Brand
from retailers.models import Retailer
from settlement.analytics import Period
from settlement.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 414, "height": 896}


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_manager_enters_an_order_with_an_added_line_on_a_phone(live_server, phone, demo):
    shop = Retailer.objects.filter(route__code="A", status="active").order_by("stop_order")[0]
    first, second = Brand.objects.order_by("code")[:2]
    log_in(phone, live_server.url, "manager")
    phone.goto(f"{live_server.url}/settlement/orders/new/?retailer={shop.pk}")
    assert fits(phone)
    phone.click("#add-line")  # a fifth line, added by the page's script
    phone.select_option("#id_lines-0-brand", str(first.pk))
    phone.fill("#id_lines-0-cartons", "3")
    phone.select_option("#id_lines-4-brand", str(second.pk))
    phone.fill("#id_lines-4-cartons", "2")
    phone.click("#order-form button[type=submit]")
    phone.wait_for_selector("#order-lines")
    order = Order.objects.get(pk=int(phone.url.rstrip("/").rsplit("/", 1)[1]))
    assert (order.retailer, order.entered_by) == (shop, demo["manager"])
    assert order.total_amount == first.list_price * 3 + second.list_price * 2
    assert phone.locator("#order-lines tbody tr").count() == 2
    assert fits(phone)


def test_the_supervisor_dashboard_fits_a_phone(live_server, phone, demo):
    log_in(phone, live_server.url, "supervisor")
    phone.goto(f"{live_server.url}/settlement/dashboard/")
    phone.wait_for_selector("#by-route")
    routes = phone.locator("#by-route tbody th").all_inner_texts()
    assert routes == ["A", "B", "C", "D", "E"]
    rate = phone.locator("#by-route tfoot td").all_inner_texts()[-1]
    assert Decimal(rate.rstrip("%")) > Decimal("90")
    assert fits(phone)


def drawn(page) -> list[bool]:
    """For each chart canvas on the page: whether Chart.js drew a chart on it."""
    return page.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".map(c => !!(window.Chart && Chart.getChart(c)) && c.width > 0)"
    )


def test_the_half_year_report_pages_fit_a_phone_and_draw_their_charts(live_server, phone, demo):
    log_in(phone, live_server.url, "supervisor")
    half = Period.of("half", timezone.localdate()).code
    for path, table, charts in (
        ("/settlement/analytics/sales/", "#by-unit", 4),
        (f"/settlement/analytics/sales/?period={half}&level=manager", "#by-brand", 4),
        ("/settlement/analytics/channels/", "#series", 3),
        ("/visits/stock/", "#brands", 1),
    ):
        phone.goto(f"{live_server.url}{path}")
        phone.wait_for_selector(table)
        assert drawn(phone) == [True] * charts, path
        assert fits(phone), path
    phone.goto(f"{live_server.url}/settlement/targets/")
    assert phone.locator("#targets li[data-target]").count() == 3  # the manager's running ones
    assert fits(phone)
    phone.click("#new-target")
    phone.wait_for_selector("#target-form")
    assert fits(phone)


def test_the_manager_opens_the_targets_panel_on_today(live_server, phone, demo):
    log_in(phone, live_server.url, "manager")
    phone.goto(f"{live_server.url}/visits/today/")
    panel = phone.locator("#my-targets")
    assert not panel.locator("progress").first.is_visible()
    panel.locator("summary").click()
    assert panel.locator("li[data-target]").count() == 3
    assert panel.locator("progress").first.is_visible()
    assert fits(phone)
