import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from settlement.models import SettlementAccount
from settlement.tests.factories import World

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_balances", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def accounts():
    world = World()
    return [world.retailer(balance="1.00").settlement_account for _ in range(2)]


def write(tmp_path, *rows: str):
    path = tmp_path / "balances.csv"
    path.write_text("reference,balance,as_of\n" + "".join(f"{r}\n" for r in rows), "utf-8")
    return path


def test_import_balances_applies_a_good_file(tmp_path, accounts):
    now = f"{timezone.localtime():%Y-%m-%d %H:%M}"
    path = write(
        tmp_path, f"{accounts[0].reference},10.50,{now}", f"{accounts[1].reference},0,{now}"
    )
    assert (
        run(str(path), "--dry-run")
        == f"{path}: OK, 2 balances would be updated, 0 older ones ignored.\n"
    )
    assert SettlementAccount.objects.get(pk=accounts[0].pk).balance == Decimal("1.00")
    assert run(str(path)) == f"{path}: 2 balances updated, 0 older ones ignored.\n"
    assert SettlementAccount.objects.get(pk=accounts[0].pk).balance == Decimal("10.50")
    assert run(str(path)) == f"{path}: 0 balances updated, 2 older ones ignored.\n"


def test_import_balances_rejects_a_bad_file_whole(tmp_path, accounts):
    now = f"{timezone.localtime():%Y-%m-%d %H:%M}"
    path = write(tmp_path, f"{accounts[0].reference},10.50,{now}", f"UNKNOWN,3,{now}")
    with pytest.raises(CommandError) as caught:
        run(str(path))
    assert str(caught.value) == (
        f"{path}: The file was rejected; nothing was changed.\n"
        "Row 3: no settlement account has the reference UNKNOWN."
    )
    assert SettlementAccount.objects.get(pk=accounts[0].pk).balance == Decimal("1.00")
    with pytest.raises(CommandError, match="nothing was changed"):
        run(str(path), "--dry-run")


def test_import_balances_refuses_a_missing_or_oversized_file(tmp_path, accounts, settings):
    with pytest.raises(CommandError, match="No such file or directory"):
        run(str(tmp_path / "nope.csv"))
    settings.SETTLEMENT_IMPORT_MAX_BYTES = 10
    with pytest.raises(CommandError, match="the file is too large"):
        run(str(write(tmp_path, "X,1,2026-01-01")))
