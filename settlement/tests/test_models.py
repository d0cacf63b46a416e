import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.urls import reverse

from settlement.models import SettlementAccount, mask_account_number

pytestmark = pytest.mark.django_db


def test_account_number_is_encrypted_at_rest_and_masked(demo):
    account = SettlementAccount.objects.order_by("pk").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_number FROM settlement_settlementaccount WHERE id = %s", [account.pk]
        )
        stored = cursor.fetchone()[0]
    assert account.account_number not in stored
    assert len(account.account_number) == 19
    assert account.masked_account_number == f"**** **** {account.account_number[-4:]}"
    assert account.account_number not in str(account)
    assert account.account_number not in repr(account)
    assert mask_account_number("") == ""


def test_admin_list_and_form_never_show_the_number(client, demo):
    account = SettlementAccount.objects.order_by("pk").first()
    client.force_login(demo["admin"])
    body = client.get(reverse("admin:settlement_settlementaccount_changelist")).content.decode()
    assert account.masked_account_number in body
    assert account.account_number not in body
    body = client.get(
        reverse("admin:settlement_settlementaccount_change", args=[account.pk])
    ).content.decode()
    assert account.account_number not in body
    assert site.is_registered(SettlementAccount)


def test_admin_changes_the_number_write_only(client, demo):
    account = SettlementAccount.objects.order_by("pk").first()
    client.force_login(demo["admin"])
    url = reverse("admin:settlement_settlementaccount_change", args=[account.pk])
    data = {
        "retailer": account.retailer_id,
        "reference": account.reference,
        "bank_name": account.bank_name,
        "account_holder": account.account_holder,
        "status": account.status,
        "balance": "12.00",
        "balance_as_of_0": "",
        "balance_as_of_1": "",
        "opened_on": "",
        "new_account_number": "12ab",
    }
    response = client.post(url, data)
    assert response.status_code == 200  # re-shown with the error
    account.refresh_from_db()
    assert account.balance != 12
    data["new_account_number"] = "6222000011112222"
    assert client.post(url, data).status_code == 302
    account.refresh_from_db()
    assert account.account_number == "6222000011112222"
    assert account.account_last4 == "2222"
