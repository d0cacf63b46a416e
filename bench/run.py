"""Province-scale benchmarks (issue 7): ``make bench`` runs ``python -m bench.run``.

On PostgreSQL, builds (``manage.py generate_province``) or reuses the data set in its own
database, then times each job next to its floor (the bare database work it cannot beat),
both measured here, in this run, on the same data, interleaved (floor, job, floor, job, …)
so that a noisy neighbour slows both alike. Each figure is the median of ``BENCH_REPEAT``
runs (3 at full scale); every run's time is kept in the results as well.

Environment:

- ``BENCH_SCALE``: ``full`` (500,000 retailers; writes ``bench/results.json`` and
  ``BENCHMARKS.md``) or ``small`` (5,000 retailers; checks that every job still produces
  what it must, writes ``bench/results-small.json`` and ``bench/BENCHMARKS-small.md``, both
  git-ignored, and fails on a wrong result, never on a slow one). ``BENCH_RETAILERS``
  overrides the size.
- ``BENCH_DB``: the database (default ``territory_bench``, or ``territory_bench_small``);
  ``BENCH_DATABASE_URL`` the server (default ``postgres://postgres@127.0.0.1:5432``).
  A database holding a data set of another size is refused unless ``BENCH_REBUILD=1``, which
  drops and rebuilds it.
- ``BENCH_REPEAT`` (3 full, 1 small), ``BENCH_HTTP_SECONDS`` (20 full, 3 small),
  ``BENCH_CONNECTIONS`` (8), ``BENCH_WORKERS`` (gunicorn workers, 2 × cores + 1),
  ``BENCH_PORT`` (gunicorn's port; default a free one).

The HTTP figures run against gunicorn on a free loopback port (``config.settings.base``
with ``DEBUG`` off, throttles opened wide), with ``wrk`` for the concurrent list requests.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SMALL, FULL = "small", "full"


# --- configuration (read before Django starts) ------------------------------------------------


@dataclass(frozen=True)
class Config:
    scale: str
    retailers: int
    database: str
    server_url: str
    repeat: int
    http_seconds: int
    connections: int
    workers: int
    rebuild: bool

    @property
    def database_url(self) -> str:
        return f"{self.server_url.rstrip('/')}/{self.database}"

    @property
    def results_path(self) -> Path:
        name = "results.json" if self.scale == FULL else "results-small.json"
        return ROOT / "bench" / name

    @property
    def report_path(self) -> Path:
        return ROOT / ("BENCHMARKS.md" if self.scale == FULL else "bench/BENCHMARKS-small.md")


def config_from_env() -> Config:
    scale = os.environ.get("BENCH_SCALE", FULL)
    if scale not in (SMALL, FULL):
        raise SystemExit(f"BENCH_SCALE must be {SMALL} or {FULL}, not {scale!r}")
    full = scale == FULL
    cores = os.cpu_count() or 2
    return Config(
        scale=scale,
        retailers=int(os.environ.get("BENCH_RETAILERS", 500_000 if full else 5_000)),
        database=os.environ.get("BENCH_DB", "territory_bench" if full else "territory_bench_small"),
        server_url=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432"),
        repeat=int(os.environ.get("BENCH_REPEAT", 3 if full else 1)),
        http_seconds=int(os.environ.get("BENCH_HTTP_SECONDS", 20 if full else 3)),
        connections=int(os.environ.get("BENCH_CONNECTIONS", 8)),
        workers=int(os.environ.get("BENCH_WORKERS", 2 * cores + 1)),
        rebuild=os.environ.get("BENCH_REBUILD", "") == "1",
    )


def _server_connection(config: Config):
    import psycopg2

    parts = urlsplit(config.server_url)
    conn = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
    )
    conn.autocommit = True
    return conn


def ensure_database(config: Config, *, drop: bool = False) -> bool:
    """Create the bench database if it is missing (or ``drop`` it first); True if created."""
    conn = _server_connection(config)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config.database])
            exists = cursor.fetchone() is not None
            quoted = '"' + config.database.replace('"', '""') + '"'
            if exists and drop:
                cursor.execute(f"DROP DATABASE {quoted} WITH (FORCE)")
                exists = False
            if not exists:
                cursor.execute(f"CREATE DATABASE {quoted}")
                return True
    finally:
        conn.close()
    return False


# --- results ----------------------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    n: int
    samples: list[float]
    floor_samples: list[float] = field(default_factory=list)
    latency_ms: dict[str, float] = field(default_factory=dict)
    target: str = ""
    met: bool | None = None
    floor: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return statistics.median(self.samples)

    @property
    def floor_seconds(self) -> float | None:
        return statistics.median(self.floor_samples) if self.floor_samples else None

    @property
    def ratio(self) -> float | None:
        floor = self.floor_seconds
        return self.seconds / floor if floor else None

    def as_json(self) -> dict[str, object]:
        floor, ratio = self.floor_seconds, self.ratio
        data: dict[str, object] = {
            "seconds": round(self.seconds, 4),
            "floor_seconds": None if floor is None else round(floor, 4),
            "ratio": None if ratio is None else round(ratio, 2),
            "n": self.n,
        }
        for key, value in self.latency_ms.items():
            data[key] = round(value, 2)
        data["samples"] = [round(s, 4) for s in self.samples]
        if self.floor_samples:
            data["floor_samples"] = [round(s, 4) for s in self.floor_samples]
        data["target"] = self.target
        data["met"] = self.met
        data.update(self.extra)
        return data


class CheckFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def percentiles(samples_s: list[float]) -> dict[str, float]:
    ordered = sorted(samples_s)

    def at(p: float) -> float:
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[index] * 1000

    return {"p50_ms": at(50), "p95_ms": at(95), "p99_ms": at(99)}


# --- the benchmark ------------------------------------------------------------------------------


class Bench:
    def __init__(self, config: Config) -> None:
        from django.db import connection

        self.config = config
        self.connection = connection
        self.figures: list[Figure] = []
        self.notes: list[str] = []
        self.log = print

    # --- data set ---------------------------------------------------------------------------

    def prepare(self) -> None:
        from django.core.management import call_command

        from visits import province

        call_command("migrate", verbosity=0)
        existing = province.province_retailers()
        if existing and existing != self.config.retailers:
            raise SystemExit(
                f"{self.config.database} holds {existing:,} generated retailers, not "
                f"{self.config.retailers:,}; set BENCH_REBUILD=1 to drop and rebuild it."
            )
        if existing:
            self.log(f"Reusing the data set in {self.config.database} ({existing:,} retailers).")
            self.generated = None
        else:
            self.log(f"Generating {self.config.retailers:,} retailers into {self.config.database}")
            seconds, report = timed(
                lambda: province.generate(retailers=self.config.retailers, log=self.log)
            )
            self.generated = report
            self.figures.append(
                Figure(
                    name="generate",
                    n=self.config.retailers,
                    samples=[seconds],
                    target="< 600 s at 500,000 retailers",
                    met=seconds < 600 if self.config.retailers >= 500_000 else None,
                    extra={"steps_seconds": report.seconds, "rows": report.counts},
                )
            )
        self._load_context()

    def _load_context(self) -> None:
        from allocation.models import PointsComputation, ScarceSupply
        from territory.models import Cycle
        from visits import province

        self.branch = province.province_branch()
        computed = list(
            PointsComputation.objects.select_related("cycle").order_by("cycle__start_date")
        )
        check(bool(computed), "the data set has no points")
        self.closed_cycle = computed[-1].cycle
        self.cycle = (
            Cycle.objects.filter(start_date__gt=self.closed_cycle.start_date)
            .order_by("start_date")
            .first()
        )
        check(self.cycle is not None, "the data set has no cycle after its last closed one")
        self.supplies = list(
            ScarceSupply.objects.filter(branch=self.branch, cycle=self.cycle).order_by("pk")
        )
        # Days of the current cycle: reminders are made on Monday for Tuesday's routes, and
        # Today is looked at on that Tuesday (its warnings and its plan).
        self.monday = self.cycle.start_date
        self.tuesday = self.monday + dt.timedelta(days=1)

    def sql(self, statement: str, params: list | None = None) -> list[tuple]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement, params or [])
            return cursor.fetchall() if cursor.description else []

    def interleave(self, job: Callable[[], float], floor: Callable[[], float]):
        jobs, floors = [], []
        for _ in range(self.config.repeat):
            floors.append(floor())
            jobs.append(job())
        return jobs, floors

    # --- 1. points ---------------------------------------------------------------------------

    def points_cycle(self) -> None:
        from allocation.models import PointsEntry
        from allocation.services import points_compute
        from settlement.models import COUNTED_ORDER_STATUSES, Order, OrderLine

        cycle = self.closed_cycle
        lines, orders = OrderLine._meta.db_table, Order._meta.db_table
        statuses = [str(s) for s in COUNTED_ORDER_STATUSES]
        n_lines = self.sql(
            f"SELECT count(*) FROM {lines} l JOIN {orders} o ON o.id = l.order_id"  # noqa: S608
            " WHERE o.cycle_id = %s",
            [cycle.pk],
        )[0][0]
        aggregate = (
            f"SELECT count(*) FROM (SELECT o.retailer_id, SUM(l.cartons)"  # noqa: S608
            f" FROM {lines} l JOIN {orders} o ON o.id = l.order_id"
            " WHERE o.cycle_id = %s AND o.status IN %s GROUP BY o.retailer_id) a"
        )

        def floor() -> float:
            seconds, rows = timed(lambda: self.sql(aggregate, [cycle.pk, tuple(statuses)]))
            self.floor_groups = rows[0][0]
            return seconds

        entries_table = PointsEntry._meta.db_table

        def job() -> float:
            # As the cycle-close job finds it: the cycle has no entries yet (removed untimed).
            self.sql(f"DELETE FROM {entries_table} WHERE cycle_id = %s", [cycle.pk])  # noqa: S608
            self.vacuum(entries_table)
            seconds, computation = timed(lambda: points_compute(cycle=cycle))
            self.points_retailers = computation.retailers
            return seconds

        jobs, floors = self.interleave(job, floor)
        entries = PointsEntry.objects.filter(cycle=cycle).count()
        check(
            entries == self.floor_groups, f"points: {entries} entries, expected {self.floor_groups}"
        )
        check(self.points_retailers == entries, "points: the computation's count is wrong")
        self.figures.append(
            Figure(
                name="points_cycle",
                n=n_lines,
                samples=jobs,
                floor_samples=floors,
                target="≤ 2 × floor",
                met=statistics.median(jobs) <= 2 * statistics.median(floors),
                floor="SELECT … SUM(cartons) … GROUP BY retailer over the cycle's counted lines",
                extra={"retailers": entries},
            )
        )

    # --- 2. allocation -----------------------------------------------------------------------

    def allocation_run(self) -> None:
        from allocation.models import AllocationLine, AllocationRun, PointsEntry, RunStatus
        from allocation.services import allocation_run_compute, allocation_run_request
        from retailers.models import Retailer, RetailerStatus
        from territory.models import District, Route

        supply = self.supplies[-1]  # every star, with a guaranteed minimum: two passes
        supervisor = self.branch.districts.order_by("code").first().supervisor
        table = AllocationLine._meta.db_table
        run_ids: list[int] = []

        def job() -> float:
            def work() -> AllocationRun:
                run, _created = allocation_run_request(supply=supply, by=supervisor, enqueue=False)
                allocation_run_compute(run_id=run.pk)
                run.refresh_from_db()
                return run

            seconds, run = timed(work)
            run_ids.append(run.pk)
            check(run.status == RunStatus.DRAFT, f"allocation: run ended {run.status}: {run.error}")
            return seconds

        r, ro, d = (
            Retailer._meta.db_table,
            Route._meta.db_table,
            District._meta.db_table,
        )
        pe = PointsEntry._meta.db_table
        inputs = (
            f"SELECT r.id, r.licence_number, r.star, r.route_id, COALESCE(pe.points, 0)"  # noqa: S608
            f" FROM {r} r JOIN {ro} ro ON ro.id = r.route_id JOIN {d} d ON d.id = ro.district_id"
            f" LEFT JOIN {pe} pe ON pe.retailer_id = r.id AND pe.cycle_id = %s"
            " WHERE d.branch_id = %s AND r.status = %s ORDER BY r.id"
        )
        # The COPY half of the floor writes the same rows into a table shaped like the lines
        # (same columns, indexes and constraints), emptied before each run.
        job()  # a first run, to copy its rows for the floor (not counted)
        buffer = io.StringIO()
        with self.connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY (SELECT * FROM {table} WHERE run_id = {run_ids[0]}) TO STDOUT",  # noqa: S608
                buffer,
            )
            cursor.execute("DROP TABLE IF EXISTS bench_floor_lines")
            cursor.execute(f"CREATE TABLE bench_floor_lines (LIKE {table} INCLUDING ALL)")
        text = buffer.getvalue()
        del buffer

        def floor() -> float:
            self.sql("TRUNCATE bench_floor_lines")
            start = time.perf_counter()
            rows = self.sql(inputs, [self.closed_cycle.pk, self.branch.pk, RetailerStatus.ACTIVE])
            with self.connection.cursor() as cursor:
                cursor.copy_expert("COPY bench_floor_lines FROM STDIN", io.StringIO(text))
            self.floor_rows = len(rows)
            return time.perf_counter() - start

        jobs, floors = self.interleave(job, floor)
        last = AllocationRun.objects.get(pk=run_ids[-1])
        lines = AllocationLine.objects.filter(run=last).count()
        active = Retailer.objects.filter(
            route__district__branch=self.branch, status=RetailerStatus.ACTIVE
        ).count()
        check(lines == active == self.floor_rows, f"allocation: {lines} lines for {active}")
        check(last.allocated + last.unallocated == last.quantity, "allocation: supply not shared")
        awarded = sum(AllocationLine.objects.filter(run=last).values_list("award", flat=True))
        check(awarded == last.allocated, "allocation: Σ award differs from the run's total")
        median = statistics.median(jobs)
        self.figures.append(
            Figure(
                name="allocation_run",
                n=lines,
                samples=jobs,
                floor_samples=floors,
                target="≤ 3 × floor and < 5 s",
                met=median <= 3 * statistics.median(floors) and median < 5,
                floor="raw SELECT of the inputs + COPY of as many line rows",
                extra={
                    "supply": f"{supply.brand.name}: {supply.quantity} cartons, unit "
                    f"{supply.unit}, minimum {supply.minimum}",
                    "eligible": last.eligible,
                },
            )
        )
        # Leave the data set as it was: the bench's runs go (the published one stays).
        with self.connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_floor_lines")
            cursor.execute(f"DELETE FROM {table} WHERE run_id = ANY(%s)", [run_ids])  # noqa: S608
        for run in AllocationRun.objects.filter(pk__in=run_ids):
            run.events.all().delete()
        AllocationRun.objects.filter(pk__in=run_ids).update(supersedes=None, superseded_by=None)
        AllocationRun.objects.filter(pk__in=run_ids).delete()
        self.vacuum(table)

    def vacuum(self, table: str) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {table}")

    # --- 5. visit plan -----------------------------------------------------------------------

    def plan_visits(self) -> None:
        from visits.models import VisitPlan
        from visits.services import visit_plan_generate

        table = VisitPlan._meta.db_table
        columns = (
            "cycle_id, retailer_id, sequence, day, account_manager_id, route_id, star,"
            " min_stay_minutes, source, created_at"
        )
        existing = VisitPlan.objects.filter(cycle=self.cycle).count()
        buffer = io.StringIO()
        with self.connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY (SELECT {columns} FROM {table} WHERE cycle_id = {self.cycle.pk})"  # noqa: S608
                " TO STDOUT",
                buffer,
            )
            cursor.execute("DROP TABLE IF EXISTS bench_floor_plan")
            cursor.execute(f"CREATE TABLE bench_floor_plan (LIKE {table} INCLUDING ALL)")
        text = buffer.getvalue()
        del buffer

        def clear() -> None:
            self.sql(f"DELETE FROM {table} WHERE cycle_id = %s", [self.cycle.pk])  # noqa: S608
            self.vacuum(table)

        def job() -> float:
            clear()
            seconds, created = timed(lambda: visit_plan_generate(cycle=self.cycle))
            self.plan_created = created
            return seconds

        def floor() -> float:
            self.sql("TRUNCATE bench_floor_plan")
            self.vacuum("bench_floor_plan")
            start = time.perf_counter()
            with self.connection.cursor() as cursor:
                cursor.copy_expert(
                    f"COPY bench_floor_plan ({columns}) FROM STDIN", io.StringIO(text)
                )
            return time.perf_counter() - start

        jobs, floors = self.interleave(job, floor)
        self.sql("DROP TABLE bench_floor_plan")
        check(self.plan_created > 0, "plan: nothing planned")
        check(
            self.plan_created == existing or existing == 0,
            f"plan: {self.plan_created} entries, the data set had {existing}",
        )
        self.figures.append(
            Figure(
                name="plan_visits",
                n=self.plan_created,
                samples=jobs,
                floor_samples=floors,
                target="≤ 3 × floor",
                met=statistics.median(jobs) <= 3 * statistics.median(floors),
                floor="COPY of as many plan rows into a table with the same indexes",
            )
        )

    # --- 6. reminders ------------------------------------------------------------------------

    def balance_reminders(self) -> None:
        from retailers.models import Retailer
        from settlement.models import BalanceReminder
        from settlement.services import balance_reminders_create

        order_date = self.tuesday
        on_day = Retailer.objects.filter(
            route__district__branch=self.branch, route__visit_weekday=order_date.weekday()
        ).count()
        table = BalanceReminder._meta.db_table

        def job() -> float:
            self.sql(
                f"DELETE FROM {table} WHERE cycle_id = %s AND order_date = %s",  # noqa: S608
                [self.cycle.pk, order_date],
            )
            self.vacuum(table)
            seconds, written = timed(lambda: balance_reminders_create(day=self.monday))
            self.reminders_written = written
            return seconds

        jobs = [job() for _ in range(self.config.repeat)]
        stored = BalanceReminder.objects.filter(cycle=self.cycle, order_date=order_date).count()
        check(self.reminders_written > 0, "reminders: none written")
        check(stored == self.reminders_written, "reminders: written and stored differ")
        self.figures.append(
            Figure(
                name="balance_reminders",
                n=on_day,
                samples=jobs,
                target="≤ 60 s",
                met=statistics.median(jobs) <= 60,
                extra={"reminders": stored},
            )
        )

    # --- 7. pages ----------------------------------------------------------------------------

    def pages(self) -> None:
        from django.test import Client

        from accounts.models import User
        from config.dates import quarter_start
        from retailers.models import Retailer, RetailerStatus
        from territory.models import District, Route
        from visits.models import VisitPlan

        count = 120 if self.config.scale == FULL else 30
        managers = list(
            User.objects.filter(
                pk__in=Route.objects.filter(district__branch=self.branch).values(
                    "account_manager_id"
                )
            ).order_by("username")
        )
        step = max(1, len(managers) // 20)
        managers = managers[::step][:20]
        samples, rows = [], []
        clients = []
        for manager in managers:
            client = Client()
            client.force_login(manager)
            clients.append((client, manager))
        url = f"/visits/today/?day={self.tuesday.isoformat()}"
        for client, _manager in clients:  # warm up each worker's caches once
            client.get(url)
        for i in range(count):
            client, manager = clients[i % len(clients)]
            seconds, response = timed(lambda client=client: client.get(url))
            check(response.status_code == 200, f"today: {response.status_code}")
            samples.append(seconds)
            rows.append(
                VisitPlan.objects.filter(account_manager=manager, day=self.tuesday).count()
                if i < len(clients)
                else rows[i % len(clients)]
            )
        check(max(rows) > 0, "today: the managers have no visits planned")
        latency = percentiles(samples)
        self.figures.append(
            Figure(
                name="today_page",
                n=round(statistics.mean(rows)),
                samples=[latency["p95_ms"] / 1000],
                latency_ms=latency,
                target="p95 ≤ 100 ms",
                met=latency["p95_ms"] <= 100,
                extra={"requests": count, "users": len(clients), "n_is": "visits on the page"},
            )
        )
        districts = list(District.objects.filter(branch=self.branch).order_by("code"))
        step = max(1, len(districts) // 10)
        districts = districts[::step][:10]
        summary_clients = []
        for district in districts:
            client = Client()
            client.force_login(district.supervisor)
            summary_clients.append((client, district))
        days = (self.tuesday, quarter_start(self.tuesday))
        samples = []
        for client, district in summary_clients:
            client.get(f"/retailers/summary/?district={district.pk}")
        for i in range(count):
            client, district = summary_clients[i % len(summary_clients)]
            day = days[(i // len(summary_clients)) % 2]
            url = f"/retailers/summary/?district={district.pk}&as_of={day.isoformat()}"
            seconds, response = timed(lambda client=client, url=url: client.get(url))
            check(response.status_code == 200, f"summary: {response.status_code}")
            samples.append(seconds)
        size = round(
            statistics.mean(
                Retailer.objects.filter(route__district=d, status=RetailerStatus.ACTIVE).count()
                for d in districts
            )
        )
        latency = percentiles(samples)
        self.figures.append(
            Figure(
                name="district_summary_page",
                n=size,
                samples=[latency["p95_ms"] / 1000],
                latency_ms=latency,
                target="p95 ≤ 100 ms",
                met=latency["p95_ms"] <= 100,
                extra={
                    "requests": count,
                    "users": len(summary_clients),
                    "n_is": "retailers in the district",
                },
            )
        )

    # --- HTTP: gunicorn ---------------------------------------------------------------------

    def start_server(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", int(os.environ.get("BENCH_PORT", 0))))
            self.port = probe.getsockname()[1]
        env = {
            **os.environ,
            "DATABASE_URL": self.config.database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            # Throttling still runs on every request; only its limits are out of reach.
            "API_THROTTLE_USER": "100000000/minute",
            "API_THROTTLE_EXPORT": "100000/hour",
        }
        for name in ("REDIS_URL", "CELERY_BROKER_URL"):
            env.pop(name, None)
        self.server_log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop_server
            prefix="bench-gunicorn-", suffix=".log", delete=False
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.config.workers),
            "--timeout",
            "900",
            "--log-level",
            "warning",
        ]
        self.server = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=ROOT,
            env=env,
            stdout=self.server_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.base_url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base_url}/health/", timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise CheckFailed("gunicorn did not answer; see " + self.server_log.name)
        # Each worker answers once before anything is timed (imports, first connection).
        for _ in range(self.config.workers * 3):
            urllib.request.urlopen(f"{self.base_url}/health/", timeout=5).read()  # noqa: S310

    def stop_server(self) -> None:
        import signal

        if getattr(self, "server", None) is None:
            return
        os.killpg(self.server.pid, signal.SIGTERM)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()
        self.server = None
        self.server_log.close()

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.server.pid}/task/{self.server.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    @staticmethod
    def rss_mb(pid: int) -> float:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def token(self, username: str) -> str:
        from accounts.models import User
        from accounts.services import api_token_create

        return api_token_create(user=User.objects.get(username=username), name="bench")[1]

    def get_json(self, path: str, token: str) -> dict:
        request = urllib.request.Request(  # noqa: S310 - loopback only
            self.base_url + path, headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            check(response.status == 200, f"GET {path}: {response.status}")
            return json.loads(response.read())

    # --- 3. export ---------------------------------------------------------------------------

    def api_export(self) -> None:
        from retailers.models import Retailer
        from settlement.models import SettlementAccount
        from territory.models import District, Route
        from visits import province

        token = self.token(province.ADMIN_USERNAME)
        url = f"{self.base_url}/api/v1/retailers/export/?format=ndjson"
        total = Retailer.objects.count()
        pids = self.worker_pids()
        baseline = {pid: self.rss_mb(pid) for pid in pids}
        peak = dict(baseline)
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.is_set():
                for pid in pids:
                    peak[pid] = max(peak[pid], self.rss_mb(pid))
                time.sleep(0.02)

        def job() -> float:
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
            start = time.perf_counter()
            lines, size, first, last = 0, 0, b"", b""
            with urllib.request.urlopen(request, timeout=900) as response:  # noqa: S310
                check(response.status == 200, f"export: {response.status}")
                while chunk := response.read(1 << 16):
                    lines += chunk.count(b"\n")
                    size += len(chunk)
                    if not first:
                        first = chunk.split(b"\n", 1)[0]
                    last = (last + chunk)[-4096:]
            seconds = time.perf_counter() - start
            self.export_lines, self.export_bytes = lines, size
            self.export_ends = (first, last.rstrip(b"\n").rsplit(b"\n", 1)[-1])
            return seconds

        r, ro, d = Retailer._meta.db_table, Route._meta.db_table, District._meta.db_table
        sa = SettlementAccount._meta.db_table
        columns = (
            "r.id, r.licence_number, r.name, r.owner_name, r.phone, r.address, r.route_id,"
            " ro.code, ro.district_id, d.code, r.stop_order, r.star, r.business_type,"
            " r.integrity_level, r.status, r.ordering_channel, r.payment_method,"
            " r.needs_assistance, r.is_standard_store, r.is_demonstration_store, r.latitude,"
            " r.longitude, r.opened_on, r.created_at, r.updated_at, sa.bank_name,"
            " sa.account_last4"
        )
        copy = (
            f"COPY (SELECT {columns} FROM {r} r JOIN {ro} ro ON ro.id = r.route_id"  # noqa: S608
            f" JOIN {d} d ON d.id = ro.district_id LEFT JOIN {sa} sa ON sa.retailer_id = r.id"
            " ORDER BY r.id) TO STDOUT"
        )

        class Sink:
            size = 0

            def write(self, data) -> int:
                Sink.size += len(data)
                return len(data)

        def floor() -> float:
            start = time.perf_counter()
            with self.connection.cursor() as cursor:
                cursor.copy_expert(copy, Sink())
            return time.perf_counter() - start

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            jobs, floors = self.interleave(job, floor)
        finally:
            sampling.set()
            sampler.join()
        check(self.export_lines == total, f"export: {self.export_lines} lines for {total}")
        for line in self.export_ends:
            item = json.loads(line)
            detail = self.get_json(f"/api/v1/retailers/{item['id']}/", token)
            check(item == detail, f"export: retailer {item['id']} differs from its detail")
        growth = max(peak[pid] - baseline[pid] for pid in pids)
        median = statistics.median(jobs)
        self.figures.append(
            Figure(
                name="api_export",
                n=self.export_lines,
                samples=jobs,
                floor_samples=floors,
                target="≤ 3 × floor, constant memory",
                met=median <= 3 * statistics.median(floors) and growth < 100,
                floor="COPY (SELECT the same columns … ORDER BY id) TO STDOUT",
                extra={
                    "bytes": self.export_bytes,
                    "worker_rss_growth_mb": round(growth, 1),
                    "worker_rss_mb": round(max(peak.values()), 1),
                },
            )
        )

    # --- 4. list -----------------------------------------------------------------------------

    def api_list(self) -> None:
        from django.core import signing
        from django.db import connection
        from django.db.models import Max, Min
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from config.api.pagination import CURSOR_SALT
        from retailers.models import Retailer
        from visits import province

        token = self.token(province.ADMIN_USERNAME)
        query = "status=active&star_min=4"
        first_id, last_id = (
            Retailer.objects.filter(licence_number__startswith=province.LICENCE_PREFIX)
            .aggregate(a=Min("id"), b=Max("id"))
            .values()
        )
        paths = [f"/api/v1/retailers/?{query}"]
        for share in (0.25, 0.5, 0.75, 0.9, 0.99):
            position = first_id + int((last_id - first_id) * share)
            cursor = signing.dumps({"o": ["id"], "r": False, "v": [position]}, salt=CURSOR_SALT)
            paths.append(f"/api/v1/retailers/?{query}&cursor={cursor}")
        # Every path answers a full page, and no page counts the table or skips by OFFSET.
        client = Client()
        for path in paths:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
            check(response.status_code == 200, f"list: {path} answered {response.status_code}")
            body = response.json()
            full = len(body["results"]) == 50 or (body["results"] and body["next"] is None)
            check(bool(full), f"list: {path} has {len(body['results'])} rows")
            text = " ".join(q["sql"].upper() for q in queries.captured_queries)
            check("COUNT(" not in text and "OFFSET" not in text, f"list: {path} counts or skips")
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
            listing.write("\n".join(paths) + "\n")
        env = {**os.environ, "WRK_TOKEN": token, "WRK_PATHS": listing.name}
        command = [
            shutil.which("wrk") or "wrk",
            "-t2",
            f"-c{self.config.connections}",
            f"-d{self.config.http_seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(ROOT / "bench" / "wrk_paths.lua"),
            self.base_url,
        ]
        # Warm every worker first (imports, translations, the prepared statements of each
        # shape): two seconds of the same load, not counted. The figure is the steady state.
        warm = [*command[:3], "-d2s", *command[4:]]
        subprocess.run(warm, env=env, capture_output=True, check=True)  # noqa: S603
        output = subprocess.run(  # noqa: S603 - our own command line
            command, env=env, capture_output=True, text=True, check=True
        ).stdout
        os.unlink(listing.name)
        line = next(x for x in output.splitlines() if x.startswith("WRK_JSON "))
        stats = json.loads(line.removeprefix("WRK_JSON "))
        check(stats["non_2xx"] == 0 and stats["socket_errors"] == 0, f"list: errors {stats}")
        latency = {
            "p50_ms": stats["p50_us"] / 1000,
            "p95_ms": stats["p95_us"] / 1000,
            "p99_ms": stats["p99_us"] / 1000,
        }
        self.figures.append(
            Figure(
                name="api_list",
                n=stats["requests"],
                samples=[latency["p95_ms"] / 1000],
                latency_ms=latency,
                target="p95 ≤ 50 ms, p99 ≤ 100 ms, no COUNT(*), no OFFSET",
                met=latency["p95_ms"] <= 50 and latency["p99_ms"] <= 100,
                extra={
                    "requests_per_second": round(
                        stats["requests"] / (stats["duration_us"] / 1e6), 1
                    ),
                    "connections": self.config.connections,
                    "gunicorn_workers": self.config.workers,
                    "seconds_of_load": self.config.http_seconds,
                    "paths": "first page and 5 deep pages (cursor at 25–99 %) of "
                    f"?{query}, 50 rows each",
                    "n_is": "requests",
                },
            )
        )


BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def machine(bench: Bench) -> dict[str, object]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = next(
        int(line.split()[1]) // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    settings = dict(
        bench.sql(
            "SELECT name, current_setting(name) FROM pg_settings WHERE name IN"
            " ('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather',"
            " 'max_wal_size', 'synchronous_commit')"
        )
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_mb": mem,
        "postgresql": bench.sql("SHOW server_version")[0][0],
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "os": platform.platform(),
        # Others' work on the same machine shows here (2 cores: 2.0 means both busy).
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


def command_line(config: Config) -> str:
    """The command, with the settings given in the environment (not the defaults)."""
    settings = [
        f"{name}={os.environ[name]}"
        for name in (
            "BENCH_DB",
            "BENCH_REPEAT",
            "BENCH_HTTP_SECONDS",
            "BENCH_CONNECTIONS",
            "BENCH_WORKERS",
            "BENCH_RETAILERS",
        )
        if os.environ.get(name)
    ]
    command = "make bench" if config.scale == FULL else "make bench BENCH_SCALE=small"
    return " ".join([*settings, command])


def write_results(bench: Bench, started: dt.datetime) -> None:
    config = bench.config
    meta = {
        "date": started.isoformat(timespec="seconds"),
        "command": command_line(config),
        "scale": config.scale,
        "retailers": config.retailers,
        "repeat": config.repeat,
        "statistic": f"median of {config.repeat} runs (latency: percentiles of all requests)",
        "machine": machine(bench),
    }
    data = {"meta": meta, "figures": {f.name: f.as_json() for f in bench.figures}}
    config.results_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    table = render_table(bench, meta)
    path = config.report_path
    if path.exists() and BEGIN in path.read_text():
        text = path.read_text()
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1] if END in rest else ""
        path.write_text(f"{head}{BEGIN}\n{table}{END}{tail}")
    else:
        path.write_text(f"# Benchmarks ({config.scale})\n\n{BEGIN}\n{table}{END}\n")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def render_table(bench: Bench, meta: dict) -> str:
    m = meta["machine"]
    pg = m["postgresql_settings"]
    lines = [
        f"Measured {meta['date']} with `{meta['command']}` on {m['cpu']}, {m['cores']} cores, "
        f"{m['ram_mb'] // 1024} GiB RAM; PostgreSQL {m['postgresql']} (shared_buffers "
        f"{pg.get('shared_buffers')}, work_mem {pg.get('work_mem')}, parallel workers per "
        f"gather {pg.get('max_parallel_workers_per_gather')}), Python {m['python']}. "
        f"{meta['retailers']:,} retailers; each time is the {meta['statistic']}. "
        f"Load average at the end: {' / '.join(map(str, m['load_average_at_end']))}.",
        "",
        "| figure | n | seconds | floor (s) | ratio | p50 / p95 / p99 (ms) | target | met |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for f in bench.figures:
        latency = (
            " / ".join(_fmt(f.latency_ms[k], 1) for k in ("p50_ms", "p95_ms", "p99_ms"))
            if f.latency_ms
            else ""
        )
        met = {True: "yes", False: "**no**", None: ""}[f.met]
        seconds = "" if f.latency_ms else _fmt(f.seconds)
        lines.append(
            f"| `{f.name}` | {f.n:,} | {seconds} | {_fmt(f.floor_seconds)} | "
            f"{_fmt(f.ratio)} | {latency} | {f.target} | {met} |"
        )
    lines += ["", "Floors:", ""]
    lines += [f"- `{f.name}`: {f.floor}" for f in bench.figures if f.floor]
    extras = []
    for f in bench.figures:
        shown = {k: v for k, v in f.extra.items() if k not in ("n_is",)}
        if shown:
            extras.append(f"- `{f.name}`: " + "; ".join(f"{k} {v}" for k, v in shown.items()))
    if extras:
        lines += ["", "Details:", "", *extras]
    return "\n".join(lines) + "\n"


STEPS = (
    "points_cycle",
    "allocation_run",
    "plan_visits",
    "balance_reminders",
    "pages",
)


def main() -> None:
    config = config_from_env()
    os.environ["DATABASE_URL"] = config.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    ensure_database(config, drop=config.rebuild)
    sys.path.insert(0, str(ROOT))
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    django.setup()
    from django.utils import timezone

    started = timezone.localtime()
    bench = Bench(config)
    only = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}
    failed: list[str] = []

    def step(name: str, work: Callable[[], None]) -> None:
        if only and name not in only:
            return
        bench.log(f"== {name}")
        start = time.perf_counter()
        try:
            work()
        except CheckFailed as exc:
            failed.append(f"{name}: {exc}")
            bench.log(f"   FAILED: {exc}")
        bench.log(f"   ({time.perf_counter() - start:.1f} s)")
        for figure in bench.figures:
            if figure.name.startswith(name.rstrip("s")) and not getattr(figure, "_shown", False):
                figure._shown = True  # type: ignore[attr-defined]
                bench.log(f"   {json.dumps(figure.as_json(), ensure_ascii=False)}")

    bench.prepare()
    for name in STEPS:
        step(name, getattr(bench, name))
    if not only or only & {"api_export", "api_list"}:
        bench.start_server()
        try:
            step("api_export", bench.api_export)
            step("api_list", bench.api_list)
        finally:
            bench.stop_server()
    for figure in bench.figures:
        if not getattr(figure, "_shown", False):
            bench.log(f"   {json.dumps(figure.as_json(), ensure_ascii=False)}")
    if not only:
        write_results(bench, started)
        bench.log(f"Wrote {config.results_path} and {config.report_path}")
    if failed:
        bench.log("Checks failed:\n  " + "\n  ".join(failed))
        raise SystemExit(1)
    bench.log(f"bench ({config.scale}): {len(bench.figures)} figures, all checks passed")


if __name__ == "__main__":
    main()
