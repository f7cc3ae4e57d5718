"""The holds benchmark's tables: service level and HTTP, each against its floor."""

from __future__ import annotations

import argparse
import statistics
from collections import Counter
from collections.abc import Sequence

from rich.table import Table

from bench.harness.output import machine_table
from bench.holds.runs import Result, Run, console


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
    machine_table(console, info)

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
