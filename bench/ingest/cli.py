"""The ingestion benchmark's arguments and ``main``: each part on each database, then the report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict

import bench.ingest
from bench.harness import cli
from bench.harness.db import database
from bench.harness.machine import machine
from bench.harness.output import console, headline, scratch, write_json
from bench.ingest.http import HttpResult, bench_http
from bench.ingest.processing import ProcResult, bench_processing
from bench.ingest.report import report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = cli.parser("bench.ingest", bench.ingest.__doc__)
    p.add_argument("--requests", type=int, default=5000, help="deliveries per HTTP run")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    p.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: raw asyncio HTTP/1.1 (cheap) or httpx.AsyncClient",
    )
    p.add_argument("--rounds", type=int, default=3, help="runs of each kind (median is kept)")
    p.add_argument("--stored", default="10000,1000000", help="stored cases, comma-separated")
    p.add_argument("--events", type=int, default=1000, help="inbox events per processing round")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--skip-processing", action="store_true")
    cli.add_quick(p)
    cli.add_pg_json(p)
    args = p.parse_args(argv)
    if args.quick:
        args.requests, args.rounds, args.events = 300, 1, 200
        args.stored = "2000,20000"
    args.sizes = cli.ints(args.stored)
    if any(size < 100 for size in args.sizes):
        p.error("--stored: each size must be at least 100 cases")
    args.dbs = cli.dbs(args)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine(args.pg, args.dbs)
    headline(console, "bench.ingest", info)
    http: list[HttpResult] = []
    proc: list[ProcResult] = []
    with scratch("reclaim-bench-") as workdir:
        for db in args.dbs:
            if not args.skip_http:
                console.rule(f"HTTP accept on {db}")
                with database(db, "reclaim_bench_http", args.pg, workdir) as url:
                    http.append(
                        bench_http(
                            db,
                            url,
                            requests=args.requests,
                            concurrency=args.concurrency,
                            rounds=args.rounds,
                            client_kind=args.client,
                        )
                    )
            if not args.skip_processing:
                console.rule(f"Processing on {db}")
                with database(db, "reclaim_bench_proc", args.pg, workdir) as url:
                    proc += bench_processing(
                        db, url, sizes=args.sizes, events=args.events, rounds=args.rounds
                    )
    report(info, http, proc, args)
    if args.json:
        write_json(
            args.json,
            info,
            args,
            http=[asdict(h) for h in http],
            processing=[asdict(p) for p in proc],
        )
