"""The reveal and the audit page in a real headless Chromium at phone size (Playwright)."""

import os

import pytest

from settlement.models import SettlementAccount
from tests.test_browser import PHONE, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    return page


def test_a_supervisor_reveals_a_number_and_finds_it_in_the_history(
    live_server, phone, demo, tmp_path
):
    shots = os.environ.get("SCREENSHOTS_DIR", str(tmp_path))
    account = SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ").first()
    log_in(phone, live_server.url, "supervisor")
    phone.goto(f"{live_server.url}/retailers/{account.retailer_id}/")
    assert account.account_number not in phone.content()
    phone.click("#reveal-account")
    phone.wait_for_selector("#account-number")
    assert phone.inner_text("#account-number") == account.account_number
    phone.screenshot(path=f"{shots}/reveal.png", full_page=True)
    # Reloading does not show it again (a POST the browser would have to repeat).
    phone.goto(f"{live_server.url}/audit/")
    entries = phone.locator("#audit-entries > li").all_inner_texts()
    assert account.reference in entries[0]
    assert account.account_number not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=f"{shots}/audit.png", full_page=True)
    phone.screenshot(path=f"{shots}/audit-top.png")
