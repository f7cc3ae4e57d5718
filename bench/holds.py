"""Stock-holds benchmark: reservations per second under 32 concurrent clients, on both databases.

Two measurements, each against a floor measured in the same run, on the same engine and the
same ``stock_levels`` rows:

1. **Service level.** ``C`` threads (32) each call :func:`reclaim.services.holds.place_hold`
   with a new unit of work from ``rt.uow()`` for every order: one transaction that reads the
   store's settings and the stock levels, plans the reservation, inserts the hold row
   (``ON CONFLICT DO NOTHING RETURNING id``), runs one conditional ``UPDATE`` per line (inside
   a savepoint when there are several) and commits. The **floor** is ``C`` threads that each run
   the same number of plain conditional UPDATEs, one per transaction, through the same engine
   (``UPDATE stock_levels SET reserved = reserved + 1 WHERE store_id = … AND warehouse = … AND
   sku = … AND on_hand - reserved >= 1``), on the first SKU row of the same orders.
2. **HTTP.** A real uvicorn server, in its own process, serves ``create_app(rt)`` plus one
   route that only this benchmark adds: ``POST /_bench/floor/{sku}``, which runs that same
   plain UPDATE in the threadpool (no authentication, no validation). A separate client
   process keeps ``C`` keep-alive connections busy with ``POST /api/v1/holds`` (a store API
   key, a JSON order) and with the floor route, in alternation. Reported against the HTTP
   floor and against the service-level figures.

Cases: ``hot`` (every order reserves one unit of the same SKU, with stock for all),
``spread`` (orders of 1-3 SKUs drawn from 1,000, stock for all) and ``sellout`` (one SKU,
stock for half the orders: exactly half must get 201 and half 409). Floor and real runs
alternate (floor, real, floor, real, ...) after a warm-up of each; medians are reported.
Before every run the holds are deleted and ``reserved`` set back to 0 (untimed); after every
run the database is audited: the sum of ``reserved`` equals the units of the holds that
succeeded, no row has ``reserved > on_hand``, the hold rows match the answers (201 =
active, 409 = short) and, for ``sellout``, exactly ``min(stock, orders)`` succeeded.

Numbers only, no pass/fail exit code (team rule: no timed assertions). Usage::

    .venv/bin/python bench/holds.py                    # both databases, all cases (~10 min)
    .venv/bin/python bench/holds.py --quick            # smoke run, under a minute
    .venv/bin/python bench/holds.py --db postgresql --cases spread --json out.json

PostgreSQL: ``--pg`` (or ``RECLAIM_BENCH_PG``) names a server database to connect to; the
benchmark creates its own database ``reclaim_bench_holds`` there and drops it at the end.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest as ingest_bench  # the sibling benchmark: its helpers
from reclaim.adapters.db.tables import holds as holds_table
from reclaim.adapters.db.tables import stock_levels
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.stores import StoreSettings
from reclaim.services import holds
from reclaim.services.ports import WarehouseRow
from reclaim.services.stores import add_store

# wide tables in a log file too; a terminal keeps its own width
console = Console(width=None if sys.stdout.isatty() else 190)
PG_DEFAULT = os.environ.get("RECLAIM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
DB_NAME = "reclaim_bench_holds"
WAREHOUSE = "PAR"
HOT_SKU = "HOT-0001"
SELL_SKU = "SELL-0001"
PLENTY = 1_000_000_000  # units on hand where the case has "enough stock" (int4 holds it)
FLOOR_PATH = "/_bench/floor/{sku}"
FLOOR_SQL = text(
    "UPDATE stock_levels SET reserved = reserved + 1 "
    "WHERE store_id = :store AND warehouse = :warehouse AND sku = :sku "
    "AND on_hand - reserved >= 1"
)

Order = tuple[str, list[tuple[str, int]]]  # order id, (sku, quantity) lines


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    what: str
    sellout: bool = False  # stock for half the orders, else for all of them


CASES = {
    "hot": Case("hot", "1 SKU, 1 unit per order, stock for all"),
    "spread": Case("spread", "1-3 SKUs of N per order, 1 unit each, stock for all"),
    "sellout": Case("sellout", "1 SKU, 1 unit per order, stock for half", sellout=True),
}


def spread_sku(k: int) -> str:
    return f"SKU-{k:04d}"


def orders(case: str, n: int, tag: str, skus: int) -> list[Order]:
    """The ``n`` orders of run ``tag``: the same for the floor and the real run of a round."""
    rng = random.Random(f"{case}-{tag}")
    out: list[Order] = []
    for k in range(n):
        if case == "spread":
            picked = rng.sample(range(skus), rng.choice((1, 2, 3)))
            lines = [(spread_sku(s), 1) for s in picked]
        else:
            lines = [(SELL_SKU if case == "sellout" else HOT_SKU, 1)]
        out.append((f"{case}-{tag}-{k}", lines))
    return out


def stock_for(case: Case, n: int) -> int:
    return n // 2 if case.sellout else PLENTY


# -- the store, its stock, reset and audit --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shop:
    store_id: str
    api_key: str


def new_shop(rt: Runtime, skus: int) -> Shop:
    now = datetime.now(UTC)
    store = add_store(
        uow=rt.uow(),
        name="Nordwolle",
        platform="custom",
        currency="EUR",
        timezone="Europe/Paris",
        domain="nordwolle.example",
        webhook_secret="whsec_bench_holds_4a1f",
        settings=StoreSettings(),
        now=now - timedelta(days=1),
    )
    holds.import_warehouses(
        uow=rt.uow(),
        store_id=store.id,
        rows=[
            WarehouseRow(store.id, WAREHOUSE, "FR", None, "Europe/Paris", "14:00", "12345"),
        ],
        now=now,
    )
    changes = [holds.StockChange(WAREHOUSE, HOT_SKU, on_hand=PLENTY)]
    changes += [holds.StockChange(WAREHOUSE, SELL_SKU, on_hand=0)]
    changes += [holds.StockChange(WAREHOUSE, spread_sku(k), on_hand=PLENTY) for k in range(skus)]
    holds.update_stock(uow=rt.uow(), store_id=store.id, changes=changes, now=now)
    return Shop(store.id, store.api_key)


def autocommit(rt: Runtime, *sql: str) -> None:
    """Statements outside a transaction (VACUUM, checkpoints)."""
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for statement in sql:
                conn.exec_driver_sql(statement)
        return
    raw = rt.engine.raw_connection()  # pysqlite in autocommit mode: outside BEGIN IMMEDIATE
    try:
        for statement in sql:
            raw.driver_connection.execute(statement)  # type: ignore[union-attr]
    finally:
        raw.close()


def reset(rt: Runtime, shop: Shop, case: Case, n: int) -> None:
    """Untimed, before every run: no holds, nothing reserved, the case's stock on hand.

    Then what autovacuum and the checkpointer would keep up with in a steady state, so the
    dead row versions of one run do not slow the next (PostgreSQL: ``VACUUM``; SQLite: a WAL
    checkpoint).
    """
    with rt.engine.begin() as conn:
        conn.execute(holds_table.delete())
        conn.execute(stock_levels.update().where(stock_levels.c.reserved != 0).values(reserved=0))
        conn.execute(
            stock_levels.update()
            .where(stock_levels.c.store_id == shop.store_id, stock_levels.c.sku == SELL_SKU)
            .values(on_hand=stock_for(CASES["sellout"], n))
        )
    if rt.engine.dialect.name == "postgresql":
        autocommit(rt, "VACUUM (ANALYZE) holds, stock_levels")
    else:
        autocommit(rt, "PRAGMA wal_checkpoint(TRUNCATE)")


def audit(
    rt: Runtime, *, case: Case, kind: str, work: Sequence[Order], answers: Counter[str]
) -> list[str]:
    """What is wrong in the database after a run, given the answers the clients got."""
    with rt.engine.connect() as conn:
        reserved, oversold = conn.execute(
            text(
                "SELECT coalesce(sum(reserved), 0), "
                "coalesce(sum(CASE WHEN reserved > on_hand THEN 1 ELSE 0 END), 0) "
                "FROM stock_levels"
            )
        ).one()
        by_status = Counter(
            {
                str(s): int(c)
                for s, c in conn.execute(
                    select(holds_table.c.status, text("count(*)")).group_by(holds_table.c.status)
                )
            }
        )
        held_units = sum(
            int(line["quantity"])
            for (lines,) in conn.execute(
                select(holds_table.c.lines).where(holds_table.c.status == "active")
            )
            for line in lines
        )
    ok, refused = answers["201"], answers["409"]
    problems = []
    if ok + refused != len(work):
        other = {k: v for k, v in answers.items() if k not in ("201", "409")}
        problems.append(f"{len(work) - ok - refused} not answered 201/409: {other}")
    if oversold:
        problems.append(f"{oversold} rows oversold")
    expected_ok = min(stock_for(case, len(work)), len(work))
    if ok != expected_ok:
        problems.append(f"{ok} succeeded, {expected_ok} expected")
    if kind == "floor":
        if reserved != ok:
            problems.append(f"reserved {reserved} != {ok} UPDATEs that took a unit")
        if by_status:
            problems.append(f"hold rows after a floor run: {dict(by_status)}")
    else:
        if reserved != held_units:
            problems.append(f"reserved {reserved} != {held_units} units in active holds")
        if by_status["active"] != ok or by_status["short"] != refused:
            problems.append(f"holds {dict(by_status)} for {ok} × 201, {refused} × 409")
        if case.name != "spread" and reserved != ok:
            problems.append(f"reserved {reserved} != {ok} reservations")
    return problems


# -- measuring CPU -----------------------------------------------------------------------------


class PgBackends:
    """CPU of one database's PostgreSQL backends over a run, the short-lived ones included.

    A pool that closes its overflow connections makes PostgreSQL fork a backend for many
    requests (the "PG sessions" column), and a backend that has exited is gone from /proc;
    so /proc is scanned every 0.1 s and a backend's last reading is kept. One that exits
    loses at most its last 0.1 s. The scanning thread's own CPU is reported, so that it can
    be taken out of this process's figure.
    """

    def __init__(self, dbname: str | None, interval: float = 0.1) -> None:
        self.needle = f" {dbname} ".encode() if dbname else None
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.not_postgres: set[str] = set()
        self.own_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _scan(self, *, starting: bool = False) -> None:
        if self.needle is None:
            return
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or pid in self.not_postgres:
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"postgres" not in cmd:  # (a backend just forked still shows the server's)
                self.not_postgres.add(pid)
                continue
            if not (cmd.startswith(b"postgres: ") and self.needle in cmd + b" "):
                continue
            cpu = ingest_bench.cpu_seconds(int(pid))
            if cpu == cpu:  # not NaN: it was still there
                # a backend that started during the run counts from its fork
                self.first.setdefault(int(pid), cpu if starting else 0.0)
                self.last[int(pid)] = cpu

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            t = time.thread_time()
            self._scan()
            self.own_cpu += time.thread_time() - t

    def start(self) -> None:
        self._scan(starting=True)
        if self.needle is not None:
            self._thread.start()

    def stop(self) -> float:
        """CPU seconds the database's backends used since ``start``."""
        if self.needle is None:
            return 0.0
        self._stop.set()
        self._thread.join()
        self._scan()
        return sum(cpu - self.first[pid] for pid, cpu in self.last.items())


class CpuMeter:
    """CPU used between ``start`` and ``stop``: the application process (this one, or the
    server), the client process, the run's PostgreSQL backends, and the rest of the box
    (other engineers' work included)."""

    def __init__(self, app_pid: int | None, dbname: str | None) -> None:
        self.app_pid = app_pid
        self.pg = PgBackends(dbname)

    def _app(self) -> float:
        if self.app_pid is None:
            return time.process_time()
        return ingest_bench.cpu_seconds(self.app_pid)

    def start(self) -> None:
        self.pg.start()
        self.app0, self.box0 = self._app(), ingest_bench.machine_busy()

    def stop(self, elapsed: float, client_cpu: float = 0.0) -> dict[str, float]:
        app, box1 = self._app() - self.app0, ingest_bench.machine_busy()
        pg = self.pg.stop()
        if self.app_pid is None:  # the /proc scanner ran in this process
            app -= self.pg.own_cpu
        busy = (box1[0] - self.box0[0]) / os.sysconf("SC_CLK_TCK")
        return {
            "app": app,
            "pg": pg,
            "scanner": self.pg.own_cpu,
            "box_busy": (box1[0] - self.box0[0]) / max(1, box1[1] - self.box0[1]),
            "rest_cores": max(0.0, busy - app - pg - client_cpu - self.pg.own_cpu)
            / max(elapsed, 1e-9),
        }


# -- results ---------------------------------------------------------------------------------


@dataclass
class Run:
    db: str
    level: str  # service | http
    case: str
    kind: str  # floor | real
    round: int  # 0 = warm-up
    n: int
    lines: int  # UPDATEs the real code runs for these orders (the floor runs n)
    elapsed: float
    rate: float  # answered orders per second
    answers: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    app_cpu_ms: float  # the process running Reclaim (this one, or the server), per order
    client_cpu_ms: float  # HTTP: the load generator, per order
    pg_cpu_ms: float  # this run's PostgreSQL backends, per order
    pg_sessions: int  # PostgreSQL sessions opened during the run
    box_busy: float
    rest_cores: float
    problems: list[str]
    failures: list[str] = field(default_factory=list)


@dataclass
class Result:
    db: str
    level: str
    case: str
    runs: list[Run] = field(default_factory=list)

    def timed(self, kind: str) -> list[Run]:
        return [r for r in self.runs if r.kind == kind and r.round > 0]

    def median(self, kind: str, attr: str = "rate") -> float:
        values = [getattr(r, attr) for r in self.timed(kind)]
        return statistics.median(values) if values else float("nan")

    def ratio(self) -> float:
        return self.median("real") / self.median("floor")


def quantiles(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and the maximum, in milliseconds."""
    lat = sorted(latencies)
    if not lat:
        return float("nan"), float("nan"), float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return 1000 * lat[len(lat) // 2], 1000 * p99, 1000 * lat[-1]


def log_run(run: Run) -> None:
    label = "warm-up" if run.round == 0 else f"round {run.round}"
    check = "[green]audit ok" if not run.problems else f"[red]{'; '.join(run.problems)}"
    answers = " ".join(f"{k}×{v}" for k, v in sorted(run.answers.items()))
    console.print(
        f"  {run.db:10} {run.level:7} {run.case:7} {run.kind:5} {label:8} {run.rate:6.0f}/s"
        f"  p50 {run.p50_ms:6.1f} p99 {run.p99_ms:7.1f} max {run.max_ms:7.1f} ms"
        f"  CPU ms app {run.app_cpu_ms:.2f} pg {run.pg_cpu_ms:.2f}"
        f"  rest {run.rest_cores:.2f}  {answers}  {check}"
        + (f"  [red]{run.failures}" if run.failures else ""),
        soft_wrap=True,
    )


# -- service level -----------------------------------------------------------------------------


def drive(
    call: Callable[[Order], str], work: Sequence[Order], clients: int
) -> tuple[float, list[float], Counter[str], list[str]]:
    """``clients`` threads take the next order until none is left; returns the elapsed time,
    the latencies, the outcomes and the first failures."""
    cursor = iter(range(len(work)))
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    lats: list[list[float]] = [[] for _ in range(clients)]
    outs: list[Counter[str]] = [Counter() for _ in range(clients)]
    failures: list[str] = []

    def worker(me: int) -> None:
        mine, seen = lats[me], outs[me]
        start.wait()
        while True:
            with lock:
                k = next(cursor, None)
            if k is None:
                return
            t = time.perf_counter()
            try:
                outcome = call(work[k])
            except Exception as exc:  # counted and shown: the audit then fails the run
                outcome = type(exc).__name__
                if len(failures) < 3:
                    failures.append(f"{outcome}: {exc}"[:200])
            mine.append(time.perf_counter() - t)
            seen[outcome] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return elapsed, [x for lat in lats for x in lat], sum(outs, Counter()), failures


def service_calls(rt: Runtime, shop: Shop) -> dict[str, Callable[[Order], str]]:
    def real(order: Order) -> str:
        oid, items = order
        try:
            holds.place_hold(
                uow=rt.uow(),
                store_id=shop.store_id,
                order_external_id=oid,
                items=items,
                now=datetime.now(UTC),
            )
        except holds.OutOfStock:
            return "409"
        return "201"

    def floor(order: Order) -> str:
        _, items = order
        params = {"store": shop.store_id, "warehouse": WAREHOUSE, "sku": items[0][0]}
        with rt.engine.begin() as conn:
            taken = conn.execute(FLOOR_SQL, params).rowcount
        return "201" if taken else "409"

    return {"floor": floor, "real": real}


def bench_service(
    db: str,
    url: str,
    rt: Runtime,
    shop: Shop,
    case: Case,
    *,
    n: int,
    warm: int,
    rounds: int,
    clients: int,
    skus: int,
) -> Result:
    result = Result(db=db, level="service", case=case.name)
    calls = service_calls(rt, shop)
    dbname = DB_NAME if db == "postgresql" else None
    plan = [(0, k) for k in ("floor", "real")] + [
        (r, k) for r in range(1, rounds + 1) for k in ("floor", "real")
    ]
    for rnd, kind in plan:
        size = warm if rnd == 0 else n
        work = orders(case.name, size, f"s{rnd}", skus)
        reset(rt, shop, case, size)
        sessions0 = ingest_bench.pg_sessions(url) if dbname else 0
        meter = CpuMeter(None, dbname)
        meter.start()
        elapsed, lat, answers, failures = drive(calls[kind], work, clients)
        cpu = meter.stop(elapsed)
        sessions = ingest_bench.pg_sessions(url) - sessions0 if dbname else 0
        p50, p99, worst = quantiles(lat)
        run = Run(
            db=db,
            level="service",
            case=case.name,
            kind=kind,
            round=rnd,
            n=size,
            lines=sum(len(lines) for _, lines in work),
            elapsed=elapsed,
            rate=size / elapsed,
            answers=dict(answers),
            p50_ms=p50,
            p99_ms=p99,
            max_ms=worst,
            app_cpu_ms=1000 * cpu["app"] / size,
            client_cpu_ms=0.0,
            pg_cpu_ms=1000 * cpu["pg"] / size,
            pg_sessions=sessions,
            box_busy=cpu["box_busy"],
            rest_cores=cpu["rest_cores"],
            problems=audit(rt, case=case, kind=kind, work=work, answers=answers),
            failures=failures,
        )
        result.runs.append(run)
        log_run(run)
    return result


# -- HTTP: server and client processes ---------------------------------------------------------


def add_floor_route(app: FastAPI, rt: Runtime, store_id: str) -> None:
    """The HTTP floor: the plain conditional UPDATE, in the threadpool like the real handler."""

    def take(sku: str) -> bool:
        params = {"store": store_id, "warehouse": WAREHOUSE, "sku": sku}
        with rt.engine.begin() as conn:
            return bool(conn.execute(FLOOR_SQL, params).rowcount)

    @app.post(FLOOR_PATH, include_in_schema=False)
    async def floor(request: Request, sku: str) -> JSONResponse:
        await request.body()  # the same body as the real request travels and is read
        taken = await run_in_threadpool(take, sku)
        return JSONResponse({"sku": sku}, status_code=201 if taken else 409)


def serve(url: str, port: int, store_id: str) -> None:
    """Entry point of the server process (spawned): the real app plus the floor route."""
    import logging

    import uvicorn

    from reclaim.entrypoints.api import create_app

    logging.basicConfig(level=logging.WARNING)
    rt = bootstrap(Settings(database_url=url, rate_limit_enabled=False))
    app = create_app(rt)
    add_floor_route(app, rt, store_id)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class HoldTally(ingest_bench.Tally):
    """Answers counted by status code (201 reserved, 409 out of stock, anything else)."""

    def answer(self, started: float, code: int, data: bytes) -> None:
        self.latencies.append(time.perf_counter() - started)
        self.statuses[str(code)] += 1
        if code not in (201, 409) and len(self.failures) < 3:
            self.failures.append(f"{code} {data[:160].decode(errors='replace')}")


_PREPARED: dict[str, Any] = {}


def client_prepare(spec: dict[str, Any]) -> None:
    """In the client process: build the run's requests, before any clock starts."""
    host, port, real = spec["host"], spec["port"], spec["kind"] == "real"
    requests = []
    for oid, lines in orders(spec["case"], spec["n"], spec["tag"], spec["skus"]):
        body = orjson.dumps(
            {"order_id": oid, "items": [{"sku": s, "quantity": q} for s, q in lines]}
        )
        path = "/api/v1/holds" if real else FLOOR_PATH.format(sku=lines[0][0])
        auth = f"Authorization: Bearer {spec['api_key']}\r\n" if real else ""
        requests.append(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\n{auth}Content-Length: {len(body)}\r\n\r\n"
            ).encode("latin-1")
            + body
        )
    _PREPARED.clear()
    _PREPARED.update(spec, requests=requests)


def client_go() -> dict[str, Any]:
    """In the client process: post the prepared requests, ``clients`` at a time."""
    spec = _PREPARED
    tally = HoldTally()
    cpu0 = time.process_time()
    elapsed = asyncio_run(
        ingest_bench.raw_load(spec["host"], spec["port"], spec["requests"], spec["clients"], tally)
    )
    p50, p99, worst = quantiles(tally.latencies)
    return {
        "elapsed": elapsed,
        "answers": dict(tally.statuses),
        "failures": tally.failures,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": worst,
        "client_cpu": time.process_time() - cpu0,
    }


def asyncio_run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def bench_http(
    db: str,
    url: str,
    rt: Runtime,
    shop: Shop,
    cases: Sequence[Case],
    *,
    n: int,
    warm: int,
    rounds: int,
    clients: int,
    skus: int,
) -> list[Result]:
    ctx = mp.get_context("spawn")
    port = ingest_bench.free_port()
    server = ctx.Process(target=serve, args=(url, port, shop.store_id), daemon=True)
    server.start()
    dbname = DB_NAME if db == "postgresql" else None
    results = []
    try:
        ingest_bench.wait_ready(f"http://127.0.0.1:{port}", server, timeout=120)
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as client:
            common = {"host": "127.0.0.1", "port": port, "clients": clients, "skus": skus,
                      "api_key": shop.api_key}  # fmt: skip
            for case in cases:
                result = Result(db=db, level="http", case=case.name)
                results.append(result)
                plan = [(0, k) for k in ("floor", "real")] + [
                    (r, k) for r in range(1, rounds + 1) for k in ("floor", "real")
                ]
                for rnd, kind in plan:
                    size = warm if rnd == 0 else n
                    tag = f"h{rnd}"
                    spec = {**common, "case": case.name, "kind": kind, "n": size, "tag": tag}
                    client.submit(client_prepare, spec).result()
                    reset(rt, shop, case, size)
                    sessions0 = ingest_bench.pg_sessions(url) if dbname else 0
                    meter = CpuMeter(server.pid, dbname)
                    meter.start()
                    out = client.submit(client_go).result()
                    cpu = meter.stop(out["elapsed"], out["client_cpu"])
                    sessions = ingest_bench.pg_sessions(url) - sessions0 if dbname else 0
                    work = orders(case.name, size, tag, skus)
                    answers = Counter(out["answers"])
                    run = Run(
                        db=db,
                        level="http",
                        case=case.name,
                        kind=kind,
                        round=rnd,
                        n=size,
                        lines=sum(len(lines) for _, lines in work),
                        elapsed=out["elapsed"],
                        rate=size / out["elapsed"],
                        answers=dict(answers),
                        p50_ms=out["p50_ms"],
                        p99_ms=out["p99_ms"],
                        max_ms=out["max_ms"],
                        app_cpu_ms=1000 * cpu["app"] / size,
                        client_cpu_ms=1000 * out["client_cpu"] / size,
                        pg_cpu_ms=1000 * cpu["pg"] / size,
                        pg_sessions=sessions,
                        box_busy=cpu["box_busy"],
                        rest_cores=cpu["rest_cores"],
                        problems=audit(rt, case=case, kind=kind, work=work, answers=answers),
                        failures=out["failures"],
                    )
                    result.runs.append(run)
                    log_run(run)
    finally:
        server.terminate()
        server.join(10)
        if server.is_alive():
            server.kill()
    return results


# -- report --------------------------------------------------------------------------------------


def answers_of(runs: Sequence[Run]) -> str:
    total: Counter[str] = Counter()
    for r in runs:
        total.update(r.answers)
    main = f"{total.pop('201', 0)} / {total.pop('409', 0)}"
    return main + (f" [red]+ {dict(total)}" if total else "")


def audit_of(runs: Sequence[Run]) -> str:
    bad = sum(1 for r in runs if r.problems)
    return f"[green]{len(runs)} ok" if not bad else f"[red]{bad} of {len(runs)} failed"


def report(info: dict[str, str], results: list[Result], args: argparse.Namespace) -> None:
    t = Table(title="Machine", show_header=False)
    for k, v in info.items():
        t.add_row(k, v)
    console.print(t)

    service = [r for r in results if r.level == "service"]
    http = [r for r in results if r.level == "http"]
    common = ("p50 ms", "p99 ms", "max ms", "app CPU\nms/order", "PG CPU\nms/order", "PG\nsessions",
              "201 / 409", "audit", "rest of\nbox")  # fmt: skip
    if service:
        t = Table(
            title=f"Service level: holds.place_hold against plain conditional UPDATEs, median "
            f"of {args.rounds} alternating runs of {args.reservations} orders, "
            f"{args.clients} threads"
        )
        for col in ("database", "case", "kind", "UPDATEs\n/order", "orders/s",
                    "real /\nfloor", *common):  # fmt: skip
            t.add_column(col, justify="right", no_wrap=True)
        for res in service:
            for kind in ("floor", "real"):
                runs = res.timed(kind)
                real = kind == "real"
                t.add_row(
                    "" if real else res.db,
                    "" if real else res.case,
                    kind,
                    f"{statistics.mean(r.lines / r.n for r in runs):.2f}" if real else "1",
                    f"{res.median(kind):.0f}",
                    f"[bold]{res.ratio():.0%}" if real else "",
                    *row_common(res, kind, runs),
                    end_section=real,
                )
        console.print(t)
    if http:
        t = Table(
            title=f"HTTP: POST /api/v1/holds against the floor route, median of {args.rounds} "
            f"alternating runs of {args.reservations} orders, {args.clients} connections"
        )
        for col in ("database", "case", "endpoint", "orders/s", "vs HTTP\nfloor",
                    "vs service\nreal", "vs service\nfloor", *common,
                    "client CPU\nms/order"):  # fmt: skip
            t.add_column(col, justify="right", no_wrap=True)
        for res in http:
            svc = next((s for s in service if (s.db, s.case) == (res.db, res.case)), None)
            for kind in ("floor", "real"):
                runs = res.timed(kind)
                real = kind == "real"
                rate = res.median(kind)
                t.add_row(
                    "" if real else res.db,
                    "" if real else res.case,
                    kind,
                    f"{rate:.0f}",
                    f"[bold]{res.ratio():.0%}" if real else "",
                    f"{rate / svc.median('real'):.0%}" if real and svc else "",
                    f"{rate / svc.median('floor'):.0%}" if svc else "",
                    *row_common(res, kind, runs),
                    f"{res.median(kind, 'client_cpu_ms'):.2f}",
                    end_section=real,
                )
        console.print(t)
    console.print(
        "orders/s: orders answered per second (201 or 409). app CPU: the process running "
        "Reclaim (this one at service level, the server over HTTP). PG CPU: the run's "
        "PostgreSQL backends. PG sessions: opened during the timed runs. rest of box: cores "
        "used meanwhile by everything else (other engineers' work)."
    )


def row_common(res: Result, kind: str, runs: Sequence[Run]) -> list[str]:
    pg = res.db == "postgresql"
    return [
        f"{res.median(kind, 'p50_ms'):.1f}",
        f"{res.median(kind, 'p99_ms'):.0f}",
        f"{res.median(kind, 'max_ms'):.0f}",
        f"{res.median(kind, 'app_cpu_ms'):.2f}",
        f"{res.median(kind, 'pg_cpu_ms'):.2f}" if pg else "–",
        str(sum(r.pg_sessions for r in runs)) if pg else "–",
        answers_of(runs),
        audit_of(runs),
        f"{res.median(kind, 'rest_cores'):.2f}",
    ]


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument(
        "--cases", default="hot,spread,sellout", help="comma-separated: " + ", ".join(CASES)
    )
    p.add_argument("--reservations", type=int, default=2000, help="orders per timed run")
    p.add_argument("--warm", type=int, help="orders per warm-up run (default: n / 5, ≥ 100)")
    p.add_argument("--rounds", type=int, default=3, help="runs of each kind (median is kept)")
    p.add_argument("--clients", type=int, default=32, help="concurrent clients")
    p.add_argument("--skus", type=int, default=1000, help="SKUs of the spread case")
    p.add_argument("--skip-service", action="store_true")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--quick", action="store_true", help="small numbers: a smoke run")
    p.add_argument("--pg", default=PG_DEFAULT, help="a PostgreSQL database to connect to")
    p.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.reservations, args.rounds, args.warm = 120, 1, 30
    args.case_list = [c.strip() for c in args.cases.split(",") if c.strip()]
    for c in args.case_list:
        if c not in CASES:
            p.error(f"--cases: unknown case {c!r} (known: {', '.join(CASES)})")
    if args.reservations < 100:
        p.error("--reservations: at least 100")
    if args.warm is None:
        args.warm = max(100, args.reservations // 5)
    args.dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    info = ingest_bench.machine(args.pg, args.dbs)
    console.print(f"[bold]bench/holds.py[/] {' '.join(sys.argv[1:])}  ({info['date']})")
    results: list[Result] = []
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="reclaim-bench-holds-"))
    database = functools.partial(ingest_bench.database, pg_admin=args.pg, workdir=workdir)
    cases = [CASES[c] for c in args.case_list]
    sizes = {"n": args.reservations, "warm": args.warm, "rounds": args.rounds,
             "clients": args.clients, "skus": args.skus}  # fmt: skip
    try:
        for db in args.dbs:
            with database(db, DB_NAME) as url:
                rt = bootstrap(Settings(database_url=url))
                try:
                    init_database(rt)
                    shop = new_shop(rt, args.skus)
                    if not args.skip_service:
                        console.rule(f"Service level on {db}")
                        for case in cases:
                            results.append(bench_service(db, url, rt, shop, case, **sizes))
                    if not args.skip_http:
                        console.rule(f"HTTP on {db}")
                        rt.engine.dispose()  # this process's idle connections: the server's now
                        results += bench_http(db, url, rt, shop, cases, **sizes)
                finally:
                    rt.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(info, results, args)
    console.print(f"finished in {time.perf_counter() - began:.0f} s")
    if args.json:
        payload = {
            "machine": info,
            "args": {k: v for k, v in vars(args).items() if k != "json"},
            "results": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))


if __name__ == "__main__":
    main()
