"""Sending benchmark: personalised emails per second, lateness under a burst, claim cost.

Three measurements, each against something measured in the same run:

1. **Send throughput** — due ``abandoned_checkout/reminder`` steps of distinct customers (six
   template locales, their currencies and time zones, one to three items with images and
   tracked product links) are done by the real engine, :func:`reclaim.services.delivery.
   run_due_steps` with the runtime's renderer, ``ChannelSenders`` over SMTP and the real
   database, in ``W`` threads (each with its own senders, i.e. its own SMTP connection), to
   an aiosmtpd sink in another process that only counts and discards. The **floor** is the
   same sink fed by ``smtplib`` over ``W`` connections with pre-built bytes: the messages the
   engine itself produced in its warm-up, byte for byte, cycled (``MAIL``, ``RCPT``, ``DATA``,
   as the engine's sender issues them). Floor and engine alternate (floor, engine, floor, …);
   reported: the medians and engine / floor (goal ≥ 50 %), CPU per message of each process,
   and for ``W`` = 1 the engine's milliseconds per message split into claim / prepare
   (database and policy) / render / compose / MIME / SMTP / record, from timers the benchmark
   wraps around the engine's own functions at run time (``src/`` is untouched).
2. **Lateness under a burst** — ``N`` steps (100k) all due at the same instant ``D``, done by
   ``W`` real workers (threads running :func:`reclaim.entrypoints.worker.run_forever`, whose
   ``now`` is the wall clock, polling every ``RECLAIM_WORKER_POLL_SECONDS``). Lateness of a
   message = its arrival at the sink − ``D``. Its **excess** = lateness − ``k / R`` where ``k``
   is its arrival rank (1 … N) and ``R`` the engine's throughput measured in part 1 for the
   same database and ``W``: the time it arrives after the moment an engine sending at ``R``
   from ``D`` on would have delivered it. Goal: p99 of the excess ≤ 2 s.
3. **Claim cost vs backlog** — one claim of a batch (100) of due steps, as ``run_due_steps``
   makes it, with 10k and then 1M future (not yet due) steps in the table, their cases
   included; goal: 1M / 10k ≤ 1.3 on the claim statement. The plans are printed
   (``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite).

Numbers only, no pass/fail exit code (team rule: no timed assertions). Usage::

    .venv/bin/python bench/send.py                    # both databases, full size
    .venv/bin/python bench/send.py --quick            # smoke run, under a minute
    .venv/bin/python bench/send.py --db postgresql --skip-burst --json out.json

PostgreSQL: ``--pg`` (or ``RECLAIM_BENCH_PG``) names a server database to connect to; the
benchmark creates its own databases ``reclaim_bench_send*`` there and drops them at the end.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib.metadata
import io
import itertools
import json
import math
import multiprocessing as mp
import os
import pstats
import shutil
import smtplib
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import psycopg
import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import event, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest as ingest_bench  # the sibling benchmark: its helpers
from reclaim.adapters.db.tables import cases, messages, steps
from reclaim.adapters.flows import default_flow
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.flows import flow_to_data
from reclaim.domain.stores import StoreSettings
from reclaim.entrypoints import worker
from reclaim.services import delivery
from reclaim.services.flows import set_flow
from reclaim.services.stores import add_store

console = Console(width=None if sys.stdout.isatty() else 150)

PG_DEFAULT = ingest_bench.PG_DEFAULT
DOMAIN = "nordwolle.example"
PUBLIC_URL = "https://reclaim.nordwolle.example"
HELO = "reclaim.nordwolle.example"  # what ChannelSenders says in EHLO (the public URL's host)
KIND = "abandoned_checkout"
T_SEND = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # part 1's clock: midday in Europe and Asia
T_CLAIM = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # part 3's clock
FAR = datetime(2099, 1, 1, tzinfo=UTC)  # a burst's steps wait here until they are released
GOAL_RATIO = 0.50
GOAL_EXCESS_S = 2.0
GOAL_CLAIM = 1.3
BATCH = 100  # run_due_steps' default claim batch (the worker's)

# -- customers, carts, markets ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Market:
    country: str
    locale: str
    currency: str
    timezone: str
    mail: str


# Every template locale (en, de, fr, es, zh-CN, ja) and the currencies they are shown in.
MARKETS = (
    Market("DE", "de-DE", "EUR", "Europe/Berlin", "example.de"),
    Market("AT", "de-AT", "EUR", "Europe/Vienna", "example.at"),
    Market("FR", "fr-FR", "EUR", "Europe/Paris", "example.fr"),
    Market("ES", "es-ES", "EUR", "Europe/Madrid", "example.es"),
    Market("MX", "es-MX", "MXN", "America/Mexico_City", "example.mx"),
    Market("GB", "en-GB", "GBP", "Europe/London", "example.co.uk"),
    Market("US", "en-US", "USD", "America/New_York", "example.com"),
    Market("US", "en-US", "USD", "America/Los_Angeles", "example.com"),
    Market("JP", "ja-JP", "JPY", "Asia/Tokyo", "example.jp"),
    Market("CN", "zh-CN", "CNY", "Asia/Shanghai", "example.cn"),
    Market("AU", "en-AU", "AUD", "Australia/Sydney", "example.com.au"),
)
RATES = {"EUR": 1, "GBP": 0.85, "USD": 1.08, "MXN": 18.5, "JPY": 165, "CNY": 7.8, "AUD": 1.63}
# name, sku, price in EUR, slug
PRODUCTS = (
    ("Merino-Pullover M / Anthrazit", "MP-01", 89.90, "merino-pullover"),
    ("Wollsocken (2er-Pack) 39-42", "WS-02", 14.50, "wollsocken"),
    ("Lambswool Throw, Grey", "LT-03", 68.00, "lambswool-throw"),
    ("Alpaka-Mütze Natur", "AM-04", 34.90, "alpaka-muetze"),
    ("Cashmere Scarf, Camel", "CS-05", 129.00, "cashmere-scarf"),
    ("Felted Slippers 42", "FS-06", 59.00, "felted-slippers"),
    ("Wool Blanket King / Ecru", "WB-07", 189.00, "wool-blanket"),
    ("Knitting Kit Starter", "KK-08", 29.90, "knitting-kit"),
)


def awake(at: datetime, hours: float = 0.0) -> tuple[Market, ...]:
    """The markets where ``at`` … ``at + hours`` is daytime (08:00–21:00 local time), so no
    step waits for the end of the email quiet hours (22:00–07:00) during the measurement."""
    found = []
    for m in MARKETS:
        tz = ZoneInfo(m.timezone)
        start, end = at.astimezone(tz), (at + timedelta(hours=hours)).astimezone(tz)
        if start.hour >= 8 and (end.hour < 21 and end.date() == start.date()):
            found.append(m)
    return tuple(found) or MARKETS[:1]


def price(eur: float, currency: str) -> Decimal:
    value = eur * RATES[currency]
    if currency == "JPY":
        return Decimal(int(round(value, -1)))
    return Decimal(f"{value:.2f}")


def cart(cid: int, currency: str) -> tuple[list[dict[str, Any]], Decimal]:
    """One to three lines of case ``cid``'s cart (as ``ItemsJSON`` stores them) and its total."""
    count = (1, 1, 2, 2, 3)[cid % 5]
    lines, total = [], Decimal(0)
    for k in range(count):
        name, sku, eur, slug = PRODUCTS[(cid * 3 + k * 5) % len(PRODUCTS)]
        quantity = 1 + (cid + k) % 3 // 2
        unit = price(eur, currency)
        total += unit * quantity
        lines.append(
            {
                "name": name,
                "quantity": quantity,
                "unit_price": str(unit),
                "sku": sku,
                "product_id": str(8_123_456_000 + (cid * 3 + k * 5) % len(PRODUCTS)),
                "image_url": f"https://cdn.{DOMAIN}/products/{slug}-800x800.jpg",
                "url": f"https://{DOMAIN}/products/{slug}?variant={sku}",
            }
        )
    return lines, total + price(4.90, currency)


# -- the SMTP sink: its own process ------------------------------------------------------------


def sink_main(host: str, port: int, pipe: Any, reply_ms: float = 0.0) -> None:
    """Entry point of the sink process: aiosmtpd that notes each message's arrival and
    ``X-Reclaim-Message`` id, then drops it; commands come over ``pipe``. ``reply_ms``: each
    reply waits that long first, as a relay across a network would (``--relay-ms``)."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    class Sink:
        def __init__(self) -> None:
            self.times: list[float] = []
            self.ids: list[int] = []
            self.bytes = 0
            self.connections = 0
            self.keep = 0
            self.kept: list[tuple[str, str, bytes]] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            data = envelope.original_content or b""
            self.times.append(time.time())
            at = data.find(b"\nX-Reclaim-Message: ")
            self.ids.append(int(data[at + 20 : data.index(b"\r", at + 20)]) if at >= 0 else -1)
            self.bytes += len(data)
            if self.keep:
                self.keep -= 1
                self.kept.append((envelope.mail_from, envelope.rcpt_tos[0], data))
            return "250 2.0.0 Ok: queued"

    class BulkSMTP(SMTP):
        """aiosmtpd, but ``DATA`` read in bulk: its own reader takes a message line by line
        (one ``readuntil`` per line, ~1.5 ms of CPU for a 9 kB email here, as much as the
        floor's client spends), which would make the sink the floor's bottleneck. Fine for
        clients that wait for each reply (smtplib, the engine's sender): no pipelining."""

        async def push(self, status: Any) -> None:
            if reply_ms:
                await asyncio.sleep(reply_ms / 1000)
            await super().push(status)

        async def smtp_DATA(self, arg: str) -> None:
            if await self.check_helo_needed():
                return
            assert self.envelope is not None
            if not self.envelope.rcpt_tos or arg:
                await self.push("503 Error: need RCPT command" if not arg else "501 Syntax: DATA")
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            buf = bytearray()
            while not (buf.endswith(b"\r\n.\r\n") or buf == b".\r\n"):
                chunk = await self._reader.read(1 << 16)
                if not chunk:
                    return  # the connection is gone
                buf += chunk
            data = bytes(buf[:-3]).replace(b"\r\n..", b"\r\n.")  # RFC 5321 4.5.2
            if data.startswith(b".."):
                data = data[1:]
            self.envelope.content = self.envelope.original_content = data
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push(status)

    sink = Sink()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory() -> SMTP:
        sink.connections += 1
        return BulkSMTP(sink, hostname="sink.bench", ident="bench sink", decode_data=False)

    server = loop.run_until_complete(loop.create_server(factory, host, port))

    async def command(cmd: str, arg: Any) -> Any:
        if cmd == "count":
            return len(sink.times)
        if cmd == "take":  # in the loop's thread: no message lands in between
            out = (sink.times, sink.ids, sink.bytes, sink.connections)
            sink.times, sink.ids, sink.bytes, sink.connections = [], [], 0, 0
            return out
        if cmd == "keep":
            sink.keep, sink.kept = int(arg), []
            return None
        if cmd == "kept":
            return sink.kept
        if cmd == "stop":
            server.close()
            loop.call_soon(loop.stop)
            return None
        raise ValueError(cmd)

    def serve_pipe() -> None:
        while True:
            cmd, arg = pipe.recv()
            pipe.send(asyncio.run_coroutine_threadsafe(command(cmd, arg), loop).result())
            if cmd == "stop":
                return

    threading.Thread(target=serve_pipe, daemon=True).start()
    loop.run_forever()


class SinkProcess:
    """The sink, started in a spawned process; ``call`` is for the main thread only."""

    def __init__(self, reply_ms: float = 0.0) -> None:
        self.host = "127.0.0.1"
        self.port = ingest_bench.free_port()
        ctx = mp.get_context("spawn")
        self._pipe, child = ctx.Pipe()
        self.proc = ctx.Process(
            target=sink_main, args=(self.host, self.port, child, reply_ms), daemon=True
        )
        self.proc.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or not self.proc.is_alive():
                    raise RuntimeError("the SMTP sink did not start") from None
                time.sleep(0.1)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def call(self, cmd: str, arg: Any = None) -> Any:
        self._pipe.send((cmd, arg))
        return self._pipe.recv()

    def take(self) -> tuple[list[float], list[int], int, int]:
        return self.call("take")  # type: ignore[no-any-return]

    def stop(self) -> None:
        with suppress(OSError, EOFError):
            self.call("stop")
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()


# -- a store, its flow, and seeded cases with due steps ----------------------------------------


@dataclass(frozen=True, slots=True)
class Shop:
    store_id: str
    flow_id: int


def runtime(url: str, sink: SinkProcess | None, **settings: Any) -> Runtime:
    rt = bootstrap(
        Settings(
            database_url=url,
            smtp_url=sink.url if sink else None,
            public_url=PUBLIC_URL,
            **settings,
        )
    )
    init_database(rt)
    rt.links()  # reads the secret key once, outside any timing
    return rt


def new_shop(rt: Runtime, *, now: datetime) -> Shop:
    """A store as a merchant sets one up, and the default abandoned-checkout flow (1 h, 24 h,
    72 h) without a holdout share, as the end-to-end tests install it."""
    store = add_store(
        uow=rt.uow(),
        name="Nordwolle",
        platform="shopify",
        currency="EUR",
        timezone="Europe/Berlin",
        domain=DOMAIN,
        webhook_secret=ingest_bench.SECRET,
        settings=StoreSettings(
            postal_address="Nordwolle GmbH, Wollgasse 7, 20095 Hamburg, Deutschland",
            sender_email=f"hallo@{DOMAIN}",
            sender_name="Nordwolle",
            support_email=f"hilfe@{DOMAIN}",
            logo_url=f"https://cdn.{DOMAIN}/logo.png",
            extra_domains=(f"cdn.{DOMAIN}",),
        ),
        now=now - timedelta(days=30),
    )
    flow = replace(default_flow(KIND), holdout=0.0)
    source = yaml.safe_dump(flow_to_data(flow), sort_keys=False)
    set_flow(
        uow=rt.uow(), store_id=store.id, source=source, flow=flow, now=now - timedelta(days=30)
    )
    with rt.uow() as uow:
        version = uow.flows.active(store.id, KIND)
    assert version is not None
    return Shop(store_id=store.id, flow_id=version.id)


CASE_COLS = [
    "id",
    "store_id",
    "kind",
    "subject_id",
    "customer_key",
    "email",
    "contact",
    "value",
    "currency",
    "items",
    "reason",
    "occurred_at",
    "created_at",
    "checkout_external_id",
    "recovery_url",
    "expires_at",
    "status",
    "merged_from",
    "flow_id",
    "flow_state",
    "holdout",
    "next_step_at",
]
STEP_COLS = [
    "id",
    "store_id",
    "case_id",
    "flow_id",
    "position",
    "key",
    "due_at",
    "status",
    "attempts",
    "created_at",
]


def seed_rows(
    shop: Shop,
    first_case: int,
    first_step: int,
    dues: Sequence[datetime],
    markets: Sequence[Market],
    *,
    dialect: str,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows for open, running abandoned-checkout cases ``first_case …`` (one distinct customer
    each) and their first step, due at ``dues[k]``, as ``detection`` + ``start_flow`` leave
    them. Values are what the column types store for ``dialect`` (like bench/ingest.py)."""
    sqlite = dialect == "sqlite"

    def t(at: datetime) -> Any:
        return ingest_bench.sqlite_time(at) if sqlite else at

    case_rows, step_rows = [], []
    for k, due in enumerate(dues):
        cid, sid = first_case + k, first_step + k
        m = markets[cid % len(markets)]
        first = ingest_bench.FIRST[cid % len(ingest_bench.FIRST)]
        last = ingest_bench.LAST[(cid // 7) % len(ingest_bench.LAST)]
        email = f"{first}.{last}.{cid}".lower().translate(ingest_bench.ASCII) + f"@{m.mail}"
        items, total = cart(cid, m.currency)
        contact = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "locale": m.locale,
            "country": m.country,
            "timezone": m.timezone,
            "accepts_email_marketing": True,
            "customer_ref": str(7_712_345_000_000 + cid),
            "orders_count": cid % 3,
        }
        token = ingest_bench.checkout_token(f"send-{cid}")
        occurred = due - timedelta(hours=1)  # the reminder is due 1 h after the last activity
        created = occurred + timedelta(minutes=30)  # detection opens it after 30 min
        case_rows.append(
            (
                cid,
                shop.store_id,
                KIND,
                token,
                email,
                email,
                orjson.dumps(contact).decode(),
                int(total * 10_000),
                m.currency,
                orjson.dumps(items).decode(),
                "checkout_abandoned",
                t(occurred),
                t(created),
                token,
                f"https://{DOMAIN}/71234567/checkouts/ac/{token}/recover?key={token[-16:]}",
                t(created + timedelta(days=30)),
                "open",
                "[]",
                shop.flow_id,
                "running",
                0 if sqlite else False,
                t(due),
            )
        )
        step_rows.append(
            (
                sid,
                shop.store_id,
                cid,
                shop.flow_id,
                0,
                "reminder",
                t(due),
                "scheduled",
                0,
                t(created),
            )
        )
    return case_rows, step_rows


def insert_rows(rt: Runtime, rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> None:
    """One transaction: executemany on SQLite, COPY on PostgreSQL (as bench/ingest.py)."""
    if rt.engine.dialect.name == "sqlite":
        with rt.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            for table, (cols, batch) in rows.items():
                sql = (
                    f"INSERT INTO {table} ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})"
                )
                conn.exec_driver_sql(sql, batch)
        return
    raw = rt.engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert isinstance(pg, psycopg.Connection)
        with pg.cursor() as cur:
            for table, (cols, batch) in rows.items():
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
        pg.commit()
    finally:
        raw.close()


def secondary_indexes(rt: Runtime, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes on ``tables``."""
    listed = ", ".join(f"'{t}'" for t in tables)
    with rt.engine.connect() as conn:
        if rt.engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({listed}) AND sql NOT LIKE 'CREATE UNIQUE%%'"
            )
        else:
            rows = conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                f"AND tablename IN ({listed}) AND indexdef NOT LIKE 'CREATE UNIQUE%%'"
            )
        return [(str(n), str(s)) for n, s in rows]


def settle(rt: Runtime, tables: Sequence[str] = ("cases", "steps")) -> None:
    """What autovacuum and the checkpointer would have done by then (PostgreSQL: statistics,
    visibility map, checkpoint); on SQLite a WAL checkpoint and no ANALYZE, since Reclaim
    never runs ANALYZE there."""
    if rt.engine.dialect.name == "postgresql":
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {', '.join(tables)}")
            conn.exec_driver_sql("CHECKPOINT")
        return
    raw = rt.engine.raw_connection()  # autocommit: outside the engine's BEGIN IMMEDIATE
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
    finally:
        raw.close()


def seed(
    rt: Runtime,
    shop: Shop,
    dues: Callable[[int], datetime],
    count: int,
    *,
    markets: Sequence[Market],
    label: str = "",
    chunk: int = 20_000,
) -> float:
    """Store ``count`` running cases with one due step each (step ``k`` due at ``dues(k)``);
    returns the seconds it took. A large load drops the non-unique indexes of ``cases`` and
    ``steps`` first and builds them again at the end, as a bulk load does."""
    dialect = rt.engine.dialect.name
    began = time.perf_counter()
    with rt.engine.connect() as conn:
        first_case = 1 + int(
            conn.execute(select(func.coalesce(func.max(cases.c.id), 0))).scalar_one()
        )
        first_step = 1 + int(
            conn.execute(select(func.coalesce(func.max(steps.c.id), 0))).scalar_one()
        )
    indexes = secondary_indexes(rt, ("cases", "steps")) if count > 200_000 else []
    with rt.engine.begin() as conn:
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    progress = Progress(
        TextColumn(f"  seeding {dialect} {label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=count < 50_000,
    )
    with progress:
        task = progress.add_task("", total=count)
        for lo in range(0, count, chunk):
            hi = min(count, lo + chunk)
            case_rows, step_rows = seed_rows(
                shop,
                first_case + lo,
                first_step + lo,
                [dues(k) for k in range(lo, hi)],
                markets,
                dialect=dialect,
            )
            insert_rows(rt, {"cases": (CASE_COLS, case_rows), "steps": (STEP_COLS, step_rows)})
            progress.advance(task, hi - lo)
        for name, sql in indexes:
            progress.update(task, description=f"index {name}")
            with rt.engine.begin() as conn:
                conn.exec_driver_sql(sql)
        if dialect == "postgresql":  # explicit ids: move the sequences past them
            with rt.engine.begin() as conn:
                for table in ("cases", "steps"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
        if count >= 10_000:
            progress.update(task, description="statistics, checkpoint")
            settle(rt)
        progress.update(task, description="")
    return time.perf_counter() - began


# -- process and box CPU -------------------------------------------------------------------------


def pg_backends_cpu(dbname: str | None) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` (from /proc, by cmdline)."""
    if not dbname:
        return {}
    out = {}
    needle = f" {dbname} ".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"postgres: ") and needle in cmd + b" ":
            out[int(pid)] = ingest_bench.cpu_seconds(int(pid))
    return out


class CpuMeter:
    """CPU used between ``start`` and ``stop``: this process, the sink, the run's PostgreSQL
    backends, and the rest of the box (other engineers' work included)."""

    def __init__(self, sink: SinkProcess, dbname: str | None) -> None:
        self.sink, self.dbname = sink, dbname

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.own0 = time.process_time()
        self.sink0 = ingest_bench.cpu_seconds(self.sink.proc.pid or 0)
        self.pg0 = pg_backends_cpu(self.dbname)
        self.box0 = ingest_bench.machine_busy()

    def stop(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.t0
        own = time.process_time() - self.own0
        sink = ingest_bench.cpu_seconds(self.sink.proc.pid or 0) - self.sink0
        pg1 = pg_backends_cpu(self.dbname)
        pg = sum(v - self.pg0.get(p, 0.0) for p, v in pg1.items())
        box1 = ingest_bench.machine_busy()
        tick = os.sysconf("SC_CLK_TCK")
        busy = (box1[0] - self.box0[0]) / tick
        return {
            "elapsed": elapsed,
            "own": own,
            "sink": sink,
            "pg": pg,
            "box_busy": (box1[0] - self.box0[0]) / max(1, box1[1] - self.box0[1]),
            "rest_cores": max(0.0, busy - own - sink - pg) / max(elapsed, 1e-9),
        }


# -- part 1: throughput ------------------------------------------------------------------------


@dataclass
class SendRun:
    kind: str  # floor | engine | engine+dkim
    workers: int
    n: int
    received: int
    elapsed: float
    rate: float
    own_cpu_ms: float  # this process (the engine or the smtplib client), per message
    sink_cpu_ms: float
    pg_cpu_ms: float
    box_busy: float
    rest_cores: float
    avg_kb: float
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class ThroughputResult:
    db: str
    workers: int
    n: int
    runs: list[SendRun] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # ms per message, W = 1 only
    profile_top: list[str] = field(default_factory=list)

    def median(self, kind: str, attr: str = "rate") -> float:
        values = [getattr(r, attr) for r in self.runs if r.kind == kind]
        return statistics.median(values) if values else float("nan")

    @property
    def ratio(self) -> float:
        return self.median("engine") / self.median("floor")


def timed_threads(
    sink: SinkProcess,
    dbname: str | None,
    barrier: threading.Barrier,
    errors: list[BaseException],
    threads: Sequence[threading.Thread],
) -> tuple[list[float], int, dict[str, float]]:
    """Start ``threads`` (each waits on ``barrier``, then works), time them from their common
    start to the last one's end with the CPU meter; the sink's arrival times, bytes, CPU."""
    for th in threads:
        th.start()
    sink.take()
    meter = CpuMeter(sink, dbname)
    meter.start()
    barrier.wait()
    for th in threads:
        th.join()
    cpu = meter.stop()
    if errors:
        raise errors[0]
    times, _, size, _ = sink.take()
    return times, size, cpu


def send_run(
    kind: str,
    workers: int,
    n: int,
    times: Sequence[float],
    size: int,
    cpu: dict[str, float],
    outcomes: dict[str, int] | None = None,
) -> SendRun:
    got = max(1, len(times))
    return SendRun(
        kind=kind,
        workers=workers,
        n=n,
        received=len(times),
        elapsed=cpu["elapsed"],
        rate=len(times) / cpu["elapsed"],
        own_cpu_ms=1000 * cpu["own"] / got,
        sink_cpu_ms=1000 * cpu["sink"] / got,
        pg_cpu_ms=1000 * cpu["pg"] / got,
        box_busy=cpu["box_busy"],
        rest_cores=cpu["rest_cores"],
        avg_kb=size / got / 1024,
        outcomes=outcomes or {},
    )


def run_engine(
    rt: Runtime,
    sink: SinkProcess,
    workers: int,
    now: datetime,
    *,
    dbname: str | None,
    expect: int,
    kind: str = "engine",
    wrap: Callable[[Callable[[], Any]], Any] | None = None,
) -> SendRun:
    """``workers`` threads, each with its own ``ChannelSenders``, run ``run_due_steps`` at
    ``now`` until nothing is due; timed from their common start to the last one's end."""
    barrier = threading.Barrier(workers + 1)
    stats: list[delivery.DeliveryStats | None] = [None] * workers
    errors: list[BaseException] = []

    def work(k: int) -> None:
        senders = rt.senders()
        barrier.wait()
        try:

            def go() -> delivery.DeliveryStats:
                return delivery.run_due_steps(
                    uow=rt.uow(), senders=senders, renderer=rt.renderer, links=rt.links(), now=now
                )

            stats[k] = wrap(go) if wrap else go()
        except BaseException as exc:
            errors.append(exc)
        finally:
            senders.close()

    times, size, cpu = timed_threads(
        sink,
        dbname,
        barrier,
        errors,
        [threading.Thread(target=work, args=(k,)) for k in range(workers)],
    )
    outcomes: Counter[str] = Counter()
    for s in stats:
        assert s is not None
        outcomes.update(s.outcomes)
        outcomes["released"] += s.released
        outcomes["possibly_sent"] += s.possibly_sent
    outcomes = +outcomes
    if len(times) != expect or outcomes.get("sent", 0) != expect:
        console.print(f"[red]  {kind}: {len(times)} received, expected {expect}: {dict(outcomes)}")
    return send_run(kind, workers, expect, times, size, cpu, outcomes=dict(outcomes))


def run_floor(
    sink: SinkProcess,
    messages: Sequence[tuple[str, str, bytes]],
    workers: int,
    n: int,
    *,
    dbname: str | None,
) -> SendRun:
    """The same sink fed the engine's own messages, pre-built, by ``smtplib`` over ``workers``
    connections: connect, EHLO, then ``MAIL``/``RCPT``/``DATA`` per message, ``QUIT``."""
    cursor = itertools.count()  # next() is atomic under the GIL: the threads share the work
    barrier = threading.Barrier(workers + 1)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            conn = smtplib.SMTP(sink.host, sink.port, local_hostname=HELO, timeout=30)
            conn.ehlo()
            while (k := next(cursor)) < n:
                sender, recipient, data = messages[k % len(messages)]
                for code, _ in (conn.mail(sender), conn.rcpt(recipient), conn.data(data)):
                    if code != 250:
                        raise RuntimeError(f"floor: SMTP answered {code}")
            conn.quit()
        except BaseException as exc:
            errors.append(exc)

    times, size, cpu = timed_threads(
        sink, dbname, barrier, errors, [threading.Thread(target=work) for _ in range(workers)]
    )
    return send_run("floor", workers, n, times, size, cpu)


PHASES = (
    ("claim", "claim: the UPDATE … RETURNING"),
    ("claim_tx", "claim: its transaction, the loop (the rest)"),
    ("prepare_db", "prepare: database, policy checks, message row"),
    ("compose", "prepare: context, tracked links"),
    ("render", "prepare: render (subject, text, HTML)"),
    ("mime", "send: MIME build"),
    ("smtp", "send: SMTP MAIL/RCPT/DATA"),
    ("handover", "send: the one-row commit before each message"),
    ("record", "record: result, event, next step"),
)


@contextmanager
def phase_timers(acc: dict[str, float]) -> Iterator[None]:
    """Wrap the engine's own functions with timers, in this process only (``src/`` untouched);
    exclusive times per phase are derived in :func:`phase_split`."""
    import reclaim.adapters.channels.email as email_channel
    from reclaim.adapters.db.flow_repositories import SqlMessages, SqlSteps
    from reclaim.adapters.templates.renderer import TemplateRenderer

    targets = [
        (SqlSteps, "claim", "claim"),
        (delivery, "release_expired", "release"),
        (delivery, "_prepare", "prepare"),
        (delivery, "_compose", "compose"),
        (TemplateRenderer, "render", "render"),
        (delivery, "_send", "send"),
        (email_channel, "build_mime", "mime"),
        (SqlMessages, "hand_over", "handover"),
        (delivery, "_record", "record"),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name, _ in targets]

    def timed(key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[key] = acc.get(key, 0.0) + time.perf_counter() - t

        return wrapper

    for obj, name, key in targets:
        setattr(obj, name, timed(key, getattr(obj, name)))
    try:
        yield
    finally:
        for obj, name, fn in saved:
            setattr(obj, name, fn)


def phase_split(acc: dict[str, float], elapsed: float, n: int) -> dict[str, float]:
    """Milliseconds per message of each phase, exclusive (a phase's inner phases taken out)."""
    ms = {k: 1000 * v / n for k, v in acc.items()}
    total = 1000 * elapsed / n
    out = {
        "claim": ms.get("claim", 0.0),
        "prepare_db": ms.get("prepare", 0.0) - ms.get("compose", 0.0),
        "compose": ms.get("compose", 0.0) - ms.get("render", 0.0),
        "render": ms.get("render", 0.0),
        "mime": ms.get("mime", 0.0),
        "smtp": ms.get("send", 0.0) - ms.get("mime", 0.0),
        "handover": ms.get("handover", 0.0),
        "record": ms.get("record", 0.0),
    }
    inside = sum(ms.get(k, 0.0) for k in ("prepare", "send", "handover", "record"))
    out["claim_tx"] = total - inside - out["claim"]
    out["total"] = total
    return out


def profile_top(prof: cProfile.Profile, limit: int = 22) -> list[str]:
    """The engine's and the libraries' biggest entries by cumulative time."""
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("cumulative")
    stats.print_stats(r"reclaim/|email/|smtplib|jinja2/environment|sqlalchemy/orm/session", limit)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    root = str(Path(__file__).resolve().parents[1]) + "/"
    return [ln.replace(root, "").replace(sys.prefix + "/", "") for ln in lines[start:]]


def dkim_settings(workdir: Path) -> dict[str, str]:
    """A fresh 2048-bit RSA key for ``RECLAIM_DKIM_*`` (the channel's default algorithm)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = workdir / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"dkim_domain": DOMAIN, "dkim_selector": "rc2026", "dkim_key_file": str(path)}


def bench_throughput(
    db: str,
    url: str,
    sink: SinkProcess,
    *,
    workers: Sequence[int],
    n: int,
    rounds: int,
    warm: int,
    dkim: dict[str, str] | None,
    profile: bool,
    profile_dump: Path | None = None,
) -> list[ThroughputResult]:
    rt = runtime(url, sink)
    dbname = url.rsplit("/", 1)[1] if db == "postgresql" else None
    shop = new_shop(rt, now=T_SEND)
    markets = awake(T_SEND, hours=1)
    results: list[ThroughputResult] = []
    clock = itertools.count(1)  # each engine run at its own minute: only its steps are due

    def batch(count: int) -> datetime:
        now = T_SEND + timedelta(minutes=next(clock))
        seed(rt, shop, lambda k: now - timedelta(seconds=k % 300), count, markets=markets)
        return now

    try:
        for w in workers:
            result = ThroughputResult(db=db, workers=w, n=n)
            results.append(result)
            # Warm-up, which also yields the floor's bytes: the engine's own messages.
            now = batch(warm)
            sink.call("keep", min(warm, 400))
            run_engine(rt, sink, w, now, dbname=dbname, expect=warm, kind="warm-up")
            kept = sink.call("kept")
            run_floor(sink, kept, w, warm, dbname=dbname)
            for r in range(rounds):
                result.runs.append(run_floor(sink, kept, w, n, dbname=dbname))
                floor = result.runs[-1]
                now = batch(n)
                result.runs.append(run_engine(rt, sink, w, now, dbname=dbname, expect=n))
                eng = result.runs[-1]
                console.print(
                    f"  {db:10} W={w} round {r + 1}/{rounds}: floor {floor.rate:7.0f}/s, "
                    f"engine {eng.rate:6.0f}/s ({eng.rate / floor.rate:4.0%}); CPU ms/msg: "
                    f"engine {eng.own_cpu_ms:.2f}, floor client {floor.own_cpu_ms:.2f}, sink "
                    f"{eng.sink_cpu_ms:.2f}/{floor.sink_cpu_ms:.2f}, PostgreSQL "
                    f"{eng.pg_cpu_ms:.2f}; rest of box {eng.rest_cores:.2f} cores; "
                    f"{eng.avg_kb:.1f} kB/msg"
                )
            if w == 1:
                acc: dict[str, float] = {}
                now = batch(n)
                with phase_timers(acc):
                    run = run_engine(rt, sink, 1, now, dbname=dbname, expect=n, kind="timed")
                result.phases = phase_split(acc, run.elapsed, n)
                console.print(
                    f"  {db:10} W=1 phases (ms/msg): "
                    + ", ".join(f"{k} {v:.2f}" for k, v in result.phases.items())
                )
                if profile:
                    prof = cProfile.Profile()
                    now = batch(n)
                    run_engine(
                        rt,
                        sink,
                        1,
                        now,
                        dbname=dbname,
                        expect=n,
                        kind="profiled",
                        wrap=prof.runcall,
                    )
                    result.profile_top = profile_top(prof)
                    if profile_dump is not None:
                        profile_dump.mkdir(parents=True, exist_ok=True)
                        prof.dump_stats(profile_dump / f"{db}.prof")
                if dkim is not None:
                    signed_rt = runtime(url, sink, **dkim)
                    try:
                        now = batch(warm)
                        run_engine(
                            signed_rt, sink, 1, now, dbname=dbname, expect=warm, kind="warm-up"
                        )
                        for _ in range(rounds):
                            now = batch(n)
                            result.runs.append(
                                run_engine(
                                    signed_rt,
                                    sink,
                                    1,
                                    now,
                                    dbname=dbname,
                                    expect=n,
                                    kind="engine+dkim",
                                )
                            )
                        console.print(
                            f"  {db:10} W=1 with DKIM (rsa-sha256, 2048 bits): "
                            f"{result.median('engine+dkim'):.0f}/s"
                        )
                    finally:
                        signed_rt.close()
    finally:
        rt.close()
    return results


# -- part 2: lateness under a burst ------------------------------------------------------------


@dataclass
class BurstResult:
    db: str
    workers: int
    n: int
    seed_s: float
    ref_rate: float  # part 1's engine rate for this database and W (NaN: not measured)
    due_at: float  # epoch seconds
    received: int
    duplicates: int
    lateness: dict[str, float]  # s: first, p50, p99, max
    excess: dict[str, float]  # s: p50, p99, max (lateness - rank / ref_rate)
    excess_own: dict[str, float]  # s: p50, p99, max (lateness - rank / the burst's own rate)
    rate: float  # the burst's own sustained rate: (N - 1) / (last arrival - first arrival)
    rate_tenths: list[float]  # messages/s in each tenth of the arrivals
    steps: dict[str, int]  # first steps by status at the end
    sent_at_behind: dict[str, float]  # s: arrival - the message's recorded sent_at (p50, p99, max)
    messages: dict[str, int]  # messages by status
    cpu: dict[str, float]


def quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1)]


def bench_burst(
    db: str,
    url: str,
    sink: SinkProcess,
    *,
    workers: int,
    n: int,
    ref_rate: float,
) -> BurstResult:
    rt = runtime(url, sink)  # the system clock: the workers' now is the wall clock
    dbname = url.rsplit("/", 1)[1] if db == "postgresql" else None
    try:
        start = datetime.now(UTC)
        shop = new_shop(rt, now=start)
        expected_h = n / (ref_rate if ref_rate == ref_rate else 50) / 3600 + 0.25
        markets = awake(start, hours=expected_h)
        seed_s = seed(rt, shop, lambda k: FAR, n, markets=markets, label=f"burst of {n:,}")
        settle(rt)
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=worker.run_forever,
                args=(rt, stop),
                kwargs={"poll_seconds": rt.settings.worker_poll_seconds},
                name=f"worker-{k}",
                daemon=True,
            )
            for k in range(workers)
        ]
        for th in threads:
            th.start()
        time.sleep(1.5)  # their first (idle) rounds are done: they poll
        sink.take()
        due = math.ceil(time.time()) + 2
        due_at = datetime.fromtimestamp(due, UTC)
        with rt.engine.begin() as conn:
            conn.execute(
                steps.update()
                .where(steps.c.status == "scheduled", steps.c.due_at == FAR)
                .values(due_at=due_at)
            )
        if db == "postgresql":  # what autovacuum's ANALYZE would know of a table this busy
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE steps")
        released = time.time()
        if released > due:
            console.print(
                f"[red]  the burst was released {released - due:.1f} s after its due time"
            )
        meter = CpuMeter(sink, dbname)
        meter.start()
        progress = Progress(
            TextColumn(f"  burst {db} W={workers}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task("", total=n)
            last, last_change = 0, time.monotonic()
            while True:
                time.sleep(0.5)
                got = int(sink.call("count"))
                progress.update(task, completed=got)
                if got != last:
                    last, last_change = got, time.monotonic()
                if got >= n or time.monotonic() - last_change > 60:
                    break
            time.sleep(1.0)  # a straggler sent twice would arrive now
        cpu = meter.stop()
        stop.set()
        for th in threads:
            th.join(60)
        times, ids, _, _ = sink.take()
        with rt.engine.connect() as conn:
            step_counts = {
                str(s): int(c)
                for s, c in conn.exec_driver_sql(
                    "SELECT status, count(*) FROM steps WHERE position = 0 GROUP BY status"
                )
            }
            message_counts = {
                str(s): int(c)
                for s, c in conn.exec_driver_sql(
                    "SELECT status, count(*) FROM messages GROUP BY status"
                )
            }
            recorded = {i: t for i, t in conn.execute(select(messages.c.id, messages.c.sent_at))}
    finally:
        rt.close()
    # How far before its real send each message's recorded sent_at (and Date header) lies.
    behind = sorted(
        t - recorded[i].timestamp()
        for t, i in zip(times, ids, strict=True)
        if recorded.get(i) is not None
    )
    arrivals = sorted(times)
    lateness = [t - due for t in arrivals]
    excess = sorted(
        lat - (k + 1) / ref_rate if ref_rate == ref_rate else float("nan")
        for k, lat in enumerate(lateness)
    )
    # The same against the burst's own sustained rate (first to last arrival): what is left
    # is the start-up delay and any unevenness, not a difference between the two runs' rates.
    own = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else float("nan")
    excess_own = sorted(lat - (k + 1) / own for k, lat in enumerate(lateness))
    tenth = max(1, len(arrivals) // 10)
    tenths = []
    for k in range(0, len(arrivals) - tenth + 1, tenth):
        chunk = arrivals[k : k + tenth]
        span = chunk[-1] - (arrivals[k - 1] if k else chunk[0])
        tenths.append(len(chunk) / span if span > 0 else float("nan"))
    return BurstResult(
        db=db,
        workers=workers,
        n=n,
        seed_s=seed_s,
        ref_rate=ref_rate,
        due_at=due,
        received=len(times),
        duplicates=sum(c - 1 for c in Counter(ids).values() if c > 1),
        lateness={
            "first": lateness[0] if lateness else float("nan"),
            "p50": quantile(lateness, 0.50),
            "p99": quantile(lateness, 0.99),
            "max": lateness[-1] if lateness else float("nan"),
        },
        excess={
            "p50": quantile(excess, 0.50),
            "p99": quantile(excess, 0.99),
            "max": excess[-1] if excess else float("nan"),
        },
        excess_own={
            "p50": quantile(excess_own, 0.50),
            "p99": quantile(excess_own, 0.99),
            "max": excess_own[-1] if excess_own else float("nan"),
        },
        rate=own,
        rate_tenths=tenths,
        steps=step_counts,
        sent_at_behind={
            "p50": quantile(behind, 0.50),
            "p99": quantile(behind, 0.99),
            "max": behind[-1] if behind else float("nan"),
        },
        messages=message_counts,
        cpu=cpu,
    )


# -- part 3: claim cost vs backlog -------------------------------------------------------------


@dataclass
class ClaimResult:
    db: str
    future: int
    due: int
    seed_s: float
    statement_us: float  # median: the claim's UPDATE … RETURNING
    transaction_us: float  # median: with its BEGIN and COMMIT, as run_due_steps does it
    claimed: int
    plan: list[str]


def claim(uow: Any, now: datetime) -> Sequence[int]:
    """One claim as ``run_due_steps`` makes it (its batch, its lease, a claim token)."""
    return uow.steps.claim(  # type: ignore[no-any-return]
        now=now, lease_until=now + delivery.LEASE, limit=BATCH, token="bench-claims"
    )


def claim_sql(rt: Runtime, now: datetime) -> tuple[str, Any]:
    """The claim statement exactly as the driver receives it, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        head = statement.lstrip().upper()
        if head.startswith("UPDATE STEPS") or (head.startswith("WITH") and "UPDATE STEPS" in head):
            seen.append((statement, params))

    event.listen(rt.engine, "before_cursor_execute", listen)
    try:
        with rt.uow() as uow:
            claim(uow, now)
            uow.rollback()
    finally:
        event.remove(rt.engine, "before_cursor_execute", listen)
    return seen[0]


def explain_claim(rt: Runtime, now: datetime) -> list[str]:
    statement, params = claim_sql(rt, now)
    raw = rt.engine.raw_connection()
    try:
        cur = raw.cursor()
        if rt.engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            lines = [str(r[0]) for r in cur.fetchall()]
            raw.rollback()  # EXPLAIN ANALYZE ran the UPDATE
        else:
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            lines = [f"{'  ' * 0}{r[3]} (id {r[0]}, parent {r[1]})" for r in cur.fetchall()]
        cur.close()
    finally:
        raw.close()
    return lines


def time_claims(rt: Runtime, now: datetime, reps: int) -> tuple[float, float, int]:
    """Median µs of the claim statement alone and of the claim as ``run_due_steps`` makes it
    (a fresh unit of work: connection, BEGIN, the statement, COMMIT), over ``reps`` claims
    each; every claimed batch is put back (untimed), so each claim sees the same table."""

    def put_back(ids: Sequence[int]) -> None:
        with rt.engine.begin() as conn:
            conn.execute(
                steps.update()
                .where(steps.c.id.in_(list(ids)))
                .values(status="scheduled", lease_until=None, attempts=0)
            )

    statement, transaction, claimed = [], [], 0
    for rep in range(reps + 5):  # the first five warm the caches
        with rt.uow() as uow:
            uow.execute(select(1))  # connection, BEGIN: not the statement's cost
            t0 = time.perf_counter()
            ids = claim(uow, now)
            t1 = time.perf_counter()
            uow.commit()
        put_back(ids)
        uow = rt.uow()
        t2 = time.perf_counter()
        with uow:
            again = claim(uow, now)
            uow.commit()
        t3 = time.perf_counter()
        put_back(again)
        if rep >= 5:
            statement.append(1e6 * (t1 - t0))
            transaction.append(1e6 * (t3 - t2))
            claimed = len(ids)
    return statistics.median(statement), statistics.median(transaction), claimed


def bench_claim(
    db: str, url: str, *, sizes: Sequence[int], due: int, reps: int
) -> list[ClaimResult]:
    rt = runtime(url, None)
    results = []
    try:
        shop = new_shop(rt, now=T_CLAIM)
        # Due steps of the last hour, and future ones spread over the next 72 h (the 24 h and
        # 72 h steps of running flows), all with their cases.
        seed(
            rt,
            shop,
            lambda k: T_CLAIM - timedelta(seconds=1 + (k * 7) % 3600),
            due,
            markets=MARKETS,
            label=f"{due:,} due steps",
        )
        seeded = 0
        for size in sorted(sizes):
            seed_s = seed(
                rt,
                shop,
                lambda k: T_CLAIM + timedelta(seconds=60 + (k * 7919) % (72 * 3600)),
                size - seeded,
                markets=MARKETS,
                label=f"future steps {seeded:,}→{size:,}",
            )
            seeded = size
            settle(rt)
            plan = explain_claim(rt, T_CLAIM)
            stmt_us, tx_us, claimed = time_claims(rt, T_CLAIM, reps)
            results.append(ClaimResult(db, size, due, seed_s, stmt_us, tx_us, claimed, plan))
            console.print(
                f"  {db:10} {size:>9,} future steps: claim of {claimed} "
                f"{stmt_us:7.0f} µs (statement), {tx_us:7.0f} µs (with its transaction)"
            )
            for line in plan:
                console.print(f"      {line}", highlight=False, markup=False)
    finally:
        rt.close()
    return results


# -- machine, report -----------------------------------------------------------------------------


def machine(pg_admin: str, dbs: Sequence[str]) -> dict[str, str]:
    info = ingest_bench.machine(pg_admin, dbs)
    info.pop("uvicorn loop/http", None)
    info["libraries"] = ", ".join(
        f"{p} {importlib.metadata.version(p)}"
        for p in (
            "sqlalchemy",
            "psycopg",
            "aiosmtpd",
            "jinja2",
            "babel",
            "css-inline",
            "cryptography",
        )
    )
    return info


def report(
    info: dict[str, str],
    thr: list[ThroughputResult],
    bursts: list[BurstResult],
    claims: list[ClaimResult],
    args: argparse.Namespace,
) -> None:
    t = Table(title="Machine", show_header=False)
    for k, v in info.items():
        t.add_row(k, v)
    console.print(t)

    if thr:
        t = Table(
            title=f"Send throughput — median of {args.rounds} alternating runs of {args.messages} "
            f"messages over W connections; goal: engine ≥ {GOAL_RATIO:.0%} of floor"
        )
        for col in (
            "database",
            "W",
            "sender",
            "messages/s",
            "engine / floor",
            "goal",
            "ms/msg",
            "CPU ms/msg (sender)",
            "sink CPU ms/msg",
            "PG CPU ms/msg",
            "box busy",
            "rest of box",
            "kB/msg",
            "not received",
        ):
            t.add_column(col, justify="right")
        for db in dict.fromkeys(r.db for r in thr):
            mine = [r for r in thr if r.db == db]
            for n_w, r in enumerate(mine):
                kinds = ["floor", "engine"] + (
                    ["engine+dkim"] if r.median("engine+dkim") == r.median("engine+dkim") else []
                )
                for kind in kinds:
                    rate = r.median(kind)
                    ratio = rate / r.median("floor")
                    met = "[green]met" if ratio >= GOAL_RATIO else "[red]missed"
                    t.add_row(
                        db if (n_w == 0 and kind == "floor") else "",
                        str(r.workers) if kind == "floor" else "",
                        kind,
                        f"{rate:.0f}",
                        "" if kind == "floor" else f"{ratio:.0%}",
                        "" if kind == "floor" else met,
                        f"{1000 * r.workers / rate:.2f}",
                        f"{r.median(kind, 'own_cpu_ms'):.2f}",
                        f"{r.median(kind, 'sink_cpu_ms'):.2f}",
                        f"{r.median(kind, 'pg_cpu_ms'):.2f}" if db == "postgresql" else "–",
                        f"{r.median(kind, 'box_busy'):.0%}",
                        f"{r.median(kind, 'rest_cores'):.2f} cores",
                        f"{r.median(kind, 'avg_kb'):.1f}",
                        str(sum(x.n - x.received for x in r.runs if x.kind == kind)),
                        end_section=kind == kinds[-1] and n_w == len(mine) - 1,
                    )
        console.print(t)
        timed = [r for r in thr if r.phases]
        if timed:
            t = Table(title="Where an engine message's time goes (W = 1, ms per message)")
            t.add_column("phase")
            for r in timed:
                t.add_column(r.db, justify="right")
            for key, label in (*PHASES, ("total", "total (wall clock / messages)")):
                t.add_row(label, *(f"{r.phases.get(key, float('nan')):.2f}" for r in timed))
            console.print(t)
        for r in thr:
            if r.profile_top:
                console.print(f"[bold]cProfile, {r.db}, W=1, by cumulative time[/]")
                for line in r.profile_top:
                    console.print("  " + line, highlight=False, markup=False)

    if bursts:
        t = Table(
            title="Lateness under a burst — N steps due at one instant D, W workers on the wall "
            "clock; lateness = arrival − D; excess = lateness − rank / R (R: part 1's rate); "
            f"goal: p99 excess ≤ {GOAL_EXCESS_S:.0f} s"
        )
        for col in ("database", "W", "N", "R msg/s", "N / R s", "first s", "p50 s", "p99 s",
                    "max s", "excess p50 s", "excess p99 s", "goal", "own rate msg/s",
                    "excess p99 s vs own rate"):  # fmt: skip
            t.add_column(col, justify="right")
        for b in bursts:
            ok = b.excess["p99"] <= GOAL_EXCESS_S
            t.add_row(
                b.db,
                str(b.workers),
                f"{b.n:,}",
                f"{b.ref_rate:.0f}",
                f"{b.n / b.ref_rate:.0f}",
                f"{b.lateness['first']:.2f}",
                f"{b.lateness['p50']:.1f}",
                f"{b.lateness['p99']:.1f}",
                f"{b.lateness['max']:.1f}",
                f"{b.excess['p50']:.1f}",
                f"{b.excess['p99']:.1f}",
                "[green]met" if ok else "[red]missed",
                f"{b.rate:.0f}",
                f"{b.excess_own['p99']:.1f}",
            )
        console.print(t)
        t = Table(title="The bursts' records — what the database and the sink hold afterwards")
        for col in ("database", "W", "msg/s per tenth of the burst", "first steps by status",
                    "messages by status", "duplicates at the sink",
                    "recorded sent_at before arrival p50 / p99 / max s", "seed s"):  # fmt: skip
            t.add_column(col, justify="right")
        for b in bursts:
            t.add_row(
                b.db,
                str(b.workers),
                " ".join(f"{r:.0f}" for r in b.rate_tenths),
                ", ".join(f"{k} {v:,}" for k, v in sorted(b.steps.items())),
                ", ".join(f"{k} {v:,}" for k, v in sorted(b.messages.items())),
                str(b.duplicates),
                " / ".join(f"{b.sent_at_behind[k]:.1f}" for k in ("p50", "p99", "max")),
                f"{b.seed_s:.0f}",
            )
        console.print(t)

    if claims:
        t = Table(
            title=f"Claim cost vs backlog — one claim of {BATCH} due steps; goal: largest / "
            f"smallest ≤ {GOAL_CLAIM} (statement)"
        )
        for col in (
            "database",
            "future steps",
            "due steps",
            "claimed",
            "statement µs",
            "vs smallest",
            "goal",
            "with transaction µs",
            "vs smallest ",
            "seed s",
        ):
            t.add_column(col, justify="right")
        for db in dict.fromkeys(c.db for c in claims):
            mine = [c for c in claims if c.db == db]
            for k, c in enumerate(mine):
                ratio = c.statement_us / mine[0].statement_us
                t.add_row(
                    db if k == 0 else "",
                    f"{c.future:,}",
                    f"{c.due:,}",
                    str(c.claimed),
                    f"{c.statement_us:.0f}",
                    f"{ratio:.2f}",
                    "" if k == 0 else ("[green]met" if ratio <= GOAL_CLAIM else "[red]missed"),
                    f"{c.transaction_us:.0f}",
                    f"{c.transaction_us / mine[0].transaction_us:.2f}",
                    f"{c.seed_s:.0f}",
                    end_section=k == len(mine) - 1,
                )
        console.print(t)


# -- main ----------------------------------------------------------------------------------------


def ints(text_value: str) -> list[int]:
    return [int(s.replace("_", "")) for s in text_value.split(",") if s.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--messages", type=int, default=2000, help="messages per throughput run")
    p.add_argument("--rounds", type=int, default=3, help="throughput runs of each kind")
    p.add_argument("--workers-pg", default="1,2,4", help="W on PostgreSQL, comma-separated")
    p.add_argument("--workers-sqlite", default="1,2", help="W on SQLite, comma-separated")
    p.add_argument("--burst", type=int, default=100_000, help="steps due at one instant")
    p.add_argument("--burst-workers-pg", default="1,4", help="W of the bursts on PostgreSQL")
    p.add_argument("--burst-workers-sqlite", default="1", help="W of the bursts on SQLite")
    p.add_argument("--future", default="10000,1000000", help="future steps for the claim part")
    p.add_argument("--due", type=int, default=1000, help="due steps in the claim part")
    p.add_argument("--claims", type=int, default=50, help="timed claims per size")
    p.add_argument("--no-dkim", action="store_true", help="skip the DKIM-signed engine runs")
    p.add_argument("--profile", action="store_true", help="cProfile one W=1 run per database")
    p.add_argument(
        "--profile-dump",
        type=Path,
        help="with --profile: also write the raw profiles here (DB.prof), for pstats",
    )
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-burst", action="store_true")
    p.add_argument("--skip-claim", action="store_true")
    p.add_argument("--quick", action="store_true", help="small numbers: a smoke run")
    p.add_argument(
        "--relay-ms",
        type=float,
        default=0.0,
        help="the sink waits this long before each reply, as a relay across a network would "
        "(default 0: the local sink of the goal)",
    )
    p.add_argument("--pg", default=PG_DEFAULT, help="a PostgreSQL database to connect to")
    p.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.messages, args.rounds, args.burst, args.due, args.claims = 80, 1, 150, 200, 10
        args.workers_pg, args.workers_sqlite, args.future = "1,2", "1", "2000,20000"
        args.burst_workers_pg, args.burst_workers_sqlite = "2", "1"
        args.no_dkim = True
    args.workers = {"postgresql": ints(args.workers_pg), "sqlite": ints(args.workers_sqlite)}
    args.burst_workers = {
        "postgresql": ints(args.burst_workers_pg),
        "sqlite": ints(args.burst_workers_sqlite),
    }
    args.sizes = ints(args.future)
    args.dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine(args.pg, args.dbs)
    console.print(f"[bold]bench/send.py[/] {' '.join(sys.argv[1:])}  ({info['date']})")
    thr: list[ThroughputResult] = []
    bursts: list[BurstResult] = []
    claims: list[ClaimResult] = []
    workdir = Path(tempfile.mkdtemp(prefix="reclaim-bench-send-"))
    sink = SinkProcess(args.relay_ms)
    database = functools.partial(ingest_bench.database, pg_admin=args.pg, workdir=workdir)
    try:
        dkim = None if args.no_dkim else dkim_settings(workdir)
        for db in args.dbs:
            ws = args.workers[db]
            if not args.skip_throughput:
                console.rule(f"Send throughput on {db}")
                with database(db, "reclaim_bench_send") as url:
                    thr += bench_throughput(
                        db,
                        url,
                        sink,
                        workers=ws,
                        n=args.messages,
                        rounds=args.rounds,
                        warm=max(40 if args.quick else 100, args.messages // 5),
                        dkim=dkim,
                        profile=args.profile,
                        profile_dump=args.profile_dump,
                    )
            if not args.skip_burst:
                for w in args.burst_workers[db]:
                    console.rule(f"Burst of {args.burst:,} due steps on {db}, W={w}")
                    ref = [r.median("engine") for r in thr if r.db == db and r.workers == w]
                    with database(db, "reclaim_bench_send_burst") as url:
                        bursts.append(
                            bench_burst(
                                db,
                                url,
                                sink,
                                workers=w,
                                n=args.burst,
                                ref_rate=ref[0] if ref else float("nan"),
                            )
                        )
                    b = bursts[-1]
                    console.print(
                        f"  {db:10} W={w}: {b.received:,} received in {b.lateness['max']:.1f} s; "
                        f"lateness p50 {b.lateness['p50']:.1f} s, p99 {b.lateness['p99']:.1f} s; "
                        f"excess p99 {b.excess['p99']:.1f} s (vs its own rate "
                        f"{b.rate:.0f}/s: {b.excess_own['p99']:.1f} s); steps {b.steps}, "
                        f"{b.duplicates} duplicates at the sink"
                    )
            if not args.skip_claim:
                console.rule(f"Claim cost vs backlog on {db}")
                with database(db, "reclaim_bench_send_claim") as url:
                    claims += bench_claim(db, url, sizes=args.sizes, due=args.due, reps=args.claims)
    finally:
        sink.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    report(info, thr, bursts, claims, args)
    if args.json:
        payload = {
            "machine": info,
            "args": {k: v for k, v in vars(args).items() if k != "json"},
            "throughput": [asdict(r) for r in thr],
            "burst": [asdict(b) for b in bursts],
            "claim": [asdict(c) for c in claims],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))


if __name__ == "__main__":
    main()
