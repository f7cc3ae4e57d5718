"""The reports benchmark's arguments and ``main``: seed each database, then floor and report
in alternation, each run in a fresh process; the table against the goals."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.table import Table

import bench.reports
from bench.harness import cli
from bench.harness import db as harness_db
from bench.harness.each_db import run_each_db
from bench.harness.machine import REPO_ROOT
from bench.harness.output import console, machine_table
from bench.reports.seed import DB_NAME, MONTH, TABLES, Sizes, counts, seed
from reclaim.bootstrap import bootstrap, init_database
from reclaim.config import Settings

GOAL_S, GOAL_MB, GOAL_RATIO = 10.0, 500.0, 3.0


@dataclass
class Result:
    db: str
    rows: dict[str, int]
    seed_s: float
    floor_s: list[float] = field(default_factory=list)
    tables_s: list[float] = field(default_factory=list)
    report_s: list[float] = field(default_factory=list)
    report_peak_mb: list[float] = field(default_factory=list)
    report_before_mb: list[float] = field(default_factory=list)
    floor_peak_mb: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.report_s) / statistics.median(self.floor_s)

    @property
    def tables_ratio(self) -> float:
        return statistics.median(self.report_s) / statistics.median(self.tables_s)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = cli.parser("bench.reports", bench.reports.__doc__)
    p.add_argument("--cases", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    p.add_argument("--rounds", type=int, default=3, help="runs of each (median is kept)")
    p.add_argument(
        "--queries", action="store_true", help="also print each statement's time (stderr)"
    )
    cli.add_quick(p)
    cli.add_pg_json(p)
    args = p.parse_args(argv)
    if args.quick:
        args.cases //= 20
    if args.cases < 1000:
        p.error("--cases: at least 1000")
    args.dbs = cli.dbs(args)
    return args


def _run(url: str, store_id: str, what: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "bench.reports.measure", url, store_id, what],
        stdout=subprocess.PIPE,
        stderr=None if what == "queries" else subprocess.PIPE,
        text=True,
        check=True,
        cwd=REPO_ROOT,
        env=env,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def bench_db(db: str, url: str, args: argparse.Namespace) -> Result:
    rt = bootstrap(Settings(database_url=url))
    try:
        init_database(rt)
        began = time.perf_counter()
        store_id = seed(rt, Sizes(args.cases))
        harness_db.settle(rt, TABLES)
        result = Result(db, counts(rt), time.perf_counter() - began)
    finally:
        rt.close()
    console.print(f"{db}: seeded and settled in {result.seed_s:.0f} s: {result.rows}")
    if args.queries:
        _run(url, store_id, "queries")
    _run(url, store_id, "floor")  # warm-up: the pages the runs read, in the OS cache
    _run(url, store_id, "tables")
    _run(url, store_id, "report")
    for k in range(args.rounds):
        f = _run(url, store_id, "floor")
        t = _run(url, store_id, "tables")
        r = _run(url, store_id, "report")
        result.floor_s.append(f["seconds"])
        result.tables_s.append(t["seconds"])
        result.floor_peak_mb.append(f["peak_mb"])
        result.report_s.append(r["seconds"])
        result.report_peak_mb.append(r["peak_mb"])
        result.report_before_mb.append(r["before_mb"])
        console.print(
            f"  round {k + 1}: floor {f['seconds']:.3f} s, 7 tables {t['seconds']:.3f} s, "
            f"report {r['seconds']:.3f} s "
            f"(peak RSS {r['peak_mb']:.0f} MB)"
        )
    return result


def _mark(ok: bool) -> str:
    return "[green]met[/]" if ok else "[red]missed[/]"


def report(info: dict[str, str], results: Sequence[Result], args: argparse.Namespace) -> None:
    machine_table(console, info)
    t = Table(title=f"Monthly report ({MONTH}) of one store: medians of {args.rounds} runs")
    for col in ("db", "cases", "events", "cases in month", "floor", "7 tables", "report",
                "ratio", "ratio to 7 tables", "peak RSS", "of which before",
                "goals (≤ 10 s, ≤ 500 MB, ≤ 3×)"):  # fmt: skip
        t.add_column(col, justify="left" if col in ("db",) else "right")
    for r in results:
        s, mb = statistics.median(r.report_s), max(r.report_peak_mb)
        in_month = round(r.rows["cases"] / 10)
        t.add_row(
            r.db,
            f"{r.rows['cases']:,}",
            f"{r.rows['case_events']:,}",
            f"~{in_month:,}",
            f"{statistics.median(r.floor_s) * 1000:.0f} ms",
            f"{statistics.median(r.tables_s) * 1000:.0f} ms",
            f"{s * 1000:.0f} ms",
            f"{r.ratio:.1f}×",
            f"{r.tables_ratio:.1f}×",
            f"{mb:.0f} MB",
            f"{statistics.median(r.report_before_mb):.0f} MB",
            " / ".join(_mark(ok) for ok in (s <= GOAL_S, mb <= GOAL_MB, r.ratio <= GOAL_RATIO)),
        )
    console.print(t)
    console.print(
        "peak RSS: the report's process (Python, Reclaim's imports, the engine, the run); "
        "'of which before': its peak before the run started; floor: one scan of the cases "
        "table; 7 tables: one scan of each table the report reads (measure.tables)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    run_each_db("bench.reports", DB_NAME, parse_args(argv), bench_db, report)
