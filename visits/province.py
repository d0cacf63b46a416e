"""A province-scale data set for benchmarks (issue 7): ``manage.py generate_province``.

N retailers in districts of about 5,000 (about 100 at N = 500,000), on routes of 50–120
retailers with one order and visit weekday each, one account manager per five routes (Monday
to Friday) and one supervisor per district; star and status history; e-settlement accounts
with encrypted account numbers; the cycles around today; four closed cycles of orders (about
five lines per retailer and cycle: 10 million lines at N = 500,000); the points of those
cycles; scarce supplies of the current cycle, one of them run and published; and the current
cycle's visit plan. Everything lives under its own branch (``PV``), licence prefix and user
names, so it coexists with the demo district.

Built for speed on PostgreSQL: the rows are generated column-wise with NumPy from one seed
and streamed with ``COPY … FROM STDIN`` (the server parses while Python generates the next
chunk); the big tables' secondary indexes and foreign keys are dropped first and rebuilt
once at the end (PostgreSQL's own advice for populating a database); the account numbers
are encrypted with Fernet in worker processes while the main process writes other tables.
The jobs (points, allocation, visit plan) run through the real services. One transaction:
a failure leaves nothing behind. ``VACUUM ANALYZE`` at the end, as autovacuum would.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from allocation import services as allocation_services
from allocation.demo import SUPPLIES
from allocation.models import RunStatus
from catalog.demo import DEMO_BRANDS
from catalog.demo import seed as seed_brands
from catalog.models import Brand
from config.dates import quarter_start, week_start
from config.demo import DemoContext
from retailers.demo import GIVEN, NAME_SUFFIX, SHOP_WORDS, STREETS, SURNAMES
from retailers.models import (
    BusinessType,
    Retailer,
    StarChange,
    StatusChange,
)
from settlement.models import Order, OrderLine, OrderStatus, SettlementAccount
from territory.demo import cycle_code
from territory.models import Branch, Cycle, CycleStatus, District, Route
from visits.services import visit_plan_generate

logger = logging.getLogger(__name__)

BRANCH_CODE = "PV"
BRANCH_NAME = "全省营销中心（生成数据）"
LICENCE_PREFIX = "PV"
USER_PREFIX = "pv-"
ADMIN_USERNAME = "pv-admin"
DISTRICT_SIZE = 5000
ROUTE_SIZES = (50, 120)
ROUTES_PER_MANAGER = 5
ORDER_CYCLES = 4
#: Stars drawn for retailers: unrated, 1★ … 5★ (the demo district's shape).
STAR_WEIGHTS = (0.01, 0.03, 0.14, 0.45, 0.31, 0.06)
#: Mean cartons per order line above the first, by star (0 = unrated).
CARTONS_BY_STAR = (1.0, 0.5, 1.0, 2.0, 3.0, 4.0)
ORDERING_SHARE = 0.95
BANKS = ("农村商业银行", "中国农业银行", "中国邮政储蓄银行", "中国建设银行", "中国工商银行")
TYPES_BY_STAR = {
    0: (BusinessType.CONVENIENCE,),
    1: (BusinessType.GROCERY,) * 5 + (BusinessType.OTHER,),
    2: (BusinessType.GROCERY,) * 6 + (BusinessType.CONVENIENCE,) * 2 + (BusinessType.OTHER,),
    3: (BusinessType.CONVENIENCE,) * 4
    + (BusinessType.GROCERY,) * 4
    + (BusinessType.TOBACCO_LIQUOR, BusinessType.CATERING, BusinessType.OTHER),
    4: (BusinessType.SUPERMARKET,) * 2
    + (BusinessType.TOBACCO_LIQUOR,) * 4
    + (BusinessType.CONVENIENCE,) * 3
    + (BusinessType.CATERING,) * 2
    + (BusinessType.ENTERTAINMENT,),
    5: (BusinessType.SUPERMARKET,) * 4
    + (BusinessType.TOBACCO_LIQUOR,) * 5
    + (BusinessType.ENTERTAINMENT,) * 2
    + (BusinessType.CATERING,) * 2,
}
INTEGRITY_BY_STAR = {0: "B", 1: "BCCCD", 2: "BBBCC", 3: "ABBBC", 4: "AAABB", 5: "AAAAB"}
#: Rows per COPY chunk handed to the driver (the server parses one while the next is built).
CHUNK_ROWS = 100_000


class ProvinceError(Exception):
    """The data set cannot be generated into this database (the command says why)."""


@dataclass
class Report:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def province_branch() -> Branch | None:
    return Branch.objects.filter(code=BRANCH_CODE).first()


def province_retailers() -> int:
    return Retailer.objects.filter(licence_number__startswith=LICENCE_PREFIX).count()


# --- COPY helpers ---------------------------------------------------------------------------


class _ChunkReader(io.RawIOBase):
    """A file-like object over generated text chunks, for ``copy_expert``."""

    def __init__(self, chunks: Iterable[str]) -> None:
        self._chunks = iter(chunks)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:  # type: ignore[override]
        return next(self._chunks, "")


def _copy(cursor, model, columns: tuple[str, ...], chunks: Iterable[str]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in columns)
    cursor.copy_expert(
        f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN",  # only our own names
        _ChunkReader(chunks),
        1 << 20,
    )


def _text(template: str, rows: Iterable[tuple]) -> Iterator[str]:
    """COPY text of ``rows`` in chunks; every value is our own, with no tab, newline or
    backslash in it, so nothing needs escaping."""
    batch: list[str] = []
    for row in rows:
        batch.append(template % row)
        if len(batch) == CHUNK_ROWS:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


@contextmanager
def _indexes_deferred(cursor, models: Iterable) -> Iterator[None]:
    """Drop the secondary indexes, unique constraints and foreign keys of ``models``' tables,
    and rebuild them (same names, same definitions) when the block ends. The primary keys
    stay: ids are written in increasing order, so they only append."""
    saved: list[tuple[str, str, str, str]] = []  # (table, kind, name, definition)
    quote = connection.ops.quote_name
    # A table with deferred checks still pending cannot be altered: run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    for model in models:
        table = model._meta.db_table
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x"
            " JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = %s::regclass AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c"
            "  WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _kind, definition in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            saved.append((table, "constraint", name, definition))
        for name, definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
            saved.append((table, "index", name, definition))
    yield
    # Indexes and unique constraints first, so that the foreign keys validate by index.
    for table, kind, name, definition in sorted(saved, key=lambda s: "FOREIGN KEY" in s[3]):
        if kind == "index":
            cursor.execute(definition)
        else:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _next_id(cursor, model) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")  # noqa: S608
    return cursor.fetchone()[0]


def _reset_sequence(cursor, model) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT MAX(id) FROM {table}))",  # noqa: S608
        [table],
    )


# --- encryption in worker processes -----------------------------------------------------------


def _encrypt_chunk(key: str, numbers: list[str]) -> list[str]:
    from cryptography.fernet import Fernet

    fernet = Fernet(key.encode())
    return [fernet.encrypt(number.encode()).decode() for number in numbers]


# --- the generator ----------------------------------------------------------------------------


class _Clock:
    def __init__(self, report: Report, log: Callable[[str], None]) -> None:
        self.report, self.log = report, log

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        seconds = time.perf_counter() - start
        self.report.seconds[name] = round(seconds, 2)
        self.log(f"  {name}: {seconds:.1f} s")


def _utc_strings(values: np.ndarray) -> list[str]:
    """``datetime64[us]`` UTC instants as COPY-ready text."""
    return np.char.add(np.datetime_as_string(values, unit="us"), "+00").tolist()


def _midnight_utc(day: dt.date) -> np.datetime64:
    aware = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return np.datetime64(aware.astimezone(dt.UTC).replace(tzinfo=None), "us")


def _cents(values: np.ndarray) -> list[str]:
    return [f"{v // 100}.{v % 100:02d}" for v in values.tolist()]


def generate(
    *,
    retailers: int,
    seed: int = 7,
    today: dt.date | None = None,
    password: str = "demo1234",  # noqa: S107 - the demo users' documented password
    log: Callable[[str], None] = print,
    vacuum: bool = True,
) -> Report:
    """Generate the data set (PostgreSQL only); see the module docstring.

    ``vacuum=False`` skips the final ``VACUUM ANALYZE`` (which cannot run inside a
    transaction, e.g. a test's).
    """
    if connection.vendor != "postgresql":
        raise ProvinceError("The province data set is built with COPY: PostgreSQL only.")
    if retailers < 100:
        raise ProvinceError("--retailers must be at least 100.")
    if province_branch() is not None:
        raise ProvinceError(
            f"This database already holds a province data set ({province_retailers()} "
            "retailers); use a fresh database."
        )
    today = today or timezone.localdate()
    report = Report()
    clock = _Clock(report, log)
    total_start = time.perf_counter()
    pool = ProcessPoolExecutor(max_workers=2)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
            builder = _Builder(
                cursor=cursor,
                n=retailers,
                rng=np.random.default_rng(seed),
                today=today,
                password=password,
                report=report,
                clock=clock,
                pool=pool,
            )
            builder.run()
    finally:
        pool.shutdown(cancel_futures=True)
    if vacuum:
        with clock.step("vacuum analyze"), connection.cursor() as cursor:
            for model in _Builder.BIG:
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
            cursor.execute("ANALYZE")
    report.seconds["total"] = round(time.perf_counter() - total_start, 2)
    return report


class _Builder:
    BIG = (Retailer, StatusChange, StarChange, SettlementAccount, Order, OrderLine)

    def __init__(self, *, cursor, n, rng, today, password, report, clock, pool) -> None:
        self.cursor, self.n, self.rng, self.today = cursor, n, rng, today
        self.password, self.report, self.clock, self.pool = password, report, clock, pool
        self.now = timezone.now()
        self.now64 = np.datetime64(self.now.astimezone(dt.UTC).replace(tzinfo=None), "us")

    def count(self, what: str, n: int) -> None:
        self.report.counts[what] = self.report.counts.get(what, 0) + int(n)

    def run(self) -> None:
        with self.clock.step("territory and users"):
            self._brands()
            self._territory()
            self._cycles()
        with _indexes_deferred(self.cursor, self.BIG):
            with self.clock.step("retailers"):
                self._retailers()
            with self.clock.step("history"):
                self._history()
            with self.clock.step("orders"):
                self._orders()
            with self.clock.step("settlement accounts"):
                self._accounts()
            self.clock.log("  rebuilding indexes and foreign keys …")
            start = time.perf_counter()
        self.report.seconds["indexes"] = round(time.perf_counter() - start, 2)
        self.clock.log(f"  indexes: {self.report.seconds['indexes']:.1f} s")
        for model in (Retailer, SettlementAccount, Order, OrderLine):
            _reset_sequence(self.cursor, model)
        self.cursor.execute("ANALYZE " + ", ".join(m._meta.db_table for m in self.BIG))
        with self.clock.step("points"):
            self._points()
        with self.clock.step("supplies and published run"):
            self._supplies()
        with self.clock.step("visit plan"):
            self.count("visit plan entries", visit_plan_generate(cycle=self.current))

    # --- master data ----------------------------------------------------------------------

    def _brands(self) -> None:
        seed_brands(DemoContext(password=self.password, today=self.today, log=lambda _m: None))
        codes = [row[0] for row in DEMO_BRANDS]
        by_code = {b.code: b for b in Brand.objects.filter(code__in=codes)}
        self.brands = [by_code[code] for code in codes]

    def _territory(self) -> None:
        rng, n = self.rng, self.n
        sizes: list[int] = []
        total = 0
        while total < n:
            size = int(rng.integers(ROUTE_SIZES[0], ROUTE_SIZES[1] + 1))
            sizes.append(size)
            total += size
        sizes[-1] -= total - n
        self.route_sizes = np.array(sizes, dtype=np.int64)
        routes = len(sizes)
        districts = max(1, round(n / DISTRICT_SIZE))
        district_of_route = np.arange(routes) * districts // routes
        branch = Branch.objects.create(code=BRANCH_CODE, name=BRANCH_NAME)
        hashed = make_password(self.password)
        users = [
            User(
                username=ADMIN_USERNAME,
                password=hashed,
                role=Role.ADMIN,
                full_name="省管理员",
                is_staff=True,
            )
        ]
        supervisors = [
            User(
                username=f"{USER_PREFIX}sup-{d + 1:03d}",
                password=hashed,
                role=Role.SUPERVISOR,
                full_name=f"第{d + 1}辖区主管",
            )
            for d in range(districts)
        ]
        users += supervisors
        District.objects.bulk_create(
            District(
                branch=branch,
                code=f"{BRANCH_CODE}-{d + 1:03d}",
                name=f"第{d + 1}辖区",
                supervisor=None,
            )
            for d in range(districts)
        )
        district_ids = list(
            District.objects.filter(branch=branch).order_by("code").values_list("pk", flat=True)
        )
        # Routes of a district in groups of five, one manager per group, Monday to Friday.
        local = np.zeros(routes, dtype=np.int64)
        for d in range(districts):
            members = np.flatnonzero(district_of_route == d)
            local[members] = np.arange(len(members))
        managers: list[User] = []
        manager_of_route = np.zeros(routes, dtype=np.int64)
        key_to_index: dict[tuple[int, int], int] = {}
        for r in range(routes):
            key = (int(district_of_route[r]), int(local[r]) // ROUTES_PER_MANAGER)
            if key not in key_to_index:
                key_to_index[key] = len(managers)
                managers.append(
                    User(
                        username=f"{USER_PREFIX}am-{key[0] + 1:03d}-{key[1] + 1:02d}",
                        password=hashed,
                        role=Role.ACCOUNT_MANAGER,
                        full_name=f"客户经理{key[0] + 1}-{key[1] + 1}",
                    )
                )
            manager_of_route[r] = key_to_index[key]
        User.objects.bulk_create(users + managers, batch_size=2000)
        user_ids = dict(
            User.objects.filter(username__startswith=USER_PREFIX).values_list("username", "pk")
        )
        for d, district_id in enumerate(district_ids):
            District.objects.filter(pk=district_id).update(
                supervisor_id=user_ids[supervisors[d].username]
            )
        manager_ids = [user_ids[m.username] for m in managers]
        weekday = local % ROUTES_PER_MANAGER
        Route.objects.bulk_create(
            (
                Route(
                    district_id=district_ids[int(district_of_route[r])],
                    code=f"R{int(local[r]) + 1:02d}",
                    name=f"第{int(district_of_route[r]) + 1}辖区{int(local[r]) + 1}线",
                    visit_weekday=int(weekday[r]),
                    delivery_weekday=(int(weekday[r]) + 1) % 7,
                    account_manager_id=manager_ids[int(manager_of_route[r])],
                )
                for r in range(routes)
            ),
            batch_size=2000,
        )
        route_rows = list(
            Route.objects.filter(district__branch=branch)
            .order_by("district__code", "code")
            .values_list("pk", "visit_weekday", "district_id")
        )
        # bulk_create kept the order of the list: ids ascending by (district, local index).
        route_rows.sort(key=lambda row: row[0])
        self.route_ids = np.array([row[0] for row in route_rows], dtype=np.int64)
        self.route_weekday = np.array([row[1] for row in route_rows], dtype=np.int64)
        self.route_district = district_of_route
        self.branch = branch
        self.district_count = districts
        self.supervisor = User.objects.get(username=supervisors[0].username)
        self.count("districts", districts)
        self.count("routes", routes)
        self.count("users", len(users) + len(managers))

    def _cycles(self) -> None:
        current = week_start(self.today)
        cycles = []
        for offset in range(-ORDER_CYCLES, 2):
            start = current + dt.timedelta(weeks=offset)
            status = (
                CycleStatus.CLOSED
                if offset < 0
                else CycleStatus.OPEN
                if offset == 0
                else CycleStatus.PLANNED
            )
            cycle, created = Cycle.objects.get_or_create(
                start_date=start,
                defaults={
                    "code": cycle_code(start),
                    "end_date": start + dt.timedelta(days=6),
                    "status": status,
                },
            )
            self.count("cycles", int(created))
            cycles.append(cycle)
        self.past = cycles[:ORDER_CYCLES]
        self.current = cycles[ORDER_CYCLES]

    # --- retailers and their history -------------------------------------------------------

    def _retailers(self) -> None:
        rng, n = self.rng, self.n
        first = _next_id(self.cursor, Retailer)
        ids = np.arange(first, first + n, dtype=np.int64)
        route_index = np.repeat(np.arange(len(self.route_sizes)), self.route_sizes)
        starts = np.cumsum(self.route_sizes) - self.route_sizes
        stop = np.arange(n) - np.repeat(starts, self.route_sizes) + 1
        star = rng.choice(6, size=n, p=STAR_WEIGHTS)
        status_draw = rng.random(n)
        status = np.where(
            status_draw < 0.006, "closed", np.where(status_draw < 0.010, "suspended", "active")
        )
        types = np.empty(n, dtype=object)
        integrity = np.empty(n, dtype=object)
        for s in range(6):
            members = np.flatnonzero(star == s)
            choices = np.array([str(t) for t in TYPES_BY_STAR[s]], dtype=object)
            types[members] = choices[rng.integers(0, len(choices), len(members))]
            letters = np.array(list(INTEGRITY_BY_STAR[s]), dtype=object)
            integrity[members] = letters[rng.integers(0, len(letters), len(members))]
        online = rng.random(n) < np.where(star >= 4, 0.10, 0.02)
        e_settlement = rng.random(n) < np.where(star <= 1, 0.75, 0.92)
        assistance = rng.random(n) < np.where(star <= 2, 0.20, 0.04)
        demonstration = rng.random(n) < 5 / 85
        standard = demonstration | (rng.random(n) < np.where(star >= 4, 0.25, 0.03))
        district = self.route_district[route_index]
        lat = 31.5 + (district % 10) * 0.5 + rng.random(n) * 0.4
        lon = 110.5 + (district // 10) * 0.6 + rng.random(n) * 0.5
        quarter = quarter_start(self.today)
        first_day = dt.date(2005, 1, 1)
        span = (quarter - dt.timedelta(days=30) - first_day).days
        opened = np.datetime64(first_day) + rng.integers(0, span, n).astype("timedelta64[D]")
        created = opened.astype("datetime64[us]") + rng.integers(8 * 3600, 18 * 3600, n).astype(
            "timedelta64[s]"
        )
        updated = self.now64 - rng.integers(0, 90 * 86400 * 10**6, n).astype("timedelta64[us]")
        surnames, given = np.array(list(SURNAMES)), np.array(list(GIVEN))
        owner = np.char.add(
            surnames[rng.integers(0, len(surnames), n)], given[rng.integers(0, len(given), n)]
        )
        two = rng.random(n) < 0.6
        owner = np.where(
            two, np.char.add(owner, given[rng.integers(0, len(given), n)]), owner
        ).tolist()
        words = np.array(SHOP_WORDS)
        suffix = np.array([NAME_SUFFIX[BusinessType(t)] for t in types.tolist()])
        shop = np.where(
            rng.random(n) < 0.7,
            words[rng.integers(0, len(words), n)],
            np.char.add(np.array([o[0] for o in owner]), "记"),
        )
        name = np.char.add(shop, suffix).tolist()
        streets = np.array(STREETS)
        address = [
            f"第{d + 1}辖区{s}{h}号"
            for d, s, h in zip(
                district.tolist(),
                streets[rng.integers(0, len(streets), n)].tolist(),
                rng.integers(1, 900, n).tolist(),
                strict=True,
            )
        ]
        phone = [
            f"1{p}{q:09d}"
            for p, q in zip(
                rng.integers(3, 10, n).tolist(), rng.integers(0, 10**9, n).tolist(), strict=True
            )
        ]
        licence = [f"{LICENCE_PREFIX}{i:010d}" for i in range(1, n + 1)]
        bools = np.array(["f", "t"])
        star_text = np.where(star == 0, "\\N", star.astype(str)).tolist()
        columns = (
            "id",
            "licence_number",
            "name",
            "owner_name",
            "phone",
            "address",
            "route_id",
            "stop_order",
            "star",
            "business_type",
            "integrity_level",
            "status",
            "ordering_channel",
            "payment_method",
            "needs_assistance",
            "is_standard_store",
            "is_demonstration_store",
            "latitude",
            "longitude",
            "opened_on",
            "created_at",
            "updated_at",
        )
        rows = zip(
            ids.tolist(),
            licence,
            name,
            owner,
            phone,
            address,
            self.route_ids[route_index].tolist(),
            stop.tolist(),
            star_text,
            types.tolist(),
            integrity.tolist(),
            status.tolist(),
            np.where(online, "online", "phone").tolist(),
            np.where(e_settlement, "e_settlement", "cash").tolist(),
            bools[assistance.astype(int)].tolist(),
            bools[standard.astype(int)].tolist(),
            bools[demonstration.astype(int)].tolist(),
            [f"{v:.6f}" for v in lat.tolist()],
            [f"{v:.6f}" for v in lon.tolist()],
            np.datetime_as_string(opened).tolist(),
            _utc_strings(created),
            _utc_strings(updated),
            strict=True,
        )
        _copy(self.cursor, Retailer, columns, _text("\t".join(["%s"] * len(columns)) + "\n", rows))
        self.ids, self.star, self.status, self.route_index = ids, star, status, route_index
        self.opened, self.online, self.e_settlement = opened, online, e_settlement
        self.licence, self.owner = licence, owner
        self.count("retailers", n)

    def _history(self) -> None:
        rng, n = self.rng, self.n
        quarter = np.datetime64(quarter_start(self.today))
        today = np.datetime64(self.today)
        created = _utc_strings(np.repeat(self.now64, 1))[0]
        # Status: active from the licence date; closures and suspensions in the last 60 days
        # (after the quarter start where the quarter is old enough: "as of" must tell).
        left = self.status != "active"
        window = max(1, min(60, int((today - quarter).astype(int)) - 1))
        change_day = today - rng.integers(1, window + 1, self.n).astype("timedelta64[D]")
        self.left_on = np.where(left, change_day, np.datetime64("9999-12-31"))
        opened = np.datetime_as_string(self.opened).tolist()
        ids = self.ids.tolist()
        joined = [(i, "active", d, "入网", created) for i, d in zip(ids, opened, strict=True)]
        gone = [
            (i, s, d, "停业" if s == "closed" else "暂停", created)
            for i, s, d in zip(
                self.ids[left].tolist(),
                self.status[left].tolist(),
                np.datetime_as_string(change_day[left]).tolist(),
                strict=True,
            )
        ]
        template = "%s\t%s\t%s\t%s\t\\N\t%s\n"
        columns = ("retailer_id", "status", "effective_from", "reason", "changed_by_id")
        _copy(
            self.cursor,
            StatusChange,
            (*columns, "created_at"),
            _text(template, joined + gone),
        )
        self.count("status changes", len(joined) + len(gone))
        # Stars: the first rating from the licence date; 15% re-rated by one at a day
        # between then and today.
        moved = (rng.random(n) < 0.15) & (self.star > 0)
        earlier = np.clip(self.star + rng.choice((-1, 1), n), 1, 5)
        first_star = np.where(moved, earlier, self.star)
        days = (today - self.opened).astype(int)
        rerated = (
            self.opened
            + (rng.random(n) * np.maximum(days - 1, 1)).astype("timedelta64[D]")
            + np.timedelta64(1, "D")
        )
        star_text = np.where(first_star == 0, "\\N", first_star.astype(str)).tolist()
        rows = [
            (i, s, d, "入网评定", created) for i, s, d in zip(ids, star_text, opened, strict=True)
        ]
        rows += [
            (i, str(s), d, "季度复评", created)
            for i, s, d in zip(
                self.ids[moved].tolist(),
                self.star[moved].tolist(),
                np.datetime_as_string(rerated[moved]).tolist(),
                strict=True,
            )
        ]
        columns = ("retailer_id", "star", "effective_from", "reason", "changed_by_id")
        _copy(self.cursor, StarChange, (*columns, "created_at"), _text(template, rows))
        self.count("star changes", len(rows))
        # The account numbers go to the encryption workers now; written after the orders.
        e_idx = np.flatnonzero(self.e_settlement)
        self.account_numbers = [
            f"6{v:018d}" for v in rng.integers(10**17, 10**18, len(e_idx)).tolist()
        ]
        key = settings.FIELD_ENCRYPTION_KEY
        step = 20_000
        self.encrypted: list[Future] = [
            self.pool.submit(_encrypt_chunk, key, self.account_numbers[i : i + step])
            for i in range(0, len(self.account_numbers), step)
        ]
        self.e_idx = e_idx

    def _accounts(self) -> None:
        rng = self.rng
        e_idx = self.e_idx
        m = len(e_idx)
        encrypted = [token for future in self.encrypted for token in future.result()]
        first = _next_id(self.cursor, SettlementAccount)
        banks = np.array(BANKS)[rng.integers(0, len(BANKS), m)].tolist()
        # Balances around the usual order (a quarter of the retailers fall short of it).
        typical = self.spend[e_idx]
        balance = (typical * rng.lognormal(0.35, 0.6, m)).astype(np.int64)
        as_of = _utc_strings(np.repeat(self.now64 - np.timedelta64(3, "h"), 1))[0]
        status = np.where(rng.random(m) < 0.01, "suspended", "active").tolist()
        opened = np.datetime_as_string(
            self.opened[e_idx] + rng.integers(0, 365, m).astype("timedelta64[D]")
        ).tolist()
        columns = (
            "id",
            "retailer_id",
            "reference",
            "bank_name",
            "account_holder",
            "account_number",
            "account_last4",
            "status",
            "balance",
            "balance_as_of",
            "opened_on",
            "updated_at",
        )
        licence, owner = self.licence, self.owner
        rows = (
            (
                first + j,
                self.ids[i],
                f"SA{licence[i]}",
                banks[j],
                owner[i],
                encrypted[j],
                self.account_numbers[j][-4:],
                status[j],
                _cents_one(int(balance[j])),
                as_of,
                opened[j],
                as_of,
            )
            for j, i in enumerate(e_idx.tolist())
        )
        _copy(
            self.cursor,
            SettlementAccount,
            columns,
            _text("\t".join(["%s"] * len(columns)) + "\n", rows),
        )
        self.count("settlement accounts", m)

    # --- orders ------------------------------------------------------------------------------

    def _orders(self) -> None:
        rng, n = self.rng, self.n
        brands = self.brands
        b = len(brands)
        list_cents = np.array([int(br.list_price * 100) for br in brands], dtype=np.int64)
        wholesale_cents = np.array([int(br.wholesale_price * 100) for br in brands], dtype=np.int64)
        brand_ids = [br.pk for br in brands]
        list_text = [str(br.list_price) for br in brands]
        wholesale_text = [str(br.wholesale_price) for br in brands]
        # Line text per (brand, online): "brand\tcartons\tunit\twholesale".
        steps = np.array([s for s in range(1, b) if np.gcd(s, b) == 1], dtype=np.int64)
        lam = np.array(CARTONS_BY_STAR)[self.star]
        order_id = _next_id(self.cursor, Order)
        line_id = _next_id(self.cursor, OrderLine)
        spend = np.zeros(n, dtype=np.int64)
        order_columns = (
            "id",
            "retailer_id",
            "cycle_id",
            "channel",
            "status",
            "ordered_at",
            "total_amount",
            "rebate_amount",
            "created_at",
            "updated_at",
        )
        for cycle in self.past:
            start = np.datetime64(cycle.start_date)
            ordering = (rng.random(n) < ORDERING_SHARE) & (self.left_on > start)
            who = np.flatnonzero(ordering)
            k = len(who)
            ids = np.arange(order_id, order_id + k, dtype=np.int64)
            order_id += k
            lines = np.clip(1 + rng.poisson(4, k), 1, 12)
            owner = np.repeat(np.arange(k), lines)
            t = len(owner)
            offsets = np.cumsum(lines) - lines
            j = np.arange(t) - np.repeat(offsets, lines)
            first_brand = rng.integers(0, b, k)
            step = steps[rng.integers(0, len(steps), k)]
            brand = (first_brand[owner] + j * step[owner]) % b
            cartons = 1 + rng.poisson(lam[who][owner])
            online = self.online[who]
            line_online = online[owner]
            unit = np.where(line_online, wholesale_cents[brand], list_cents[brand])
            total = np.bincount(owner, weights=cartons * unit, minlength=k).astype(np.int64)
            rebate = np.bincount(
                owner,
                weights=np.where(line_online, 0, cartons * (list_cents - wholesale_cents)[brand]),
                minlength=k,
            ).astype(np.int64)
            spend[who] += total
            channel = np.where(
                online, "online", np.where(rng.random(k) < 0.1, "visit", "phone")
            ).tolist()
            paid = rng.random(k) < 0.96
            status = np.where(
                self.e_settlement[who],
                np.where(paid, OrderStatus.PAID.value, OrderStatus.PAYMENT_FAILED.value),
                OrderStatus.PLACED.value,
            ).tolist()
            day = _midnight_utc(cycle.start_date) + (
                self.route_weekday[self.route_index[who]] * 86400
                + rng.integers(8 * 3600, 17 * 3600, k)
            ).astype("timedelta64[s]")
            stamps = _utc_strings(day)
            rows = zip(
                ids.tolist(),
                self.ids[who].tolist(),
                [cycle.pk] * k,
                channel,
                status,
                stamps,
                _cents(total),
                _cents(rebate),
                stamps,
                stamps,
                strict=True,
            )
            _copy(self.cursor, Order, order_columns, _text("%s\t" * 9 + "%s\n", rows))
            priced = [
                [f"{brand_ids[x]}\t%s\t{list_text[x]}\t{wholesale_text[x]}\n" for x in range(b)],
                [
                    f"{brand_ids[x]}\t%s\t{wholesale_text[x]}\t{wholesale_text[x]}\n"
                    for x in range(b)
                ],
            ]
            line_ids = np.arange(line_id, line_id + t, dtype=np.int64)
            line_id += t
            self._copy_lines(
                line_ids, ids[owner], brand, cartons, line_online.astype(np.int64), priced
            )
            self.count("orders", k)
            self.count("order lines", t)
            del day, stamps, owner, brand, cartons, unit
        self.spend = spend // ORDER_CYCLES

    def _copy_lines(self, ids, orders, brand, cartons, online, priced) -> None:
        def chunks() -> Iterator[str]:
            for start in range(0, len(ids), CHUNK_ROWS):
                stop = start + CHUNK_ROWS
                yield "".join(
                    [
                        f"{i}\t{o}\t" + priced[on][br] % c
                        for i, o, br, c, on in zip(
                            ids[start:stop].tolist(),
                            orders[start:stop].tolist(),
                            brand[start:stop].tolist(),
                            cartons[start:stop].tolist(),
                            online[start:stop].tolist(),
                            strict=True,
                        )
                    ]
                )

        _copy(
            self.cursor,
            OrderLine,
            ("id", "order_id", "brand_id", "cartons", "unit_price", "wholesale_price"),
            chunks(),
        )

    # --- jobs --------------------------------------------------------------------------------

    def _points(self) -> None:
        for cycle in self.past:
            computation = allocation_services.points_compute(cycle=cycle)
            self.count("points entries", computation.retailers)

    def _supplies(self) -> None:
        scale = self.n / 310
        brands = {b.code: b for b in self.brands}
        supplies = []
        for code, quantity, unit, min_star, caps, minimum in SUPPLIES:
            units = max(1, round(quantity * scale / unit))
            supplies.append(
                allocation_services.supply_create(
                    branch=self.branch,
                    cycle=self.current,
                    brand=brands[code],
                    params=allocation_services.SupplyParams(
                        quantity=units * unit,
                        unit=unit,
                        min_star=min_star,
                        caps=dict(zip((5, 4, 3, 2, 1), caps, strict=True)),
                        minimum=minimum,
                        violation_cycles=3,
                    ),
                    by=self.supervisor,
                )
            )
        self.count("scarce supplies", len(supplies))
        run, _created = allocation_services.allocation_run_request(
            supply=supplies[0], by=self.supervisor, enqueue=False
        )
        allocation_services.allocation_run_compute(run_id=run.pk)
        run.refresh_from_db()
        if run.status != RunStatus.DRAFT:
            raise ProvinceError(f"The allocation run did not compute: {run.error}")
        allocation_services.allocation_run_approve(run=run, by=self.supervisor)
        allocation_services.allocation_run_publish(run=run, by=self.supervisor)
        self.count("allocation lines", run.retailers)


def _cents_one(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


__all__ = [
    "ADMIN_USERNAME",
    "BRANCH_CODE",
    "LICENCE_PREFIX",
    "USER_PREFIX",
    "ProvinceError",
    "Report",
    "generate",
    "province_branch",
    "province_retailers",
]
