import pytest
from django.urls import reverse

from settlement.models import Debit, Order, SettlementAccount

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["order", "debit", "balancereminder", "rebate", "cultivationtarget"]
)
def test_the_admin_shows_settlement_records_read_only(client, demo, model):
    client.force_login(demo["admin"])
    response = client.get(reverse(f"admin:settlement_{model}_changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    numbers = SettlementAccount.objects.values_list("account_number", flat=True)[:50]
    assert not any(n in body for n in numbers)
    assert client.get(reverse(f"admin:settlement_{model}_add")).status_code == 403


def test_an_order_and_its_debit_open_without_edit_rights(client, demo):
    client.force_login(demo["admin"])
    order = Order.objects.filter(debits__isnull=False).first()
    response = client.get(reverse("admin:settlement_order_change", args=[order.pk]))
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    debit = Debit.objects.filter(order=order).first()
    before = debit.status
    client.post(reverse("admin:settlement_debit_change", args=[debit.pk]), {"status": "failed"})
    debit.refresh_from_db()
    assert debit.status == before
