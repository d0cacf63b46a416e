import pytest
from django.urls import reverse
from django.utils import timezone

from config.dates import quarter_start
from retailers.models import Retailer

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def city(code="A"):
    return Retailer.objects.filter(route__district__code="YC-CQ", route__code=code)


def test_pages_require_login(client, demo):
    shop = city().first()
    for url in (
        reverse("retailers:list"),
        reverse("retailers:detail", args=[shop.pk]),
        reverse("retailers:district-summary"),
        reverse("home"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_with_wrong_password_shows_a_message(client, demo):
    response = client.post(reverse("login"), {"username": "manager", "password": "nope"})
    assert response.status_code == 200
    assert "Wrong username or password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_then_home_sends_each_role_to_its_page(client, demo):
    response = client.post(reverse("login"), {"username": "supervisor", "password": "demo1234"})
    assert response.status_code == 302
    assert client.get(reverse("home"))["Location"] == reverse("retailers:district-summary")
    login(client, demo["manager"])
    assert client.get(reverse("home"))["Location"] == reverse("visits:today")


def test_district_summary_page_shows_the_source_figures(client, demo):
    login(client, demo["supervisor"])
    response = client.get(reverse("retailers:district-summary"))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert [row.retailers for row in summary.rows] == [59, 78, 59, 57, 55]
    assert summary.total.retailers == 308
    body = response.content.decode()
    assert "308" in body
    assert "90.3%" in body
    day = quarter_start(timezone.localdate()).isoformat()
    response = client.get(reverse("retailers:district-summary"), {"as_of": day})
    assert response.context["summary"].total.stars == [18, 100, 142, 42, 7, 1]


@pytest.mark.parametrize(
    "params",
    [
        {"as_of": "not-a-date"},
        {"as_of": "1999-12-31"},
        {"as_of": "2999-01-01"},
        {"district": "99999"},
        {"district": "abc"},
    ],
)
def test_district_summary_bad_input_is_a_400_with_a_message(client, demo, params):
    login(client, demo["supervisor"])
    response = client.get(reverse("retailers:district-summary"), params)
    assert response.status_code == 400
    assert "summary" not in response.context
    assert 'class="errorlist"' in response.content.decode()


def test_supervisor_cannot_pick_another_district(client, demo):
    from territory.models import District

    login(client, demo["supervisor"])
    town = District.objects.get(code="YC-XZ")
    response = client.get(reverse("retailers:district-summary"), {"district": town.pk})
    assert response.status_code == 400


def test_retailer_list_filters_and_paginates(client, demo):
    login(client, demo["manager"])
    response = client.get(reverse("retailers:list"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 310
    route_b = city("B").first().route
    response = client.get(reverse("retailers:list"), {"route": route_b.pk, "status": "active"})
    assert response.context["page"].paginator.count == 78
    response = client.get(reverse("retailers:list"), {"star": "5"})
    assert {r.star for r in response.context["page"]} == {5}
    response = client.get(reverse("retailers:list"), {"star": "unrated"})
    assert response.context["page"].paginator.count == 1
    response = client.get(reverse("retailers:list"), {"business_type": "catering"})
    assert {r.business_type for r in response.context["page"]} == {"catering"}
    shop = city("C").last()
    response = client.get(reverse("retailers:list"), {"q": shop.licence_number})
    assert list(response.context["page"]) == [shop]
    response = client.get(reverse("retailers:list"), {"page": "999"})
    assert response.status_code == 200
    assert response.context["page"].number == response.context["page"].paginator.num_pages


@pytest.mark.parametrize(
    "params",
    [
        {"star": "9"},
        {"status": "bogus"},
        {"route": "abc"},
        {"business_type": "bank"},
        {"q": "x" * 101},
        {"q": "nul\x00byte"},
    ],
)
def test_retailer_list_bad_filters_are_400_with_a_message(client, demo, params):
    login(client, demo["manager"])
    response = client.get(reverse("retailers:list"), params)
    assert response.status_code == 400
    assert response.context["page"] is None
    assert 'class="errorlist"' in response.content.decode()


def test_manager2_cannot_see_the_city_district(client, demo):
    login(client, demo["manager2"])
    response = client.get(reverse("retailers:list"))
    assert response.context["page"].paginator.count == 24
    assert all(r.route.district.code == "YC-XZ" for r in response.context["page"])
    for shop in city("A")[:3]:
        assert client.get(reverse("retailers:detail", args=[shop.pk])).status_code == 404
    route_a = city("A").first().route
    assert client.get(reverse("retailers:list"), {"route": route_a.pk}).status_code == 400
    response = client.get(reverse("retailers:district-summary"))
    assert response.context["summary"].district.code == "YC-XZ"


def test_retailer_detail_shows_fields_and_history_but_never_the_account_number(client, demo):
    shop = city("A").filter(payment_method="e_settlement").first()
    account = shop.settlement_account
    login(client, demo["supervisor"])
    response = client.get(reverse("retailers:detail", args=[shop.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert shop.licence_number in body
    assert shop.name in body
    assert f"{account.bank_name} {account.masked_account_number}" in body
    assert account.account_number not in body
    assert "Star history" in body


def test_account_managers_do_not_see_settlement_accounts(client, demo):
    shop = city("A").filter(payment_method="e_settlement").first()
    account = shop.settlement_account
    login(client, demo["manager"])
    response = client.get(reverse("retailers:detail", args=[shop.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert shop.licence_number in body
    assert "Settlement account" not in body
    assert account.masked_account_number not in body
    assert account.account_number not in body
    assert "E-settlement" in body  # the payment method itself is not settlement data


def test_missing_retailer_is_404(client, demo):
    login(client, demo["admin"])
    assert client.get(reverse("retailers:detail", args=[10**9])).status_code == 404


def test_pages_are_translated_into_chinese(client, demo):
    login(client, demo["supervisor"])
    response = client.get(reverse("retailers:district-summary"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = response.content.decode()
    assert "辖区汇总" in body
    assert "电子结算" in body
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get(
        reverse("retailers:district-summary"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "District summary" in body
