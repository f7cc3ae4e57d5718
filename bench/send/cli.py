"""The sending benchmark's arguments and ``main``: each part on each database, then the report."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import bench.send
from bench.harness import cli
from bench.harness import db as harness_db
from bench.harness.output import console, headline, scratch, write_json
from bench.harness.sink import SinkProcess
from bench.send.burst import BurstResult, bench_burst
from bench.send.claims import ClaimResult, bench_claim
from bench.send.report import machine, report
from bench.send.throughput import ThroughputResult, bench_throughput, dkim_settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = cli.parser("bench.send", bench.send.__doc__)
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
    cli.add_quick(p)
    p.add_argument(
        "--relay-ms",
        type=float,
        default=0.0,
        help="the sink waits this long before each reply, as a relay across a network would "
        "(default 0: the local sink of the goal)",
    )
    cli.add_pg_json(p)
    args = p.parse_args(argv)
    if args.quick:
        args.messages, args.rounds, args.burst, args.due, args.claims = 80, 1, 150, 200, 10
        args.workers_pg, args.workers_sqlite, args.future = "1,2", "1", "2000,20000"
        args.burst_workers_pg, args.burst_workers_sqlite = "2", "1"
        args.no_dkim = True
    args.workers = {
        "postgresql": cli.ints(args.workers_pg),
        "sqlite": cli.ints(args.workers_sqlite),
    }
    args.burst_workers = {
        "postgresql": cli.ints(args.burst_workers_pg),
        "sqlite": cli.ints(args.burst_workers_sqlite),
    }
    args.sizes = cli.ints(args.future)
    args.dbs = cli.dbs(args)
    return args


def run(
    args: argparse.Namespace,
    sink: SinkProcess,
    workdir: Path,
    thr: list[ThroughputResult],
    bursts: list[BurstResult],
    claims: list[ClaimResult],
) -> None:
    """Each part on each database, in order; the results are appended to the lists."""
    database = functools.partial(harness_db.database, pg_admin=args.pg, workdir=workdir)
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


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine(args.pg, args.dbs)
    headline(console, "bench.send", info)
    thr: list[ThroughputResult] = []
    bursts: list[BurstResult] = []
    claims: list[ClaimResult] = []
    with scratch("reclaim-bench-send-") as workdir:
        sink = SinkProcess(args.relay_ms)
        try:
            run(args, sink, workdir, thr, bursts, claims)
        finally:
            sink.stop()
    report(info, thr, bursts, claims, args)
    if args.json:
        write_json(
            args.json,
            info,
            args,
            throughput=[asdict(r) for r in thr],
            burst=[asdict(b) for b in bursts],
            claim=[asdict(c) for c in claims],
        )
