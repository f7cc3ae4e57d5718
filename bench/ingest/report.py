"""The ingestion benchmark's tables: HTTP accept against its floor, processing by store size."""

from __future__ import annotations

import argparse

from rich.table import Table

from bench.harness.output import console, machine_table
from bench.ingest.http import HttpResult
from bench.ingest.processing import ProcResult

GOAL_RATIO = 0.70


def report(
    info: dict[str, str], http: list[HttpResult], proc: list[ProcResult], args: argparse.Namespace
) -> None:
    machine_table(console, info)

    if http:
        t = Table(
            title=f"HTTP accept — median of {args.rounds} alternating runs of {args.requests} "
            f"deliveries, {args.concurrency} in flight, {args.client} client; "
            f"goal: real ≥ {GOAL_RATIO:.0%} of floor"
        )
        for col in ("database", "endpoint", "deliveries/s", "real / floor", "goal", "p50 ms",
                    "p99 ms", "server CPU ms/req", "client CPU ms/req", "box busy",
                    "rest of box", "PG sessions", "not accepted"):  # fmt: skip
            t.add_column(col, justify="right")
        for h in http:
            for endpoint in ("floor", "real"):
                real = endpoint == "real"
                met = "[green]met" if h.ratio >= GOAL_RATIO else "[red]missed"
                sessions = sum(r.pg_sessions for r in h.runs if r.endpoint == endpoint)
                t.add_row(
                    h.db if not real else "",
                    endpoint,
                    f"{h.median(endpoint):.0f}",
                    f"{h.ratio:.0%}" if real else "",
                    met if real else "",
                    f"{h.median(endpoint, 'p50_ms'):.1f}",
                    f"{h.median(endpoint, 'p99_ms'):.1f}",
                    f"{h.median(endpoint, 'server_cpu_ms'):.2f}",
                    f"{h.median(endpoint, 'client_cpu_ms'):.2f}",
                    f"{h.median(endpoint, 'machine_busy'):.0%}",
                    f"{h.median(endpoint, 'rest_cores'):.2f} cores",
                    str(sessions) if h.db == "postgresql" else "–",
                    str(sum(r.n - r.ok for r in h.runs if r.endpoint == endpoint)),
                    end_section=real,
                )
        console.print(t)

    if proc:
        t = Table(
            title=f"Processing from the inbox — median of {args.rounds} rounds of {args.events} "
            "events; goal: µs/event flat (largest store / smallest ≈ 1.0)"
        )
        for col in ("database", "stored cases", "rows: checkouts / orders", "seed s",
                    "events/s", "µs/event", "vs smallest", "accept µs/delivery",
                    "detect µs/case", "vs smallest ", "opened / due", "failed"):  # fmt: skip
            t.add_column(col, justify="right")
        for db in dict.fromkeys(p.db for p in proc):
            mine = [p for p in proc if p.db == db]
            base, dbase = mine[0].median("process_us"), mine[0].median("detect_us")
            for n, p in enumerate(mine):
                us, dus = p.median("process_us"), p.median("detect_us")
                t.add_row(
                    db if n == 0 else "",
                    f"{p.stored:,}",
                    f"{p.rows['checkouts'] / 1000:,.0f}k / {p.rows['orders'] / 1000:,.0f}k",
                    f"{p.seed_s:.0f}",
                    f"{1e6 / us:.0f}",
                    f"{us:.0f}",
                    f"{us / base:.2f}",
                    f"{p.median('accept_us'):.0f}",
                    f"{dus:.0f}",
                    f"{dus / dbase:.2f}",
                    f"{sum(r.opened for r in p.rounds)} / {sum(r.due for r in p.rounds)}",
                    str(sum(r.failed for r in p.rounds)),
                    end_section=n == len(mine) - 1,
                )
        console.print(t)
