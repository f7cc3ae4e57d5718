"""The sending benchmark's tables: throughput and phases, the bursts, the claim cost."""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Sequence

from rich.table import Table

from bench.harness import machine as harness_machine
from bench.harness.output import console, machine_table
from bench.send.burst import BurstResult
from bench.send.claims import ClaimResult
from bench.send.phases import PHASES
from bench.send.shop import BATCH
from bench.send.throughput import ThroughputResult

GOAL_RATIO = 0.50
GOAL_EXCESS_S = 2.0
GOAL_CLAIM = 1.3


def machine(pg_admin: str, dbs: Sequence[str]) -> dict[str, str]:
    info = harness_machine.machine(pg_admin, dbs)
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
    machine_table(console, info)

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
