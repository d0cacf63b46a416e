"""Revealing a full account number: supervisors and administrators only, once per POST,
audited, and never in logs, task arguments or exports (SECURITY.md)."""

from __future__ import annotations

import json
import logging

import pytest
from celery.app.task import Task
from django.urls import reverse

from accounts.tests.factories import SupervisorFactory
from config.api.testing import api_token, bearer
from config.models import AuditAction, AuditEntry
from settlement import services
from settlement.models import SettlementAccount
from territory.models import District

pytestmark = pytest.mark.django_db

NUMBER = "6222029876543210987"


@pytest.fixture
def account(demo):
    """A city account whose number the test knows."""
    account = SettlementAccount.objects.filter(retailer__route__district__code="YC-CQ").first()
    services.settlement_account_save(account=account, by=demo["admin"], new_number=NUMBER)
    return account


@pytest.fixture
def town_supervisor(demo):
    other = SupervisorFactory()
    District.objects.filter(code="YC-XZ").update(supervisor=other)
    return other


def reveal_url(account) -> str:
    return reverse("settlement:account-reveal", args=[account.pk])


def api_url(account) -> str:
    return reverse("api:settlement-account-reveal", args=[account.pk])


def reveals() -> int:
    return AuditEntry.objects.filter(action=AuditAction.ACCOUNT_REVEALED).count()


def test_a_supervisor_sees_the_number_once_and_it_is_audited(client, demo, account):
    client.force_login(demo["supervisor"])
    detail = client.get(reverse("retailers:detail", args=[account.retailer_id])).content.decode()
    assert reveal_url(account) in detail  # the button
    assert NUMBER not in detail  # masked on the page itself
    response = client.post(reveal_url(account), {"reason": "bank called"}, REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 200
    assert NUMBER in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.ACCOUNT_REVEALED)
    assert entry.actor == demo["supervisor"]
    assert entry.target_id == str(account.pk)
    assert entry.reason == "bank called"
    assert entry.ip == "10.9.8.7"
    assert entry.district_id == account.retailer.route.district_id
    assert NUMBER not in json.dumps([entry.before, entry.after, entry.target_label])


def test_get_never_reveals(client, demo, account):
    client.force_login(demo["supervisor"])
    assert client.get(reveal_url(account)).status_code == 405
    assert reveals() == 0


@pytest.mark.parametrize("name", ["manager", "manager2"])
def test_managers_are_refused(client, demo, account, name):
    client.force_login(demo[name])
    response = client.post(reveal_url(account))
    assert response.status_code == 403
    assert NUMBER not in response.content.decode()
    assert reveals() == 0


def test_anonymous_is_sent_to_login(client, account):
    response = client.post(reveal_url(account))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
    assert reveals() == 0


def test_another_districts_supervisor_gets_a_404(client, account, town_supervisor):
    client.force_login(town_supervisor)
    assert client.post(reveal_url(account)).status_code == 404
    assert reveals() == 0


def test_an_overlong_reason_is_a_400_and_reveals_nothing(client, demo, account):
    client.force_login(demo["supervisor"])
    response = client.post(reveal_url(account), {"reason": "x" * 201})
    assert response.status_code == 400
    assert NUMBER not in response.content.decode()
    assert reveals() == 0


def test_the_api_reveals_to_a_supervisor_token(client, demo, account):
    token = api_token(demo["supervisor"])
    response = client.post(
        api_url(account), {"reason": "sync"}, content_type="application/json", **bearer(token)
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": account.pk,
        "reference": account.reference,
        "account_number": NUMBER,
    }
    assert response["Cache-Control"] == "no-store"
    assert AuditEntry.objects.get(action=AuditAction.ACCOUNT_REVEALED).reason == "sync"


def test_the_api_refuses_read_only_tokens_managers_and_other_districts(
    client, demo, account, town_supervisor
):
    cases = [
        (api_token(demo["supervisor"], read_only=True), 403),
        (api_token(demo["manager"]), 403),
        (api_token(demo["manager2"]), 403),
        (api_token(town_supervisor), 404),
    ]
    for token, expected in cases:
        response = client.post(
            api_url(account), {}, content_type="application/json", **bearer(token)
        )
        assert response.status_code == expected
        assert NUMBER not in response.content.decode()
    assert client.post(api_url(account)).status_code == 401
    assert reveals() == 0


def test_the_number_is_never_logged_nor_sent_to_a_task(client, demo, account, caplog, monkeypatch):
    """Everything a supervisor does with the account, while every log record and every task
    message is captured: the plain number appears in none of them."""
    sent = []
    monkeypatch.setattr(Task, "apply_async", lambda self, *a, **k: sent.append((self.name, a, k)))
    caplog.set_level(logging.DEBUG)
    client.force_login(demo["supervisor"])
    client.post(reveal_url(account), {"reason": "check"})
    token = api_token(demo["supervisor"])
    client.post(api_url(account), {}, content_type="application/json", **bearer(token))
    client.post(
        reverse("api:balance-push"),
        {
            "balances": [
                {"reference": account.reference, "balance": "1.00", "as_of": "2030-01-01T00:00:00Z"}
            ]
        },
        content_type="application/json",
        **bearer(token),
    )
    assert reveals() == 2
    logged = [r.getMessage() + json.dumps(r.__dict__, default=str) for r in caplog.records]
    assert any("audit_account_revealed" in line for line in logged)
    assert not [line for line in logged if NUMBER in line]
    assert NUMBER not in repr(sent)


def test_the_number_is_in_no_export(client, demo, account):
    token = api_token(demo["supervisor"])
    for fmt in ("csv", "ndjson"):
        response = client.get(reverse("api:retailer-export"), {"format": fmt}, **bearer(token))
        assert response.status_code == 200
        body = b"".join(response.streaming_content).decode()
        assert account.reference in body or account.account_last4 in body
        assert NUMBER not in body


def test_the_api_refuses_a_reason_that_is_not_text(client, demo, account):
    token = api_token(demo["supervisor"])
    response = client.post(
        api_url(account), {"reason": 0}, content_type="application/json", **bearer(token)
    )
    assert response.status_code == 400
    assert NUMBER not in response.content.decode()
    assert reveals() == 0
