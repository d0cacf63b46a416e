"""A visit logged on a phone in a real headless Chromium (Playwright), end to end."""

import pytest
from django.utils import timezone

from retailers.models import Retailer, RetailerStatus
from visits import services
from visits.models import Visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 414, "height": 896}


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo1234")
    page.click("button[type=submit]")


def plan_today(demo) -> Retailer:
    """A 4★ of ``manager`` added to today's plan (the demo plans Monday to Friday only)."""
    today = timezone.localdate()
    shop = (
        Retailer.objects.filter(
            route__account_manager=demo["manager"], status=RetailerStatus.ACTIVE, star=4
        )
        .exclude(visit_plans__day=today)
        .order_by("licence_number")
        .first()
    )
    services.visit_plan_add(retailer=shop, day=today, by=demo["supervisor"])
    return shop


def test_manager_checks_in_ticks_writes_and_checks_out(live_server, page, demo, tmp_path):
    shop = plan_today(demo)
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 34.412345, "longitude": 115.867891})
    log_in(page, live_server.url, "manager")

    # Today is where an account manager lands.
    page.wait_for_url(f"{live_server.url}/visits/today/")
    row = page.locator(f"#today li[data-retailer='{shop.pk}']")
    assert shop.name in row.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row.locator("a").first.click()

    # The retailer card: check in.
    page.wait_for_selector("#check-in")
    page.click("#check-in")
    page.wait_for_selector("#check-out-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Tick the focus activities, write a note and feedback, check out.
    page.check("input[name=activities][value=law]")
    page.check("input[name=activities][value=inventory]")
    page.fill("#id_notes", "讲解了法律法规，建议调整库存。")
    page.fill("#id_feedback", "希望增加紧俏烟供应")
    page.fill("#id_follow_ups", "下次带新品宣传资料")
    page.screenshot(path=str(tmp_path / "visit.png"), full_page=True)
    page.click("#check-out")

    # Back on the card, the visit is first in the retailer's history.
    page.wait_for_selector("#visit-history li")
    first = page.locator("#visit-history li").first.inner_text()
    assert "讲解了法律法规" in first
    assert "宣传法律法规、指导调整库存" in first
    assert "下次带新品宣传资料" in page.locator("#open-follow-ups").inner_text()
    page.screenshot(path=str(tmp_path / "card.png"), full_page=True)

    visit = Visit.objects.filter(retailer=shop).latest("checked_in_at")
    assert visit.checked_out_at is not None
    assert visit.plan is not None
    assert visit.plan.day == timezone.localdate()
    assert visit.activities == ["law", "inventory"]
    assert (str(visit.latitude), str(visit.longitude)) == ("34.412345", "115.867891")

    page.goto(f"{live_server.url}/visits/today/")
    assert "state-done" in page.locator(f"#today li[data-retailer='{shop.pk}']").get_attribute(
        "class"
    )


def test_check_in_works_without_the_browsers_position(live_server, page, demo):
    shop = plan_today(demo)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, "manager")
    page.wait_for_url(f"{live_server.url}/visits/today/")
    page.goto(f"{live_server.url}/visits/retailers/{shop.pk}/")
    page.click("#check-in")
    page.wait_for_selector("#check-out-form", timeout=15000)
    visit = Visit.objects.get(retailer=shop, checked_out_at__isnull=True)
    assert (visit.latitude, visit.longitude) == (None, None)
