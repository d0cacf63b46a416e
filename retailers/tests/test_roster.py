"""Roster import (DESIGN §7, issue 8): the file checks, the dry run, all-or-nothing apply."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from config import imports
from config.errors import ApplicationError
from retailers import services
from retailers.models import Retailer, RosterImport, RosterImportStatus, StarChange, StarSource
from retailers.tests.factories import RetailerFactory
from retailers.tests.rating_world import rating_world
from territory.tests.factories import RouteFactory

pytestmark = pytest.mark.django_db

HEADER = "licence_number,name,district,route,business_type,phone,star"


@pytest.fixture
def world():
    w = rating_world(thresholds=False)
    w.known = RetailerFactory(route=w.r1, licence_number="511425100001", phone="111", star=4)
    w.same = RetailerFactory(route=w.r1, licence_number="511425100002", phone="222", star=2)
    return w


def csv_file(world, *rows: str, header: str = HEADER) -> bytes:
    text = "\n".join([header, *rows]) + "\n"
    return text.replace("{d1}", world.d1.code).replace("{d2}", world.d2.code).encode()


def good_rows(world) -> bytes:
    return csv_file(
        world,
        "511425100001,{name},{d1},A,grocery,999,".replace("{name}", world.known.name),
        f"511425100002,{world.same.name},{{d1}},A,grocery,222,2",
        "511425100003,新开便利店,{d1},A,便利店,13800000000,3",
        "511425100004,Corner shop,{d1},A,convenience,,",
    )


def check(world, data: bytes, name: str = "roster.csv", by=None, content_type: str = "text/csv"):
    return services.roster_check(
        data=data, file_name=name, by=by or world.boss1, content_type=content_type
    )


def test_preview_sorts_rows_into_creates_updates_unchanged(world):
    result = check(world, good_rows(world))
    assert result.errors == []
    assert [(c.row, c.retailer.licence_number, c.retailer.star) for c in result.creates] == [
        (4, "511425100003", 3),
        (5, "511425100004", None),
    ]
    assert result.creates[0].retailer.business_type == "convenience"
    assert [(u.row, u.changes) for u in result.updates] == [(2, {"phone": ("111", "999")})]
    assert result.unchanged == [3]
    assert Retailer.objects.filter(licence_number__in=["511425100003", "511425100004"]).count() == 0


def test_apply_writes_everything_once_with_history(world, caplog):
    data = good_rows(world)
    with caplog.at_level(logging.INFO, logger="imports"):
        _result, upload = services.roster_preview(data=data, file_name="r.csv", by=world.boss1)
        services.roster_apply(upload=upload, digest=upload.digest, by=world.boss1)
    assert [r.getMessage() for r in caplog.records] == ["import_previewed", "import_applied"]
    world.known.refresh_from_db()
    assert (world.known.phone, world.known.star) == ("999", 4)
    new = Retailer.objects.get(licence_number="511425100003")
    assert (new.route, new.star, new.name) == (world.r1, 3, "新开便利店")
    joined = StarChange.objects.get(retailer=new)
    assert (joined.star, joined.source, joined.changed_by) == (3, StarSource.JOINED, world.boss1)
    assert new.status_history.count() == 1
    upload.refresh_from_db()
    assert upload.status == RosterImportStatus.APPLIED
    with pytest.raises(ApplicationError, match="applied already"):
        services.roster_apply(upload=upload, digest=upload.digest, by=world.boss1)
    assert Retailer.objects.filter(licence_number="511425100003").count() == 1


def test_row_errors_name_the_row_and_field(world):
    RetailerFactory(route=world.r2, licence_number="511425200001")
    data = csv_file(
        world,
        "511425100001,x,{d1},A,grocery,,5",  # star change: locked
        "511425100009,y,{d2},A,grocery,,",  # another supervisor's district
        "511425100010,z,{d1},Z,grocery,,",  # no such route
        "511425200001,w,{d1},A,grocery,,",  # a licence of another district
        "41,v,{d1},A,shop,,9",  # bad licence, type and star
        "511425100011,=HYPERLINK(1),{d1},A,grocery,,",  # formula
        "511425100012,u,{d1},A,grocery,,",
        "511425100012,u,{d1},A,grocery,,",  # repeated licence
        ",,{d1},A,grocery,,",  # required cells empty
    )
    result = check(world, data)
    found = {(e.row, e.field) for e in result.errors}
    assert found == {
        (2, "star"),
        (3, "district"),
        (4, "route"),
        (5, "licence_number"),
        (6, "licence_number"),
        (6, "business_type"),
        (6, "star"),
        (7, "name"),
        (9, "licence_number"),
        (10, "licence_number"),
        (10, "name"),
    }
    locked = next(e for e in result.errors if e.row == 2)
    assert "locked between re-ratings" in locked.message
    assert str(locked).startswith("Row 2, star:")
    # Nothing is kept for applying when there are errors.
    assert services.roster_preview(data=data, file_name="r.csv", by=world.boss1)[1] is None
    assert RosterImport.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        (b"x" * 2048, "roster.csv", "text/csv", "too large"),
        (b"a,b\n1,2\n", "roster.txt", "text/plain", ".csv or .xlsx"),
        (b"a,b\n1,2\n", "roster.xlsx", "", "does not match its extension"),
        (b"PK\x03\x04junk", "roster.csv", "text/csv", "does not match its extension"),
        (b"a,b\n1,2\n", "roster.csv", "image/png", "does not match its extension"),
        (b"PK\x03\x04junk", "roster.xlsx", "", "not a valid .xlsx"),
        (b"   \n", "roster.csv", "text/csv", "empty"),
        (b"licence_number,name\n", "roster.csv", "text/csv", "no rows"),
        (b"\xff\xfe\xfa\xfb\xfc\n", "roster.csv", "text/csv", "neither UTF-8"),
    ],
)
def test_files_refused_as_a_whole(world, settings, data, name, content_type, message):
    settings.ROSTER_IMPORT_MAX_BYTES = 1024
    with pytest.raises(ApplicationError, match=message):
        check(world, data, name=name, content_type=content_type)


def test_header_and_row_limits(world, settings):
    with pytest.raises(ApplicationError, match="missing columns: district, route"):
        check(world, b"licence_number,name,business_type,colour\n1,2,3,4\n")
    settings.ROSTER_IMPORT_MAX_ROWS = 2
    with pytest.raises(ApplicationError, match="more than 2 rows"):
        check(world, csv_file(world, *["511425100005,a,{d1},A,grocery,,"] * 3))


def test_chinese_headers_gb18030_and_nul_bytes(world):
    text = "许可证号,店名,辖区代码,线路代码,业态\n511425100007,新\x00店,{d},A,食杂店\n"
    data = text.replace("{d}", world.d1.code).encode("gb18030")
    result = check(world, data)
    assert result.errors == []
    assert result.creates[0].retailer.name == "新店"
    assert result.creates[0].retailer.business_type == "grocery"


def xlsx(rows: list[list], formula_at: tuple[int, int] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if formula_at:
        sheet.cell(*formula_at).value = "=1+1"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_numbers_dates_and_formulas(world):
    import datetime as dt

    header = ["licence_number", "name", "district", "route", "business_type", "opened_on"]
    rows = [header, [511425100008, "表格店", world.d1.code, "A", "grocery", dt.date(2024, 3, 1)]]
    result = check(world, xlsx(rows), name="roster.xlsx", content_type="")
    assert result.errors == []
    assert result.creates[0].retailer.licence_number == "511425100008"
    assert result.creates[0].retailer.opened_on == dt.date(2024, 3, 1)
    bad = check(world, xlsx(rows, formula_at=(2, 2)), name="roster.xlsx", content_type="")
    assert [(e.row, e.field) for e in bad.errors] == [(2, "name")]
    assert "formulas" in bad.errors[0].message


def test_apply_rechecks_the_stored_file(world):
    _result, upload = services.roster_preview(
        data=good_rows(world), file_name="r.csv", by=world.boss1
    )
    # Another upload creates one of the licences in the meantime, in another district.
    RetailerFactory(route=RouteFactory(district=world.d2), licence_number="511425100003")
    with pytest.raises(ApplicationError) as err:
        services.roster_apply(upload=upload, digest=upload.digest, by=world.boss1)
    assert any("another district" in e for e in err.value.extra["file"])
    world.known.refresh_from_db()
    assert world.known.phone == "111"
    assert not Retailer.objects.filter(licence_number="511425100004").exists()
    upload.refresh_from_db()
    assert upload.status == RosterImportStatus.PREVIEWED


def test_apply_refuses_another_digest_or_another_user(world):
    _result, upload = services.roster_preview(
        data=good_rows(world), file_name="r.csv", by=world.boss1
    )
    with pytest.raises(ApplicationError, match="not the file that was previewed"):
        services.roster_apply(upload=upload, digest="0" * 64, by=world.boss1)
    with pytest.raises(ApplicationError):
        services.roster_apply(upload=upload, digest=upload.digest, by=world.boss2)
    assert not Retailer.objects.filter(licence_number="511425100003").exists()


# --- pages ----------------------------------------------------------------------------------


def test_pages_preview_and_apply(world, client):
    client.force_login(world.boss1)
    page = client.get("/retailers/roster/")
    assert page.status_code == 200
    assert "licence_number" in page.content.decode()
    upload = SimpleUploadedFile("roster.csv", good_rows(world), content_type="text/csv")
    preview = client.post("/retailers/roster/", {"file": upload})
    assert preview.status_code == 200
    stored = RosterImport.objects.get()
    assert stored.digest in preview.content.decode()
    assert client.post(f"/retailers/roster/{stored.pk}/apply/", {"digest": "x"}).status_code == 302
    assert not Retailer.objects.filter(licence_number="511425100003").exists()
    client.force_login(world.boss2)
    assert client.post(f"/retailers/roster/{stored.pk}/apply/").status_code == 404
    client.force_login(world.boss1)
    client.post(f"/retailers/roster/{stored.pk}/apply/", {"digest": stored.digest})
    assert Retailer.objects.filter(licence_number="511425100003").exists()


def test_pages_bad_files(world, client, settings):
    client.force_login(world.boss1)
    bad = SimpleUploadedFile("roster.csv", csv_file(world, "1,x,{d2},A,grocery,,"))
    response = client.post("/retailers/roster/", {"file": bad})
    assert response.status_code == 400
    assert "Row 2, licence_number" in response.content.decode()
    settings.ROSTER_IMPORT_MAX_BYTES = 10
    big = SimpleUploadedFile("roster.csv", good_rows(world))
    response = client.post("/retailers/roster/", {"file": big})
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert client.post("/retailers/roster/", {}).status_code == 400
    assert RosterImport.objects.count() == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_read_back(world, client, fmt):
    client.force_login(world.boss1)
    response = client.get(f"/retailers/roster/template.{fmt}")
    assert response.status_code == 200
    table = imports.read_table(response.content, file_name=f"t.{fmt}", max_bytes=10**6, max_rows=10)
    assert table.header[:4] == ["licence_number", "name", "district", "route"]
    assert table.rows[0][1][2:4] == [world.d1.code, "A"]
    assert client.get("/retailers/roster/template.pdf").status_code == 404
