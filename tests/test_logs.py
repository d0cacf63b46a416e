"""Structured logs (config/logs.py): JSON lines in UTC, one logger per concern, secrets redacted."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings

from config.logs import (
    JsonFormatter,
    PlainFormatter,
    RedactingFilter,
    log_event,
    log_import,
    mask_digits,
    redact,
)


@pytest.fixture
def json_lines():
    """Everything logged while the test runs, as the production handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def lines(logger: str | None = None) -> list[dict]:
        found = [json.loads(line) for line in stream.getvalue().splitlines()]
        return [line for line in found if logger is None or line["logger"] == logger]

    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_an_event_is_one_json_line_with_a_utc_time(json_lines):
    log_event(logging.getLogger("audit.auth"), "login_failed", username="张三", ip="10.0.0.1")
    [line] = json_lines("audit.auth")
    assert set(line) == {"time", "level", "logger", "message", "event", "username", "ip"}
    assert line["level"] == "INFO"
    assert (line["message"], line["event"]) == ("login_failed", "login_failed")
    assert (line["username"], line["ip"]) == ("张三", "10.0.0.1")
    assert line["time"].endswith("Z")
    moment = dt.datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert moment.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.UTC) - moment).total_seconds()) < 5


def test_fields_named_like_record_attributes_are_kept_under_another_name(json_lines):
    log_event(logging.getLogger("jobs"), "x", name="n", module="m", args="a")
    [line] = json_lines("jobs")
    assert (line["name_"], line["module_"], line["args_"]) == ("n", "m", "a")


def test_secrets_are_redacted_by_key_at_any_depth():
    data = {
        "password": "hunter2",
        "new_password1": "x",
        "token": "abc.def",
        "Authorization": "Bearer abc",
        "account_number": "6222021234567890",
        "fields": {"api_key": "k", "rows": [{"session_key": "s", "licence": "411425100001"}]},
        "key_id": "7bcb4feaec34",
        "passed": 3,
    }
    assert redact(data) == {
        "password": "[REDACTED]",
        "new_password1": "[REDACTED]",
        "token": "[REDACTED]",
        "Authorization": "[REDACTED]",
        "account_number": "[REDACTED]",
        "fields": {
            "api_key": "[REDACTED]",
            "rows": [{"session_key": "[REDACTED]", "licence": "411425100001"}],
        },
        "key_id": "7bcb4feaec34",
        "passed": 3,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 6222021234567890 declined", "card ****7890 declined"),
        ("account 6222 0212 3456 7890 1", "account ****8901"),
        ("19 digits 6217000010012345678", "19 digits ****5678"),
        # A licence number (12 digits), a phone number (11), an amount and a UUID stay.
        ("licence 411425100001", "licence 411425100001"),
        ("phone 18634858861", "phone 18634858861"),
        ("balance 1234567.89", "balance 1234567.89"),
        ("task 12345678-1234-1234-1234-123456789012", "task 12345678-1234-1234-1234-123456789012"),
    ],
)
def test_long_digit_runs_keep_only_their_last_four(text, expected):
    assert mask_digits(text) == expected


def test_the_filter_redacts_messages_arguments_extras_and_tracebacks(json_lines):
    logger = logging.getLogger("imports")
    logger.info("row %s: account %s", 3, "6222021234567890", extra={"password": "pw"})
    try:
        raise ValueError("bad account 6222021234567890")
    except ValueError:
        logger.exception("failed")
    first, second = json_lines("imports")
    assert first["message"] == "row 3: account ****7890"
    assert first["password"] == "[REDACTED]"
    assert "6222021234567890" not in second["exc_info"]
    assert "****7890" in second["exc_info"]


def test_the_configured_handler_redacts():
    """The console handler of ``settings.LOGGING`` carries the filter (remove it: this fails)."""
    console = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    assert any(isinstance(f, RedactingFilter) for f in console.filters)
    record = logging.makeLogRecord(
        {"name": "audit.auth", "msg": "card %s", "args": ("6222021234567890",), "token": "t"}
    )
    assert console.filter(record)
    line = console.format(record)
    assert "6222021234567890" not in line
    assert "token=[REDACTED]" in line


def test_plain_lines_show_the_fields():
    record = logging.makeLogRecord(
        {
            "name": "jobs",
            "levelname": "INFO",
            "msg": "task_started",
            "event": "task_started",
            "task_name": "x.y",
            "created": 0,
        }
    )
    assert PlainFormatter().format(record) == (
        "1970-01-01T00:00:00.000Z INFO jobs task_started task_name=x.y"
    )


def run_production(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LOG_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "k3Jx9-" * 10,
            "FIELD_ENCRYPTION_KEY": "a" * 43 + "=",
            "ALLOWED_HOSTS": "example.org",
            **env,
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_writes_json_lines_in_utc_with_secrets_redacted():
    code = (
        "import django, logging; django.setup(); "
        "from config.logs import log_event; "
        "log_event(logging.getLogger('audit.auth'), 'login_failed', username='m', "
        "password='hunter2', note='acct 6222021234567890')"
    )
    result = run_production(code)
    assert result.returncode == 0, result.stderr
    [line] = [json.loads(text) for text in result.stderr.splitlines() if text.startswith("{")]
    assert line["logger"] == "audit.auth"
    assert line["event"] == "login_failed"
    assert line["time"].endswith("Z")
    assert line["password"] == "[REDACTED]"
    assert line["note"] == "acct ****7890"
    assert "hunter2" not in result.stderr


def test_log_format_plain_gives_readable_lines_in_production():
    code = "import django, logging; django.setup(); logging.getLogger('jobs').warning('hello')"
    result = run_production(code, LOG_FORMAT="plain")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("WARNING jobs hello")


def test_log_import_writes_one_event(json_lines, demo):
    log_import(kind="orders", outcome="applied", rows=12, user=demo["admin"], source="a.csv")
    log_import(kind="orders", outcome="rejected", errors=3, source="b.csv")
    applied, rejected = json_lines("imports")
    assert {k: v for k, v in applied.items() if k != "time"} == {
        "level": "INFO",
        "logger": "imports",
        "message": "import_applied",
        "event": "import_applied",
        "kind": "orders",
        "outcome": "applied",
        "rows": 12,
        "errors": 0,
        "user_id": demo["admin"].pk,
        "source": "a.csv",
    }
    assert (rejected["level"], rejected["event"], rejected["errors"]) == (
        "WARNING",
        "import_rejected",
        3,
    )


@pytest.mark.django_db
def test_settlement_imports_are_logged(json_lines, demo):
    from settlement import services

    batch = services.import_batch_create(
        kind="balances",
        file_name="bank.csv",
        data=b"reference,balance,as_of\n",
        by=demo["supervisor"],
    )
    [previewed] = json_lines("imports")
    assert (previewed["event"], previewed["kind"], previewed["source"]) == (
        "import_previewed",
        "balances",
        "bank.csv",
    )
    assert previewed["user_id"] == demo["supervisor"].pk
    assert batch.pk is not None


@pytest.mark.django_db
def test_refusals_to_signed_in_users_are_logged(client, demo, json_lines):
    client.force_login(demo["manager"])
    assert client.get("/settlement/balances/import/").status_code == 403
    assert client.get("/retailers/999999/").status_code == 404
    client.logout()
    assert client.get("/no-such-page/").status_code == 404  # anonymous: not logged
    denied, missing = json_lines("audit.authz")
    assert {k: v for k, v in denied.items() if k != "time"} == {
        "level": "WARNING",
        "logger": "audit.authz",
        "message": "permission_denied",
        "event": "permission_denied",
        "status": 403,
        "method": "GET",
        "path": "/settlement/balances/import/",
        "user_id": demo["manager"].pk,
        "ip": "127.0.0.1",
    }
    assert (missing["event"], missing["status"], missing["path"]) == (
        "not_found",
        404,
        "/retailers/999999/",
    )


@pytest.mark.django_db
def test_logins_logouts_and_tokens_are_logged_without_secrets(client, demo, json_lines):
    client.post("/accounts/login/", {"username": "manager", "password": "demo1234"})
    client.post("/accounts/logout/")
    response = client.post("/api/v1/auth/token/", {"username": "manager", "password": "demo1234"})
    token = response.json()["token"]
    client.delete("/api/v1/auth/token/", HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/v1/routes/", HTTP_AUTHORIZATION=f"Bearer {token}")
    lines = json_lines("audit.auth")
    assert [line["event"] for line in lines] == [
        "login_succeeded",
        "logout",
        "token_created",
        "token_revoked",
        "token_refused",
    ]
    manager = demo["manager"].pk
    assert [line.get("user_id") for line in lines[:4]] == [manager] * 4
    assert lines[1]["reason"] == "user"
    assert lines[2]["key_id"] == token.split(".")[0]
    assert (lines[4]["reason"], lines[4]["key_id"]) == ("revoked", token.split(".")[0])
    text = json.dumps(lines)
    assert "demo1234" not in text
    assert token.split(".")[1] not in text


@pytest.mark.django_db
def test_job_runs_are_logged_with_name_id_and_duration(json_lines):
    from tests.celery_tasks import add

    result = add.delay(2, 3)
    assert result.get() == 5
    started, succeeded = json_lines("jobs")
    assert (started["event"], started["task_name"], started["task_id"]) == (
        "task_started",
        "tests.celery_tasks.add",
        result.id,
    )
    assert (succeeded["event"], succeeded["task_id"]) == ("task_succeeded", result.id)
    assert isinstance(succeeded["duration_ms"], int)


@pytest.mark.django_db
def test_job_failures_are_logged(json_lines):
    from settlement.tasks import send_due_reminders

    with mock.patch(
        "settlement.services.reminders_send_due",
        side_effect=RuntimeError("boom 6222021234567890"),
    ):
        result = send_due_reminders.apply(throw=False)
    assert result.failed()
    failed = [line for line in json_lines("jobs") if line["event"] == "task_failed"]
    assert len(failed) == 1
    assert failed[0]["task_name"] == "settlement.tasks.send_due_reminders"
    assert failed[0]["error"] == "RuntimeError"
    assert failed[0]["detail"] == "boom ****7890"
    assert failed[0]["level"] == "ERROR"
