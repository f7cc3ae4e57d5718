"""The console benchmark's arguments and ``main``: seed each database, then each page and its
floor in alternation; the table against the goal."""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text

import bench.console
from bench.console.pages import PAGES, Page
from bench.harness import cli
from bench.harness import db as harness_db
from bench.harness.each_db import run_each_db
from bench.harness.output import console, machine_table
from bench.harness.stats import quantile
from bench.reports.seed import NOW, TABLES, Sizes, counts, seed
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.api import create_app
from reclaim.services.users import add_user, sign_in

GOAL_MS = 300.0
DB_NAME = "reclaim_bench_console"
EMAIL, PASSWORD = "bench@example.com", "benchmark password 1"
MONTH_FROM, MONTH_TO = (
    datetime(2026, 10, 31, 23, tzinfo=UTC),
    datetime(2026, 11, 30, 23, tzinfo=UTC),
)


@dataclass
class PageResult:
    page: str
    status: int
    server_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)

    def p(self, which: str, q: float) -> float:
        return quantile(sorted(getattr(self, which)), q)


@dataclass
class Result:
    db: str
    rows: dict[str, int]
    seed_s: float
    pages: list[PageResult] = field(default_factory=list)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = cli.parser("bench.console", bench.console.__doc__)
    p.add_argument("--cases", type=lambda s: int(s.replace("_", "")), default=100_000)
    p.add_argument("--requests", type=int, default=40, help="requests a page (p95 of these)")
    p.add_argument("--page", action="append", help="only these pages (repeat)")
    cli.add_quick(p)
    cli.add_pg_json(p)
    args = p.parse_args(argv)
    if args.quick:
        args.cases //= 10
        args.requests = min(args.requests, 15)
    args.dbs = cli.dbs(args)
    return args


def _params(rt: Runtime, store: str) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        case = conn.execute(
            text(
                "SELECT id, customer_key FROM cases WHERE store_id = :s AND status = 'open'"
                " ORDER BY id DESC LIMIT 1"
            ),
            {"s": store},
        ).one()
    return {"store": store, "case": case.id, "customer": case.customer_key,
            "month_from": MONTH_FROM, "month_to": MONTH_TO}  # fmt: skip


def _measure(rt: Runtime, c: TestClient, page: Page, params: dict[str, Any], n: int) -> PageResult:
    path = page.path.format(**params)
    floor = text(page.floor)
    bound = {k: v for k, v in params.items() if f":{k}" in page.floor}
    first = c.get(path, follow_redirects=False)
    out = PageResult(page.name, first.status_code)
    if first.status_code != 200:
        return out
    with rt.engine.connect() as conn:
        conn.execute(floor, bound).all()  # warm
        for _ in range(n):
            began = time.perf_counter()
            conn.execute(floor, bound).all()
            out.floor_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            answer = c.get(path, follow_redirects=False)
            out.server_ms.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, (path, answer.status_code)
    return out


def bench_db(db: str, url: str, args: argparse.Namespace) -> Result:
    rt = bootstrap(Settings(database_url=url, rate_limit_enabled=False), clock=lambda: NOW)
    try:
        init_database(rt)
        began = time.perf_counter()
        store = seed(rt, Sizes(args.cases))
        harness_db.settle(rt, TABLES)
        result = Result(db, counts(rt), time.perf_counter() - began)
        console.print(f"{db}: seeded and settled in {result.seed_s:.0f} s: {result.rows}")
        add_user(uow=rt.uow(), hasher=rt.passwords, email=EMAIL, password=PASSWORD,
                 role="admin", now=NOW, timezone="Europe/Paris")  # fmt: skip
        token = sign_in(uow=rt.uow(), hasher=rt.passwords, email=EMAIL, password=PASSWORD,
                        now=NOW).token  # fmt: skip
        c = TestClient(
            create_app(rt), base_url="http://127.0.0.1:8000", raise_server_exceptions=False
        )
        c.cookies.set("reclaim_session", token, path="/console")
        params = _params(rt, store)
        chosen = [p for p in PAGES if not args.page or p.name in args.page]
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"{db}: pages", total=len(chosen))
            for page in chosen:
                result.pages.append(_measure(rt, c, page, params, args.requests))
                bar.advance(task)
    finally:
        rt.close()
    return result


def _ms(x: float) -> str:
    return f"{x:.1f} ms" if x == x else "—"


def report(info: dict[str, str], results: Sequence[Result], args: argparse.Namespace) -> None:
    machine_table(console, info)
    for r in results:
        t = Table(title=f"{r.db}: {r.rows['cases']:,} cases, {args.requests} requests a page")
        for col in ("page", "status", "floor p50", "floor p95", "server p50", "server p95",
                    "ratio (p95)", "goal p95 ≤ 300 ms"):  # fmt: skip
            t.add_column(col, justify="left" if col == "page" else "right")
        for p in r.pages:
            if not p.server_ms:
                t.add_row(p.page, str(p.status), *["—"] * 5, "not measured")
                continue
            s95, f95 = p.p("server_ms", 0.95), p.p("floor_ms", 0.95)
            t.add_row(
                p.page, str(p.status), _ms(p.p("floor_ms", 0.5)), _ms(f95),
                _ms(p.p("server_ms", 0.5)), _ms(s95), f"{s95 / max(f95, 0.001):.0f}×",
                "[green]met[/]" if s95 <= GOAL_MS else "[red]missed[/]",
            )  # fmt: skip
        console.print(t)
        worst = max((p.p("server_ms", 0.95) for p in r.pages if p.server_ms), default=0.0)
        console.print(f"{r.db}: worst page p95 {worst:.0f} ms (median of page p50s "
                      f"{statistics.median([p.p('server_ms', 0.5) for p in r.pages if p.server_ms] or [0]):.0f} ms)")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    run_each_db("bench.console", DB_NAME, parse_args(argv), bench_db, report)
