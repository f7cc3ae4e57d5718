"""``reclaim demo``: a few simulated days of four stores' traffic through a real Reclaim.

It creates ``<dir>/reclaim.sqlite3`` afresh, runs :func:`reclaim.sim.simulate` (real HTTP,
the real worker, simulated time), and shows what Reclaim found next to the simulator's
ground truth. ``<dir>/summary.json`` keeps the summary; ``<dir>/stores.json`` the demo
stores' ids and API keys, to look at the cases through the API afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from reclaim.errors import InvalidInput
from reclaim.sim import SimConfig, SimulationResult, simulate
from reclaim.sim.behaviour import ABANDONMENT_REASONS
from reclaim.sim.driver import DriveStats
from reclaim.sim.world import RATES

KIND_LABELS = {
    "abandoned_checkout": "abandoned checkout",
    "pending_order": "pending order",
    "failed_payment": "failed payment",
}
PLATFORM_LABELS = {
    "shopify": "Shopify",
    "woocommerce": "WooCommerce",
    "stripe": "Stripe",
    "custom": "custom (API)",
}


def run_demo(
    *,
    directory: str = "reclaim-demo",
    customers: int = 300,
    seed: int = 7,
    as_json: bool = False,
    console: Console | None = None,
    days: int = 3,
) -> dict[str, Any]:
    """Run the demo; print tables (or one JSON object with ``as_json``); return the summary."""
    if not 1 <= days <= 30:
        raise InvalidInput("days must be between 1 and 30", field="days")
    if customers < 1:
        raise InvalidInput("customers must be at least 1", field="customers")
    console = console or Console()
    folder = Path(directory).expanduser().resolve()
    database = fresh_database(folder)
    config = SimConfig(customers=customers, days=days, seed=seed)
    began = time.perf_counter()
    if as_json:
        result = simulate(
            config, database_url=f"sqlite:///{database}", database_label=str(database)
        )
    else:
        result = _with_progress(console, config, database)
    elapsed = time.perf_counter() - began
    summary = result.summary
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    keys = [
        {"platform": k, "id": s.id, "api_key": s.api_key} for k, s in sorted(result.stores.items())
    ]
    _write_private(folder / "stores.json", json.dumps(keys, indent=2) + "\n")
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        show(console, result, elapsed)
    return summary


MARKER = ".reclaim-demo"


def fresh_database(folder: Path) -> Path:
    """``<folder>/reclaim.sqlite3``, removed first if an earlier demo made it.

    A database the demo did not make (no marker file next to it) is never deleted: ``--dir .``
    in a folder holding a real ``reclaim.sqlite3`` must not wipe it.
    """
    database = folder / "reclaim.sqlite3"
    if database.exists() and not (folder / MARKER).exists():
        raise InvalidInput(
            f"{folder} already holds a reclaim.sqlite3 that no demo created; choose another folder",
            field="dir",
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by `reclaim demo`; its database is replaced on each run\n")
    for leftover in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
    return database


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds API keys)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _with_progress(console: Console, config: SimConfig, database: Path) -> SimulationResult:
    columns = (
        TextColumn("[bold]simulating[/bold] {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("day 1 00:00", total=len(config.ticks()), detail="")

        def tick(n: int, total: int, now: Any, stats: DriveStats) -> None:
            day = (now - config.start).days + 1
            progress.update(
                task,
                completed=n,
                description=f"day {min(day, config.days)} {now:%H:%M} UTC",
                detail=f"{stats.sent} deliveries · {stats.opened} cases opened",
            )

        return simulate(
            config,
            database_url=f"sqlite:///{database}",
            progress=tick,
            database_label=str(database),
        )


# -- the tables ---------------------------------------------------------------------------------


def show(console: Console, result: SimulationResult, elapsed: float) -> None:
    s = result.summary
    console.print(
        f"\n[bold]Reclaim demo[/bold]: seed {s['seed']}, {s['customers']} customers, "
        f"{s['days']} simulated days ({s['start'][:16]} → {s['end'][:16]} UTC), "
        f"4 stores, worker every 15 simulated minutes ({s['worker']['runs']} runs); "
        f"took {elapsed:.1f} s",
        highlight=False,
    )
    console.print(_deliveries(s))
    console.print(_traffic(s))
    console.print(_cases(s))
    console.print(_truth(s))
    console.print(_recovered(s))
    console.print(_filtered(s))
    console.print(_reasons(s))
    if s["mismatches"]["details"]:
        console.print(_mismatches(s))
    if s["unexpected_answers"]:
        console.print(Panel("\n".join(s["unexpected_answers"]), title="unexpected HTTP answers"))
    _how_to_look(console, result)


def _deliveries(s: dict[str, Any]) -> Table:
    t = Table(title="Deliveries sent over HTTP", title_justify="left")
    t.add_column("platform", no_wrap=True)
    for col in ("requests", "events", "accepted", "dup.", "rejected", "retries", "bad"):
        t.add_column(col, justify="right")
    for platform, d in s["deliveries"].items():
        t.add_row(
            PLATFORM_LABELS[platform],
            *(
                str(d[k])
                for k in (
                    "requests",
                    "events",
                    "accepted",
                    "duplicate",
                    "rejected",
                    "retries_sent",
                    "bad_sent",
                )
            ),
        )
    t.caption = (
        "retries: identical re-deliveries (platform retries) · bad: deliberately bad "
        "deliveries (stale signing secret, invalid event)"
    )
    return t


def _traffic(s: dict[str, Any]) -> Table:
    t = Table(title="What the stores produced — and what Reclaim holds", title_justify="left")
    t.add_column("")
    t.add_column("simulated", justify="right")
    t.add_column("in Reclaim", justify="left")
    c, o, p = s["checkouts"], s["orders"], s["payments"]

    def fmt(d: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in d.items()) or "—"

    t.add_row("checkouts", f"{c['total']} ({c['with_contact']} with contact)", fmt(c["reclaim"]))
    t.add_row(
        "orders",
        f"{o['total']} ({o['paid']} paid, {o['unpaid']} unpaid, {o['cancelled']} cancelled)",
        fmt(o["reclaim"]),
    )
    t.add_row("payment attempts", f"{p['attempts']} ({p['failed']} failed)", fmt(p["reclaim"]))
    t.add_row("inbox", "", fmt(s["inbox"]))
    return t


def _cases(s: dict[str, Any]) -> Table:
    t = Table(title="Cases Reclaim opened, by kind and status", title_justify="left")
    t.add_column("kind", no_wrap=True)
    for col in ("open", "recovered", "cancelled", "other", "total"):
        t.add_column(col, justify="right")
    for kind, label in KIND_LABELS.items():
        got = s["cases"][kind]
        other = got["total"] - sum(got.get(k, 0) for k in ("open", "recovered", "cancelled"))
        t.add_row(
            label,
            *(str(got.get(k, 0)) for k in ("open", "recovered", "cancelled")),
            str(other),
            str(got["total"]),
        )
    return t


def _truth(s: dict[str, Any]) -> Table:
    t = Table(title="Ground truth: the cases SPEC S2 calls for", title_justify="left")
    t.add_column("kind", no_wrap=True)
    for col in ("expected", "opened", "missing", "extra", "exp.rec", "recov.", "differs"):
        t.add_column(col, justify="right")
    m = s["mismatches"]
    for kind in KIND_LABELS:
        got, want = s["cases"][kind], s["expected_cases"][kind]
        t.add_row(
            {"abandoned_checkout": "checkout", "pending_order": "pending"}.get(kind, "payment"),
            str(want["total"]),
            str(got["total"]),
            _bad(m["missing"][kind]),
            _bad(m["unexpected"][kind]),
            str(want.get("recovered", 0)),
            str(got.get("recovered", 0)),
            _bad(m["status"][kind]),
        )
    t.caption = (
        f"mismatches: {m['total']}"
        + (" (listed below)" if m["total"] else "")
        + " · exp.rec: expected to end recovered · differs: opened, but ended differently"
    )
    return t


def _bad(n: int) -> str:
    return f"[bold red]{n}[/bold red]" if n else "0"


def _recovered(s: dict[str, Any]) -> Table:
    t = Table(title="Recovered (organically: no messages are sent yet)", title_justify="left")
    t.add_column("currency")
    t.add_column("revenue", justify="right")
    t.add_column("in EUR (fixed demo rate)", justify="right")
    for currency, amount in s["recovered_revenue"].items():
        eur = (Decimal(amount) / RATES[currency]).quantize(Decimal("0.01"))
        t.add_row(currency, amount, str(eur))
    t.add_row(
        "[bold]total[/bold]",
        f"{s['recovered_orders']} orders",
        f"[bold]{s['recovered_revenue_eur']}[/bold]",
    )
    t.caption = (
        f"ground truth: {s['expected_recovered_orders']} orders, "
        f"EUR {s['expected_recovered_revenue_eur']}"
    )
    return t


def _filtered(s: dict[str, Any]) -> Table:
    f = s["filtered"]
    t = Table(title="Filtered out (never a case)", title_justify="left")
    t.add_column("")
    t.add_column("", justify="right")
    t.add_row("bot sessions", f"{f['bot_sessions']} (from {f['bots']} bots)")
    t.add_row("merchant test sessions", str(f["staff_test_sessions"]))
    t.add_row("checkouts abandoned before activation", str(f["backlog_checkouts"]))
    t.add_row(
        "checkouts Reclaim ignored, by reason",
        ", ".join(f"{k} {v}" for k, v in f["reclaim_ignored_checkouts"].items()),
    )
    t.add_row("cases for bots or test orders", _bad(f["cases_for_bots_or_tests"]))
    return t


def _reasons(s: dict[str, Any]) -> Table:
    b = s["behaviour"]
    abandoners = b["outcomes"].get("abandoned", 0) or 1
    t = Table(title="Why simulated shoppers abandoned (Baymard's shares)", title_justify="left")
    t.add_column("reason")
    t.add_column("shoppers", justify="right")
    t.add_column("share", justify="right")
    t.add_column("Baymard", justify="right")
    for r in ABANDONMENT_REASONS:
        n = b["abandonment_reasons"].get(r.code, 0)
        t.add_row(r.label, str(n), f"{n / abandoners:.0%}", f"{r.share:.0%}")
    declines = ", ".join(f"{k} {v}" for k, v in b["declines"].items())
    t.caption = f"{abandoners} abandoners with contact; card declines: {declines or 'none'}"
    return t


def _mismatches(s: dict[str, Any]) -> Table:
    t = Table(title="Mismatches (first 40)", title_justify="left")
    t.add_column("store", no_wrap=True)
    t.add_column("kind", no_wrap=True)
    t.add_column("subject", no_wrap=True)
    t.add_column("truth → Reclaim")
    t.add_column("what the shopper did", overflow="fold")
    for d in s["mismatches"]["details"]:
        t.add_row(
            d["store"],
            d["kind"].split("_")[0],
            d["subject"][:16] + "…",
            f"{d['expected']} → {d['actual']}",
            d["story"],
        )
    return t


def _how_to_look(console: Console, result: SimulationResult) -> None:
    database = result.summary["database"]
    console.print("\n[bold]Where it is[/bold]")
    lines = [
        f"database: {database}",
        "look at the cases (no worker: its wall clock would expire the simulated ones):",
        f"  RECLAIM_DATABASE_URL=sqlite:///{database} reclaim serve --no-worker",
        "  curl -H 'Authorization: Bearer <api key>' http://127.0.0.1:8000/api/v1/cases",
        "API keys (also in stores.json next to the database):",
    ]
    for key, store in sorted(result.stores.items()):
        lines.append(f"  {PLATFORM_LABELS[key]:<13} {store.api_key}")
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)
