import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.errors import ApplicationError
from retailers.models import RetailerStatus
from settlement import services
from settlement.bank import BankUnavailable, DebitResult, SimulatedBank
from settlement.models import (
    Debit,
    DebitStatus,
    ImportKind,
    Order,
    OrderLine,
    OrderStatus,
    SettlementAccount,
    SettlementAccountStatus,
    SimulatedBankEntry,
)
from settlement.tests.factories import AccountFactory, BrandFactory, World, week
from territory.models import CycleStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


def lines(brand, cartons=1):
    return [services.LineInput(brand=brand, cartons=cartons)]


# --- Orders ---------------------------------------------------------------------------------


def test_online_orders_are_charged_wholesale_and_others_list_with_the_difference_accrued(world):
    shop = world.retailer()
    dear = BrandFactory(wholesale_price=Decimal("420.00"), list_price=Decimal("428.40"))
    cheap = BrandFactory(wholesale_price=Decimal("38.00"), list_price=Decimal("38.76"))
    two_lines = [
        services.LineInput(brand=dear, cartons=3),
        services.LineInput(brand=cheap, cartons=10),
    ]
    online = services.order_create(
        retailer=shop, cycle=world.cycle, channel="online", lines=two_lines, by=world.manager
    )
    phone = services.order_create(
        retailer=shop, cycle=world.cycle, channel="phone", lines=two_lines, by=world.manager
    )
    assert online.total_amount == Decimal("1640.00")  # 3 × 420 + 10 × 38
    assert online.rebate_amount == Decimal("0.00")
    assert phone.total_amount == Decimal("1672.80")  # 3 × 428.40 + 10 × 38.76
    assert phone.rebate_amount == Decimal("32.80")  # 3 × 8.40 + 10 × 0.76
    assert list(
        phone.lines.order_by("brand__wholesale_price").values_list("unit_price", flat=True)
    ) == [
        Decimal("38.76"),
        Decimal("428.40"),
    ]
    assert phone.entered_by == world.manager
    assert phone.status == OrderStatus.PLACED


@pytest.mark.parametrize(
    ("cartons", "message"),
    [
        (0, "cartons must be between 1 and 9999"),
        (-3, "cartons must be between 1 and 9999"),
        (10000, "cartons must be between 1 and 9999"),
        (2.5, "cartons must be a whole number"),
        (True, "cartons must be a whole number"),
    ],
)
def test_bad_quantities_are_refused_and_nothing_is_saved(world, cartons, message):
    shop = world.retailer()
    before = (Order.objects.count(), OrderLine.objects.count())
    with pytest.raises(ApplicationError, match=message):
        services.order_create(
            retailer=shop,
            cycle=world.cycle,
            channel="phone",
            lines=[services.LineInput(brand=world.brand, cartons=cartons)],
            by=world.manager,
        )
    assert (Order.objects.count(), OrderLine.objects.count()) == before


def test_order_rules_each_refuse_with_a_clear_message(world):
    shop = world.retailer()
    other = World(order_date=dt.date(2031, 5, 14))
    foreign = other.retailer()
    closed = week(dt.date(2030, 1, 7), status=CycleStatus.CLOSED)
    retired = BrandFactory(is_active=False)
    before = Order.objects.count()
    cases = [
        ({"retailer": foreign}, "on another manager's route"),
        ({"cycle": closed}, "is closed"),
        ({"channel": "fax"}, "Unknown ordering channel fax"),
        ({"lines": []}, "at least one line"),
        ({"lines": lines(retired)}, "is not on sale"),
        ({"lines": lines(world.brand) + lines(world.brand)}, "appears twice"),
    ]
    for change, message in cases:
        kwargs = {
            "retailer": shop,
            "cycle": world.cycle,
            "channel": "phone",
            "lines": lines(world.brand),
            "by": world.manager,
            **change,
        }
        with pytest.raises(ApplicationError, match=message):
            services.order_create(**kwargs)
    shop.status = RetailerStatus.CLOSED
    shop.save()
    with pytest.raises(ApplicationError, match="is not active"):
        services.order_create(
            retailer=shop, cycle=world.cycle, channel="phone", lines=lines(world.brand), by=None
        )
    assert Order.objects.count() == before


def test_a_repeated_external_reference_returns_the_first_order(world):
    shop = world.retailer()
    first = services.order_create(
        retailer=shop,
        cycle=world.cycle,
        channel="online",
        lines=lines(world.brand, 2),
        by=None,
        external_ref="WEB-1",
    )
    with pytest.raises(services.DuplicateOrder) as caught:
        services.order_create(
            retailer=shop,
            cycle=world.cycle,
            channel="online",
            lines=lines(world.brand, 5),
            by=None,
            external_ref="WEB-1",
        )
    assert caught.value.order == first
    assert Order.objects.filter(external_ref="WEB-1").count() == 1


# --- Debits ---------------------------------------------------------------------------------


def test_a_covered_order_is_debited_once_and_paid(world):
    shop = world.retailer(balance="1500.00")
    order = world.order(shop, cartons=10)  # 10 × 102 = 1020
    debit = services.debit_order(order_id=order.pk)
    assert (debit.status, debit.attempt, debit.amount) == (DebitStatus.SUCCESS, 1, Decimal("1020"))
    assert debit.idempotency_key == f"o{order.pk}a1"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert SettlementAccount.objects.get(retailer=shop).balance == Decimal("480.00")
    assert services.debit_order(order_id=order.pk) is None  # the job runs again: nothing
    assert Debit.objects.filter(order=order).count() == 1
    assert SimulatedBankEntry.objects.filter(idempotency_key=debit.idempotency_key).count() == 1


def test_insufficient_funds_fail_the_order_and_a_retry_needs_the_funds(world):
    shop = world.retailer(balance="500.00")
    order = world.order(shop, cartons=10)
    debit = services.debit_order(order_id=order.pk)
    assert debit.status == DebitStatus.INSUFFICIENT_FUNDS
    order.refresh_from_db()
    assert order.status == OrderStatus.PAYMENT_FAILED
    assert SettlementAccount.objects.get(retailer=shop).balance == Decimal("500.00")
    # The job does not try again by itself ...
    assert services.debit_order(order_id=order.pk) is None
    # ... and a retry is refused while the known balance does not cover the order.
    with pytest.raises(ApplicationError, match="does not cover the order"):
        services.debit_retry(order=order, by=world.manager)
    assert Debit.objects.filter(order=order).count() == 1
    # Funds arrive (a balance file), then the retry succeeds as attempt 2 with a new key.
    later = timezone.now()
    services.balances_update(
        entries=[services.BalanceEntry(shop.settlement_account.reference, Decimal("2000"), later)]
    )
    retry = services.debit_retry(order=order, by=world.manager)
    assert (retry.attempt, retry.status, retry.idempotency_key) == (
        2,
        DebitStatus.PENDING,
        f"o{order.pk}a2",
    )
    with pytest.raises(ApplicationError, match="in progress already"):
        services.debit_retry(order=order, by=world.manager)
    assert services.debit_execute(debit_id=retry.pk).status == DebitStatus.SUCCESS
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert SettlementAccount.objects.get(retailer=shop).balance == Decimal("980.00")
    with pytest.raises(ApplicationError, match="Only an order whose payment failed"):
        services.debit_retry(order=order, by=world.manager)


def test_retry_is_refused_for_another_managers_order(world):
    other = World(order_date=dt.date(2031, 5, 14))
    order = other.order(other.retailer(balance="0.00"))
    services.debit_order(order_id=order.pk)
    with pytest.raises(ApplicationError, match="not on your routes"):
        services.debit_retry(order=order, by=world.manager)
    assert Debit.objects.filter(order=order).count() == 1


def test_after_a_balance_import_the_covered_failures_are_retried(world):
    short = world.retailer(balance="100.00")
    still_short = world.retailer(balance="100.00")
    orders = [world.order(short), world.order(still_short)]
    for order in orders:
        services.debit_order(order_id=order.pk)
    services.balances_update(
        entries=[
            services.BalanceEntry(
                short.settlement_account.reference, Decimal("5000"), timezone.now()
            )
        ]
    )
    claimed = Debit.objects.filter(pk__in=services.debits_retry_covered(), order__in=orders)
    assert [(d.order, d.attempt) for d in claimed] == [(orders[0], 2)]
    assert not Debit.objects.filter(  # a second run does not open another attempt
        pk__in=services.debits_retry_covered(), order__in=orders
    ).exists()
    assert Debit.objects.filter(order=orders[0], status=DebitStatus.PENDING).count() == 1
    services.debit_execute(debit_id=claimed[0].pk)
    assert Order.objects.get(pk=orders[0].pk).status == OrderStatus.PAID
    assert Order.objects.get(pk=orders[1].pk).status == OrderStatus.PAYMENT_FAILED


def test_a_suspended_account_fails(world):
    shop = world.retailer(balance="5000.00")
    SettlementAccount.objects.filter(retailer=shop).update(status=SettlementAccountStatus.SUSPENDED)
    debit = services.debit_order(order_id=world.order(shop).pk)
    assert (debit.status, debit.message) == (DebitStatus.FAILED, "account not usable")


class CrashAfterTheBank(SimulatedBank):
    """The bank debits, then our process dies before it writes the result."""

    def debit(self, request):
        super().debit(request)
        raise SystemExit("killed between the bank and our row")


def test_a_crash_between_the_bank_and_our_row_never_debits_twice(world, settings):
    shop = world.retailer(balance="1500.00")
    order = world.order(shop, cartons=10)
    settings.SETTLEMENT_BANK = "settlement.tests.test_services.CrashAfterTheBank"
    with pytest.raises(SystemExit):
        services.debit_order(order_id=order.pk)
    debit = Debit.objects.get(order=order)
    assert debit.status == DebitStatus.PENDING  # the attempt was written before the call
    assert SettlementAccount.objects.get(retailer=shop).balance == Decimal("480.00")
    # The redelivered job resumes the open attempt with the same key.
    settings.SETTLEMENT_BANK = "settlement.bank.SimulatedBank"
    assert services.debit_order(order_id=order.pk).pk == debit.pk
    debit.refresh_from_db()
    assert debit.status == DebitStatus.SUCCESS
    entry = SimulatedBankEntry.objects.get(idempotency_key=debit.idempotency_key)
    assert (entry.times_seen, entry.status) == (2, DebitStatus.SUCCESS)
    assert SettlementAccount.objects.get(retailer=shop).balance == Decimal("480.00")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID


class UnreachableBank:
    def debit(self, request):
        raise BankUnavailable("timeout")


def test_an_unreachable_bank_leaves_the_attempt_open_for_the_next_run(world, settings):
    order = world.order(world.retailer(balance="5000.00"))
    settings.SETTLEMENT_BANK = "settlement.tests.test_services.UnreachableBank"
    with pytest.raises(BankUnavailable):
        services.debit_order(order_id=order.pk)
    assert list(Debit.objects.filter(order=order).values_list("status", flat=True)) == ["pending"]
    assert [order.pk] in services.debit_batches()  # the job picks the open attempt up again
    settings.SETTLEMENT_BANK = "settlement.bank.SimulatedBank"
    assert services.debit_order(order_id=order.pk).status == DebitStatus.SUCCESS
    assert Debit.objects.filter(order=order).count() == 1


def test_the_database_refuses_a_second_success_or_a_reused_key(world):
    order = world.order(world.retailer(balance="5000.00"))
    debit = services.debit_order(order_id=order.pk)
    for attempt, key in ((2, "another-key"), (3, debit.idempotency_key)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Debit.objects.create(
                order=order,
                account=debit.account,
                attempt=attempt,
                idempotency_key=key,
                amount=debit.amount,
                status=DebitStatus.SUCCESS,
            )
    assert Debit.objects.filter(order=order).count() == 1


def test_debit_batches_take_placed_e_settlement_orders_in_bounded_chunks(world):
    shops = [world.retailer(balance="5000.00") for _ in range(5)]
    cash = world.retailer(balance=None, payment_method="cash")
    orders = [world.order(shop) for shop in shops]
    world.order(cash)
    services.debit_order(order_id=orders[0].pk)
    mine = {o.pk for o in orders}
    chunks = [[pk for pk in chunk if pk in mine] for chunk in services.debit_batches(chunk_size=2)]
    assert [pk for chunk in chunks for pk in chunk] == [o.pk for o in orders[1:]]
    assert max(len(chunk) for chunk in services.debit_batches(chunk_size=2)) == 2


def test_a_cash_payers_old_orders_are_never_debited_after_switching_to_e_settlement(world):
    shop = world.retailer(balance=None, payment_method="cash")
    cash_order = world.order(shop)
    assert cash_order.e_settlement is False
    shop.payment_method = "e_settlement"
    shop.save(update_fields=["payment_method"])
    AccountFactory(retailer=shop, balance=Decimal("9000.00"))
    new_order = world.order(shop)
    assert new_order.e_settlement is True
    mine = {cash_order.pk, new_order.pk}
    queued = [pk for chunk in services.debit_batches() for pk in chunk if pk in mine]
    assert queued == [new_order.pk]
    services.debit_order(order_id=new_order.pk)
    cash_order.refresh_from_db()
    assert cash_order.status == OrderStatus.PLACED
    assert not Debit.objects.filter(order=cash_order).exists()


def test_a_newer_balance_is_never_overwritten_by_an_older_debit_result(world):
    shop = world.retailer(balance="5000.00")
    order = world.order(shop)
    debit = services.debit_claim(order_id=order.pk)
    future = timezone.now() + dt.timedelta(minutes=5)
    SettlementAccount.objects.filter(retailer=shop).update(
        balance=Decimal("7"), balance_as_of=future
    )
    services._debit_record(
        debit=debit,
        result=DebitResult(
            status=DebitStatus.SUCCESS, balance_after=Decimal("1"), balance_as_of=timezone.now()
        ),
    )
    assert SettlementAccount.objects.get(retailer=shop).balance == Decimal("7")


# --- Balance files --------------------------------------------------------------------------


def test_a_balance_file_updates_every_balance_and_ignores_older_ones(world):
    a, b = world.retailer(balance="1.00"), world.retailer(balance="2.00")
    ref_a, ref_b = a.settlement_account.reference, b.settlement_account.reference
    old = timezone.localtime(a.settlement_account.balance_as_of) - dt.timedelta(days=3)
    text = (
        "reference,balance,as_of\n"
        f"{ref_a},2350.50,{timezone.localtime():%Y-%m-%d %H:%M}\n"
        f"{ref_b},9.99,{old:%Y-%m-%d %H:%M}\n"
    )
    check = services.balance_file_check(text=text)
    assert check.ok
    assert [c.row for c in check.applicable] == [2]
    result = services.balance_file_apply(text=text)
    assert (result.updated, result.stale) == (1, 1)
    assert SettlementAccount.objects.get(pk=a.settlement_account.pk).balance == Decimal("2350.50")
    assert SettlementAccount.objects.get(pk=b.settlement_account.pk).balance == Decimal("2.00")


def test_a_balance_file_with_bad_rows_is_rejected_whole_with_row_numbers(world):
    a, b = world.retailer(balance="1.00"), world.retailer(balance="2.00")
    ref = a.settlement_account.reference
    now = f"{timezone.localtime():%Y-%m-%d %H:%M}"
    text = (
        "reference,balance,as_of\n"
        f"{ref},100.00,{now}\n"
        f"NOPE-1,5.00,{now}\n"
        f"{ref},abc,{now}\n"
        f"{ref},-5,{now}\n"
        f"{ref},1.234,{now}\n"
        f"{ref},5,yesterday\n"
        f"{b.settlement_account.reference},5,2999-01-01 00:00\n"
        ",5,2026-01-01\n"
        f"{ref},5\n"
        f"{ref},6,{now}\n"
    )
    with pytest.raises(ApplicationError, match="nothing was changed") as caught:
        services.balance_file_apply(text=text)
    assert caught.value.extra["file"] == [
        "Row 3: no settlement account has the reference NOPE-1.",
        "Row 4: balance must be an amount of at least 0 with at most 2 decimals, not abc.",
        "Row 5: balance must be an amount of at least 0 with at most 2 decimals, not -5.",
        "Row 6: balance must be an amount of at least 0 with at most 2 decimals, not 1.234.",
        "Row 7: as_of must be a date and time such as 2026-11-25 18:00, not yesterday.",
        "Row 8: the as-of time is in the future.",
        "Row 9: reference must not be empty.",
        "Row 10: expected 3 fields, found 2.",
        "Row 11: the reference " + ref + " appears again (first in row 2).",
    ]
    assert SettlementAccount.objects.get(pk=a.settlement_account.pk).balance == Decimal("1.00")
    assert SettlementAccount.objects.get(pk=b.settlement_account.pk).balance == Decimal("2.00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (
            b"reference,balance\nX,1\n",
            "The header must name the columns reference,balance,as_of; it names reference,balance.",
        ),
        (b"reference,balance,as_of\n", "The file has a header but no rows."),
        (b"\xff\xfe\x00r", "The file is not UTF-8 text (row 1)."),
        (b"x" * 3000, "The file is too large (3000 bytes; the limit is 2048)."),
    ],
)
def test_a_balance_file_that_is_no_balance_file_is_refused(world, settings, data, message):
    settings.SETTLEMENT_IMPORT_MAX_BYTES = 2048
    with pytest.raises(ApplicationError) as caught:
        services.balance_file_check(text=services.import_text(data))
    assert caught.value.message == message


def test_a_previewed_batch_is_applied_once(world):
    a = world.retailer(balance="1.00")
    data = f"reference,balance,as_of\n{a.settlement_account.reference},50,{timezone.localdate()}\n"
    batch = services.import_batch_create(
        kind=ImportKind.BALANCES, file_name="b.csv", data=data.encode(), by=world.supervisor
    )
    assert services.balance_import_apply(batch=batch).updated == 1
    with pytest.raises(ApplicationError, match="applied already"):
        services.balance_import_apply(batch=batch)
    batch.refresh_from_db()
    assert (batch.status, batch.rows) == ("applied", 1)


# --- Order import ---------------------------------------------------------------------------


def order_file(*rows: str) -> str:
    return "licence,brand,cartons,channel,cycle,external_ref\n" + "".join(f"{r}\n" for r in rows)


def test_an_order_file_groups_rows_into_orders(world):
    a, b = world.retailer(), world.retailer()
    other = BrandFactory()
    code = world.cycle.code
    text = order_file(
        f"{a.licence_number},{world.brand.code},3,phone,{code},",
        f"{a.licence_number},{other.code},2,phone,{code},",
        f"{b.licence_number},{world.brand.code},5,online,{code},WEB-9",
    )
    check = services.order_import_check(text=text, by=world.manager)
    assert check.ok
    assert [(p.rows, p.cartons, p.total, p.rebate) for p in check.orders] == [
        ([2, 3], 5, Decimal("510.00"), Decimal("10.00")),
        ([4], 5, Decimal("500.00"), Decimal("0.00")),
    ]
    batch = services.import_batch_create(
        kind=ImportKind.ORDERS, file_name="o.csv", data=text.encode(), by=world.manager
    )
    orders = services.order_import_apply(batch=batch, by=world.manager)
    assert [(o.retailer, o.channel, o.total_amount, o.external_ref) for o in orders] == [
        (a, "phone", Decimal("510.00"), None),
        (b, "online", Decimal("500.00"), "WEB-9"),
    ]


def test_an_order_file_with_bad_rows_creates_nothing(world):
    mine = world.retailer()
    other = World(order_date=dt.date(2031, 5, 14))
    foreign = other.retailer()
    closed = week(dt.date(2030, 1, 7), status=CycleStatus.CLOSED)
    code, brand, lic = world.cycle.code, world.brand.code, mine.licence_number
    text = order_file(
        f"{lic},{brand},0,phone,{code},",
        f"{lic},{brand},-2,phone,{code},",
        f"{lic},NOSUCH,1,phone,{code},",
        f"{foreign.licence_number},{brand},1,phone,{code},",
        f"00000000,{brand},1,phone,{code},",
        f"{lic},{brand},1,fax,{code},",
        f"{lic},{brand},1,phone,{closed.code},",
        f"{lic},{brand},1,phone,1999-W01,",
        f"{lic},{brand},1,phone,{code},",
        f"{lic},{brand},2,phone,{code},",
    )
    before = Order.objects.count()
    check = services.order_import_check(text=text, by=world.manager)
    assert [str(e) for e in check.errors] == [
        "Row 2: cartons must be a whole number from 1 to 9999, not 0.",
        "Row 3: cartons must be a whole number from 1 to 9999, not -2.",
        "Row 4: unknown brand code NOSUCH.",
        f"Row 5: the retailer {foreign.licence_number} is on another manager's route.",
        "Row 6: no retailer has the licence number 00000000.",
        "Row 7: channel must be one of phone, online, visit, not fax.",
        f"Row 8: the cycle {closed.code} is closed.",
        "Row 9: unknown cycle 1999-W01.",
        f"Row 11: the brand {brand} appears twice in one order.",
    ]
    batch = services.import_batch_create(
        kind=ImportKind.ORDERS, file_name="o.csv", data=text.encode(), by=world.manager
    )
    with pytest.raises(ApplicationError, match="nothing was changed"):
        services.order_import_apply(batch=batch, by=world.manager)
    assert Order.objects.count() == before
    batch.refresh_from_db()
    assert batch.status == "previewed"  # the claim was rolled back with the rest


# --- Balance reminders ----------------------------------------------------------------------


def order_in(world, shop, cycle, cartons):
    return world.order(shop, cycle=cycle, cartons=cartons)


def test_reminders_go_to_e_settlement_retailers_below_their_expected_order(world):
    # Ordered 10 and 20 cartons (1020 and 2040) in two of the last four cycles: expects 1530.
    short = world.retailer(balance="1000.00", star=3)
    covered = world.retailer(balance="1530.00", star=3)
    big = world.retailer(balance="100.00", star=4)
    assisted = world.retailer(balance="0.00", star=2, needs_assistance=True)
    cash = world.retailer(balance=None, payment_method="cash")
    for shop in (short, covered, big, assisted, cash):
        order_in(world, shop, world.past[1], 10)
        order_in(world, shop, world.past[3], 20)
    no_history = world.retailer(balance="0.00")
    too_old = World(order_date=world.order_date, history=5)
    old_shop = too_old.retailer(balance="0.00")
    order_in(too_old, old_shop, too_old.past[0], 10)  # five cycles back: not counted
    elsewhere = World(order_date=world.order_date + dt.timedelta(days=1))
    order_in(elsewhere, elsewhere.retailer(balance="0.00"), elsewhere.past[3], 10)

    day = world.order_date - dt.timedelta(days=1)
    assert services.balance_reminders_create(day=day) == 3
    reminders = {r.retailer: r for r in world.cycle.balance_reminders.all()}
    assert set(reminders) == {short, big, assisted}
    assert no_history not in reminders
    assert old_shop not in reminders
    r = reminders[short]
    assert (r.order_date, r.expected_amount, r.balance, r.large, r.help_deposit) == (
        world.order_date,
        Decimal("1530.00"),
        Decimal("1000.00"),
        False,
        False,
    )
    morning = timezone.make_aware(dt.datetime.combine(world.order_date, dt.time(7)))
    assert r.send_after == morning  # on order day
    assert reminders[big].large is True
    assert reminders[big].send_after < morning  # the day before: before the order call
    assert (reminders[assisted].help_deposit, reminders[assisted].large) == (True, False)
    assert reminders[assisted].send_after < morning
    # However often the job runs: one reminder per retailer and cycle.
    assert services.balance_reminders_create(day=day) == 0
    assert world.cycle.balance_reminders.count() == 3


def test_a_large_expected_order_makes_a_retailer_large(world, settings):
    settings.SETTLEMENT_LARGE_EXPECTED_AMOUNT = 2000
    shop = world.retailer(balance="0.00", star=2)
    order_in(world, shop, world.past[3], 20)  # 2040
    services.balance_reminders_create(day=world.order_date - dt.timedelta(days=1))
    assert world.cycle.balance_reminders.get(retailer=shop).large is True
    assert services.is_large(star=None, expected=Decimal("1999.99")) is False
    assert services.is_large(star=4, expected=Decimal("0")) is True


def test_the_reminder_job_costs_the_same_queries_for_3_or_30_retailers(
    world, django_assert_num_queries
):
    def run(n: int, date: dt.date) -> None:
        w = World(order_date=date)
        for _ in range(n):
            order_in(w, w.retailer(balance="0.00"), w.past[3], 5)
        with django_assert_num_queries(3):  # the cycle, the past cycles, INSERT … SELECT
            assert services.balance_reminders_create(day=date - dt.timedelta(days=1)) == n

    run(3, dt.date(2032, 3, 10))
    run(30, dt.date(2032, 6, 9))


def test_due_reminders_are_sent_once_without_the_account_number(world):
    big = world.retailer(balance="100.00", star=5, phone="13800001234")
    small = world.retailer(balance="100.00", star=3, phone="13900005678")
    for shop in (big, small):
        order_in(world, shop, world.past[3], 10)
    services.balance_reminders_create(day=world.order_date - dt.timedelta(days=1))
    evening = timezone.make_aware(
        dt.datetime.combine(world.order_date - dt.timedelta(days=1), dt.time(15))
    )
    assert services.reminders_send_due(now=evening) == 1  # the large one, the day before
    assert services.reminders_send_due(now=evening) == 0
    morning = evening + dt.timedelta(hours=16, minutes=5)
    assert services.reminders_send_due(now=morning) == 1  # the other on the order day
    reminders = world.cycle.balance_reminders.select_related("notification")
    sent = {r.retailer_id: r for r in reminders}
    assert sent[big.pk].sent_at == evening
    assert sent[small.pk].sent_at == morning
    note = sent[big.pk].notification
    assert note.phone == "13800001234"
    assert note.text == (
        f"{big.name}: your e-settlement balance is 100.00 yuan and your order on 03-12 is "
        "expected to be about 1020.00 yuan. Please deposit enough before then."
    )
    assert big.settlement_account.account_number not in note.text
    # A reminder for an order day that has passed is not sent any more.
    late = world.retailer(balance="0.00")
    order_in(world, late, world.past[2], 1)
    services.balance_reminders_create(day=world.order_date - dt.timedelta(days=1))
    assert services.reminders_send_due(now=morning + dt.timedelta(days=1)) == 0


def test_the_manager_records_help_to_deposit(world):
    assisted = world.retailer(balance="0.00", needs_assistance=True)
    plain = world.retailer(balance="0.00")
    for shop in (assisted, plain):
        order_in(world, shop, world.past[3], 1)
    services.balance_reminders_create(day=world.order_date - dt.timedelta(days=1))
    reminder = world.cycle.balance_reminders.get(retailer=assisted)
    stranger = World(order_date=dt.date(2031, 5, 14)).manager
    with pytest.raises(ApplicationError, match="not for a retailer on your routes"):
        services.reminder_mark_helped(reminder=reminder, by=stranger)
    with pytest.raises(ApplicationError, match="not put on the list"):
        services.reminder_mark_helped(
            reminder=world.cycle.balance_reminders.get(retailer=plain), by=world.manager
        )
    done = services.reminder_mark_helped(reminder=reminder, by=world.manager)
    assert done.helped_by == world.manager
    assert done.helped_at is not None


# --- Month-end rebates ----------------------------------------------------------------------


def order_on(world, shop, day: dt.date, channel: str = "phone", cartons: int = 10):
    return services.order_create(
        retailer=shop,
        cycle=world.cycle,
        channel=channel,
        lines=lines(world.brand, cartons),
        by=None,
        ordered_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
    )


def test_one_rebate_per_retailer_and_month_for_non_online_orders(world):
    a, b = world.retailer(), world.retailer()
    jan = dt.date(2020, 1, 15)
    order_on(world, a, jan, "phone", 10)  # 20.00 back
    order_on(world, a, jan, "visit", 5)  # 10.00 back
    order_on(world, a, jan, "online", 50)  # wholesale price: nothing back
    cancelled = order_on(world, a, jan, "phone", 7)
    Order.objects.filter(pk=cancelled.pk).update(status=OrderStatus.CANCELLED)
    order_on(world, b, dt.date(2020, 1, 31), "phone", 1)  # 2.00 back
    order_on(world, b, dt.date(2020, 2, 1), "phone", 1)  # February's
    run = services.rebates_create(month=dt.date(2020, 1, 20))
    assert (run.month, run.rebates, run.amount) == (dt.date(2020, 1, 1), 2, Decimal("32.00"))
    rebates = {r.retailer: r for r in run_rebates(dt.date(2020, 1, 1))}
    assert (rebates[a].amount, rebates[a].orders_count) == (Decimal("30.00"), 2)
    assert (rebates[b].amount, rebates[b].orders_count) == (Decimal("2.00"), 1)
    assert services.rebates_create(month=dt.date(2020, 1, 1)) is None  # never paid twice
    assert len(run_rebates(dt.date(2020, 1, 1))) == 2


def run_rebates(month):
    from settlement.models import Rebate

    return list(Rebate.objects.filter(month=month).select_related("retailer"))


def test_an_unpaid_order_is_rebated_in_the_month_after_it_is_paid(world):
    shop = world.retailer(balance="0.00")
    failed = order_on(world, shop, dt.date(2020, 3, 10))
    services.debit_order(order_id=failed.pk)
    assert services.rebates_create(month=dt.date(2020, 3, 1)).rebates == 0
    SettlementAccount.objects.filter(retailer=shop).update(balance=Decimal("5000"))
    services.debit_execute(debit_id=services.debit_retry(order=failed, by=world.manager).pk)
    run = services.rebates_create(month=dt.date(2020, 4, 1))
    assert (run.rebates, run.amount) == (1, Decimal("20.00"))
    failed.refresh_from_db()
    assert failed.rebate.month == dt.date(2020, 4, 1)


def test_rebates_wait_for_the_end_of_the_month(world):
    with pytest.raises(ApplicationError, match="after the month has ended"):
        services.rebates_create(month=timezone.localdate())
