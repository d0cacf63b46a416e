"""A program member's criteria reviewed during a visit, on a phone, in headless Chromium."""

import pytest

from retailers.models import Retailer, RetailerStatus
from visits.models import ProgramMembership, ProgramReview
from visits.programs import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 414, "height": 896}


def test_manager_ticks_program_criteria_during_a_visit(live_server, page, demo, tmp_path):
    services.program_criteria_ensure_defaults()  # a transactional test may have flushed them
    shop = (
        Retailer.objects.filter(
            route__account_manager=demo["manager"], status=RetailerStatus.ACTIVE
        )
        .exclude(program_memberships__status="active")
        .order_by("licence_number")
        .first()
    )
    membership = services.program_enrol(by=demo["supervisor"], retailer=shop, kind="demonstration")
    criteria = services.active_criteria("demonstration")

    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/visits/today/")

    # The card lists the store's program; check in.
    page.goto(f"{live_server.url}/visits/retailers/{shop.pk}/")
    assert "示范店" in page.locator("#program-memberships").inner_text()
    page.click("#check-in")
    page.wait_for_selector("#check-out-form")

    # The checklist of the demonstration store is above the check-out form.
    form = page.locator("form.program-review[data-kind=demonstration]")
    assert form.locator("input[name=criteria]").count() == len(criteria)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    form.locator(f"input[name=criteria][value='{criteria[0].pk}']").check()
    form.locator(f"input[name=criteria][value='{criteria[2].pk}']").check()
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    form.locator("button[type=submit]").click()

    # Back on the visit page: the review is saved, the ticks kept.
    page.wait_for_selector("form.program-review .badge.ok")
    saved = page.locator("form.program-review[data-kind=demonstration]")
    assert f"2/{len(criteria)}" in saved.locator("legend").inner_text()
    assert saved.locator(f"input[value='{criteria[0].pk}']").is_checked()
    assert not saved.locator(f"input[value='{criteria[1].pk}']").is_checked()
    review = ProgramReview.objects.get(membership=membership)
    assert (review.criteria_met, review.criteria_total) == (2, len(criteria))
    assert review.visit.retailer_id == shop.pk
    assert review.reviewed_by == demo["manager"]
    assert ProgramMembership.objects.get(pk=membership.pk).status == "active"
