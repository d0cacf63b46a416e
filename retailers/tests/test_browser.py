"""The roster import and the re-rating review in a real headless Chromium at phone size."""

from __future__ import annotations

import pytest

from retailers.models import Retailer, StarChange, StarSource

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


def test_supervisor_previews_then_applies_a_roster_on_a_phone(live_server, phone, demo, tmp_path):
    known = Retailer.objects.filter(route__district__code="YC-CQ", route__code="B").first()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "许可证号,店名,辖区代码,线路代码,业态,电话,星级\n"
        f"{known.licence_number},{known.name},YC-CQ,B,{known.business_type},13900000001,\n"
        "611425100001,手机导入便利店,YC-CQ,A,convenience,13800000000,2\n",
        encoding="utf-8",
    )
    log_in(phone, live_server.url, "supervisor")
    phone.goto(f"{live_server.url}/retailers/roster/")
    assert fits(phone)
    phone.set_input_files("#id_file", str(roster))
    phone.click("form[enctype] button[type=submit]")
    phone.wait_for_selector("#roster-creates")
    assert "手机导入便利店" in phone.inner_text("#roster-creates")
    assert "13900000001" in phone.inner_text("#roster-updates")
    assert fits(phone)
    assert not Retailer.objects.filter(licence_number="611425100001").exists()
    phone.screenshot(path=str(tmp_path / "preview.png"), full_page=True)
    phone.click("#roster-apply")
    phone.wait_for_url(f"{live_server.url}/retailers/")
    new = Retailer.objects.get(licence_number="611425100001")
    assert (new.route.code, new.star) == ("A", 2)
    assert StarChange.objects.get(retailer=new).source == StarSource.JOINED
    known.refresh_from_db()
    assert known.phone == "13900000001"
    assert fits(phone)


def test_a_bad_roster_shows_row_errors_on_a_phone(live_server, phone, demo, tmp_path):
    known = Retailer.objects.filter(route__district__code="YC-CQ", star=3).first()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "licence_number,name,district,route,business_type,star\n"
        f"{known.licence_number},{known.name},YC-CQ,{known.route.code},{known.business_type},5\n",
        encoding="utf-8",
    )
    log_in(phone, live_server.url, "supervisor")
    phone.goto(f"{live_server.url}/retailers/roster/")
    phone.set_input_files("#id_file", str(roster))
    phone.click("form[enctype] button[type=submit]")
    phone.wait_for_selector("#import-errors")
    assert "星级" in phone.inner_text("#import-errors") or "star" in phone.inner_text(
        "#import-errors"
    )
    assert phone.locator("#roster-apply").count() == 0
    assert fits(phone)
    known.refresh_from_db()
    assert known.star == 3
