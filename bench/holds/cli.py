"""The holds benchmark's arguments and ``main``: both levels on each database, then the report."""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Sequence
from dataclasses import asdict

import bench.holds
from bench.harness import cli
from bench.harness import db as harness_db
from bench.harness.machine import machine
from bench.harness.output import headline, scratch, write_json
from bench.holds.http import bench_http
from bench.holds.report import report
from bench.holds.runs import Result, console
from bench.holds.service import bench_service
from bench.holds.stock import CASES, DB_NAME, new_shop
from reclaim.bootstrap import bootstrap, init_database
from reclaim.config import Settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = cli.parser("bench.holds", bench.holds.__doc__)
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
    cli.add_quick(p)
    cli.add_pg_json(p)
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
    args.dbs = cli.dbs(args)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine(args.pg, args.dbs)
    headline(console, "bench.holds", info)
    results: list[Result] = []
    began = time.perf_counter()
    cases = [CASES[c] for c in args.case_list]
    sizes = {"n": args.reservations, "warm": args.warm, "rounds": args.rounds,
             "clients": args.clients, "skus": args.skus}  # fmt: skip
    with scratch("reclaim-bench-holds-") as workdir:
        database = functools.partial(harness_db.database, pg_admin=args.pg, workdir=workdir)
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
    report(info, results, args)
    console.print(f"finished in {time.perf_counter() - began:.0f} s")
    if args.json:
        write_json(args.json, info, args, results=[asdict(r) for r in results])
