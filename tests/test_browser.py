"""The foundation pages in a real headless Chromium at phone size (Playwright)."""

import pytest
from django.utils import timezone

from config.dates import quarter_start

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


def test_supervisor_sees_the_source_figures_on_a_phone(live_server, phone, demo, tmp_path):
    log_in(phone, live_server.url, "supervisor")
    phone.wait_for_selector("#district-summary")
    total = phone.locator("#district-summary tfoot td").all_inner_texts()
    assert total[0] == "308"
    assert total[-3:] == ["278", "90.3%", "12"]
    routes = phone.locator("#district-summary tbody th").all_inner_texts()
    assert routes == ["A", "B", "C", "D", "E"]
    # The page fits the phone: nothing but the table scrolls sideways.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    phone.goto(f"{live_server.url}/retailers/summary/?as_of={quarter_start(timezone.localdate())}")
    stars = phone.locator("#district-summary tfoot td").all_inner_texts()
    assert stars[:7] == ["310", "18", "100", "142", "42", "7", "1"]
    phone.screenshot(path=str(tmp_path / "summary.png"), full_page=True)


def test_manager_filters_retailers_and_switches_language(live_server, phone, demo):
    log_in(phone, live_server.url, "manager")
    phone.wait_for_url(f"{live_server.url}/visits/today/")  # account managers start on Today
    phone.goto(f"{live_server.url}/retailers/")
    assert "零售客户" in phone.locator("h1").inner_text()
    phone.select_option("#id_star", "5")
    phone.click("form[role=search] button[type=submit]")
    phone.wait_for_url("**star=5**")
    assert "18" in phone.locator("main p.muted").first.inner_text()
    phone.locator(".list-cards a").first.click()
    phone.wait_for_selector("text=星级历史")
    phone.select_option("select[name=language]", "en")
    phone.wait_for_selector("text=Star history")
    assert phone.evaluate("document.documentElement.lang") == "en"
