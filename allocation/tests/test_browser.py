"""The review flow end to end in headless Chromium at phone size: a supervisor defines a supply,
runs it, reviews, approves and publishes it; the account manager then sees the award."""

import pytest

from allocation.models import AllocationLine, AllocationRun, RunStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.keep_demo_allocation,
]

PHONE = {"width": 414, "height": 896}


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "demo1234")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_supervisor_runs_reviews_approves_publishes_and_manager_sees_it(
    live_server, page, demo, tmp_path
):
    page.set_viewport_size(PHONE)
    # The demo has points for the cycle before (from its orders) and five supplies.
    log_in(page, live_server.url, "supervisor")
    page.goto(f"{live_server.url}/allocation/")
    assert page.locator("#supplies li").count() == 5
    page.click("text=新增货源")
    page.select_option("#id_brand", label="玉溪(软)")
    page.fill("#id_quantity", "300")
    for star, cap in ((5, 8), (4, 5), (3, 3), (2, 2), (1, 1)):
        page.fill(f"#id_cap_star_{star}", str(cap))
    page.click("#supply-form button[type=submit]")
    page.wait_for_selector("#run-form")
    assert "货源已保存" in page.locator(".messages").inner_text()

    page.click("#run-form button[type=submit]")  # computed by the eager task on commit
    page.wait_for_selector("#totals")
    run = AllocationRun.objects.get(supply__brand__name="玉溪(软)")
    assert run.status == RunStatus.DRAFT
    totals = page.locator("#totals tbody td").all_inner_texts()
    assert totals[:3] == ["300", str(run.allocated), str(run.unallocated)]
    assert "没有积分更高、上限相同的客户分得少于积分更低的客户" in page.inner_text("#fairness")
    assert page.locator("#line-cards li").count() == 50
    assert page.locator("canvas#chart-star").is_visible()
    assert fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    page.click("#approve")
    page.wait_for_selector("#publish")
    assert "已审批" in page.locator("h1 .badge").inner_text()
    page.click("#publish")
    page.wait_for_selector("text=第 1 批次已公布")
    run.refresh_from_db()
    assert (run.status, run.published_by) == (RunStatus.PUBLISHED, demo["supervisor"])
    events = page.locator("#events li").all_inner_texts()
    assert len(events) == 5
    assert "公布" in events[-1]

    page.click("header button[type=submit]")  # log out
    log_in(page, live_server.url, "manager")
    page.click("header >> text=分配结果")
    page.wait_for_selector("#awards")
    awarded = AllocationLine.objects.filter(run=run, award__gt=0).select_related(
        "retailer", "route"
    )
    # The page lists awards in route and stop order (with the demo's 中华 run beside ours).
    top = min(awarded, key=lambda line: (line.route.code, line.retailer.stop_order, line.pk))
    card = page.locator("#awards li", has_text=top.retailer.name).filter(has_text="玉溪(软)")
    assert f"{top.award} 条" in card.first.inner_text()
    assert fits_the_phone(page)
    card.first.locator("a").click()
    page.wait_for_selector("#statement")
    statement = page.inner_text("#statement")
    assert "紧俏卷烟分配告知书" in statement
    assert top.retailer.licence_number in statement
    assert "玉溪(软)" in statement
    assert fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "statement.png"), full_page=True)
