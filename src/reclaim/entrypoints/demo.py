"""``reclaim demo`` and ``reclaim sim``: a store group's traffic through a real Reclaim, with
real emails to a real SMTP server whose customers react to them.

``reclaim demo`` creates ``<dir>/reclaim.sqlite3`` afresh, runs :func:`reclaim.sim.simulate`
(real HTTP, the real worker, simulated time), prints the summary, writes
``<dir>/report.html``, ``<dir>/summary.json`` and ``<dir>/stores.json`` (the stores' ids and
API keys), then serves the API on the demo data until Ctrl-C. ``reclaim sim`` is the same
engine on a given database or a fresh folder, without serving; ``--realtime`` plays it at
wall-clock pace (or ``--speed`` times faster) with the API on a fixed port to watch it live.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from reclaim.errors import InvalidInput
from reclaim.sim import SimConfig, SimulationResult, simulate
from reclaim.sim.driver import DemoStore, DriveStats
from reclaim.sim.report import points, render, sure

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
MARKER = ".reclaim-demo"
DEMO_CUSTOMERS = 600  # 30 days of them simulate in about a minute on a 2-core machine
DEMO_DAYS = 30


@dataclass(frozen=True, slots=True)
class Options:
    customers: int = DEMO_CUSTOMERS
    days: int = DEMO_DAYS
    seed: int = 7
    holdout: float = 0.10
    response_scale: float = 1.0


def run_demo(
    *,
    directory: str = "reclaim-demo",
    customers: int = DEMO_CUSTOMERS,
    seed: int = 7,
    as_json: bool = False,
    console: Console | None = None,
    days: int = DEMO_DAYS,
    serve: bool = True,
    port: int = 8000,
    holdout: float = 0.10,
    response_scale: float = 1.0,
) -> dict[str, Any]:
    """Run the demo; print tables (or one JSON object with ``as_json``); write the report;
    serve the API until Ctrl-C unless ``serve`` is false. Returns the summary."""
    if not 1 <= days <= 30:
        raise InvalidInput("days must be between 1 and 30", field="days")
    options = _options(customers, days, seed, holdout, response_scale)
    console = console or Console()
    folder = Path(directory).expanduser().resolve()
    database = fresh_database(folder)
    result, elapsed = _run(console, options, f"sqlite:///{database}", str(database), as_json)
    summary = _write(folder, result, elapsed)
    if as_json:
        _print_json(summary)
    else:
        show(console, result, elapsed)
    if serve:
        out = Console(stderr=True) if as_json else console
        serve_demo(out, f"sqlite:///{database}", result, port=port)
    return summary


def run_sim(
    *,
    directory: str = "reclaim-sim",
    database_url: str | None = None,
    customers: int = 20_000,
    seed: int = 7,
    days: int = DEMO_DAYS,
    as_json: bool = False,
    console: Console | None = None,
    realtime: bool = False,
    speed: float = 1.0,
    port: int | None = None,
    holdout: float = 0.10,
    response_scale: float = 1.0,
) -> dict[str, Any]:
    """The simulation alone, on ``database_url`` (an empty database) or a fresh
    ``<directory>/reclaim.sqlite3``; writes the report and summary next to it."""
    if not 1 <= days <= 90:
        raise InvalidInput("days must be between 1 and 90", field="days")
    if speed <= 0:
        raise InvalidInput("speed must be more than 0", field="speed")
    options = _options(customers, days, seed, holdout, response_scale)
    console = console or Console()
    folder = Path(directory).expanduser().resolve()
    if database_url is None:
        database = fresh_database(folder)
        database_url, label = f"sqlite:///{database}", str(database)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        label = database_url.split("@")[-1]  # never print a password
    pace = Pacer(speed) if realtime else None
    if realtime and port is None:
        port = 8000
    result, elapsed = _run(
        console, options, database_url, label, as_json, pace=pace, port=port or 0, live=realtime
    )
    summary = _write(folder, result, elapsed)
    if as_json:
        _print_json(summary)
    else:
        show(console, result, elapsed)
    return summary


def _options(
    customers: int, days: int, seed: int, holdout: float, response_scale: float
) -> Options:
    if customers < 1:
        raise InvalidInput("customers must be at least 1", field="customers")
    if not 0 <= holdout <= 0.5:
        raise InvalidInput("holdout must be a share between 0 and 0.5", field="holdout")
    if response_scale < 0:
        raise InvalidInput("response scale must not be negative", field="response_scale")
    return Options(customers, days, seed, holdout, response_scale)


class Pacer:
    """Real-time mode: waits until the wall clock catches up with each simulated instant
    (``speed`` simulated seconds per real second). ``sleep`` and ``monotonic`` are
    parameters so that the pacing can be checked without waiting."""

    def __init__(
        self,
        speed: float = 1.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.speed = speed
        self.sleep = sleep
        self.monotonic = monotonic
        self.origin: tuple[datetime, float] | None = None

    def __call__(self, at: datetime) -> None:
        if self.origin is None:
            self.origin = (at, self.monotonic())
            return
        start, wall = self.origin
        due = wall + (at - start).total_seconds() / self.speed
        wait = due - self.monotonic()
        if wait > 0:
            self.sleep(wait)


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


def _write(folder: Path, result: SimulationResult, elapsed: float) -> dict[str, Any]:
    summary = result.summary
    report = folder / "report.html"
    summary["report"] = str(report)
    report.write_text(render(summary, elapsed_s=elapsed), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    keys = [
        {"platform": k, "id": s.id, "api_key": s.api_key} for k, s in sorted(result.stores.items())
    ]
    _write_private(folder / "stores.json", json.dumps(keys, indent=2) + "\n")
    return summary


def _print_json(summary: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _run(
    console: Console,
    options: Options,
    database_url: str,
    label: str,
    quiet: bool,
    *,
    pace: Callable[[datetime], None] | None = None,
    port: int = 0,
    live: bool = False,
) -> tuple[SimulationResult, float]:
    config = SimConfig(
        customers=options.customers,
        days=options.days,
        seed=options.seed,
        holdout=options.holdout,
        response_scale=options.response_scale,
    )

    def ready(stores: dict[str, DemoStore], url: str) -> None:
        if live:
            out = Console(stderr=True) if quiet else console
            out.print(f"[bold]Live[/bold]: the API is on {url} while the simulation runs")
            for key, store in sorted(stores.items()):
                out.print(
                    f"  curl -H 'Authorization: Bearer {store.api_key}' {url}/api/v1/cases"
                    f"   # {PLATFORM_LABELS[key]}",
                    soft_wrap=True,
                    highlight=False,
                    markup=False,
                )

    began = time.perf_counter()
    if quiet:
        result = simulate(
            config,
            database_url=database_url,
            database_label=label,
            pace=pace,
            port=port,
            ready=ready,
        )
        return result, time.perf_counter() - began
    columns = (
        TextColumn("[bold]simulating[/bold] {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("day 1 00:00", total=len(config.ticks()), detail="")

        def tick(n: int, total: int, now: datetime, stats: DriveStats) -> None:
            day = (now - config.start).days + 1
            progress.update(
                task,
                completed=n,
                description=f"day {min(day, config.days)} {now:%H:%M} UTC",
                detail=(
                    f"{stats.sent} webhooks · {stats.opened} cases · "
                    f"{sum(stats.emails_by_day.values())} emails"
                ),
            )

        result = simulate(
            config,
            database_url=database_url,
            progress=tick,
            database_label=label,
            pace=pace,
            port=port,
            ready=ready,
        )
    return result, time.perf_counter() - began


# -- serving ------------------------------------------------------------------------------------


def serve_demo(console: Console, database_url: str, result: SimulationResult, *, port: int) -> None:
    """Serve the API on the demo's database at 127.0.0.1:``port`` until Ctrl-C, with the clock
    stopped at the simulation's end (a worker on the wall clock would expire the simulated
    cases, so none runs)."""
    import uvicorn

    from reclaim.bootstrap import bootstrap
    from reclaim.config import load_settings
    from reclaim.entrypoints.api import create_app

    end = result.plan.config.end
    url = f"http://127.0.0.1:{port}"
    # Swagger UI on: the demo serves on the loopback only, and /docs needs nothing from outside
    settings = load_settings(database_url=database_url, public_url=url, api_docs=True)
    rt = bootstrap(settings, clock=lambda: end)
    some = next(iter(sorted(result.stores.items())))[1]
    lines = [
        "",
        f"Serving the demo's data on {url} (the clock stopped at {end:%Y-%m-%d %H:%M} UTC); "
        "Ctrl-C stops.",
        "There is no operations console yet: look through the API, or the report.",
        f"  report:  file://{result.summary['report']}",
        f"  API:     {url}/docs (Swagger UI)",
        f"  cases:   curl -H 'Authorization: Bearer {some.api_key}' {url}/api/v1/cases",
        "  (each store's API key is in stores.json)",
    ]
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)
    config = uvicorn.Config(
        create_app(rt), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    try:
        uvicorn.Server(config).run()
    except KeyboardInterrupt:
        pass
    finally:
        rt.close()


# -- the tables ---------------------------------------------------------------------------------
#
# Written for a store owner: plain words first, the technical detail one level down (a
# caption, or summary.json).


def more_often(x: float) -> str:
    """``11.7 points more often``, ``2.0 points less often``."""
    return f"{abs(x) * 100:.1f} points {'less' if x < 0 else 'more'} often"


def _rate(recovered: int, cases: int) -> str:
    return f"{recovered} of {cases}" + (f" ({recovered / cases:.0%})" if cases else "")


def show(console: Console, result: SimulationResult, elapsed: float) -> None:
    tables(console, result.summary, elapsed)
    _where(console, result)


def tables(console: Console, s: dict[str, Any], elapsed: float | None = None) -> None:
    """Everything the demo prints about a run but where its files are."""
    took = f"; took {elapsed:.1f} s" if elapsed is not None else ""
    console.print(
        f"\n[bold]Reclaim demo[/bold]: 4 simulated shops, {s['customers']} customers over "
        f"{s['days']} days ({s['start'][:10]} → {s['end'][:10]}); "
        f"{s['holdout_share']:.0%} of cases get no message on purpose, to measure what the "
        f"messages are worth. Seed {s['seed']}; Reclaim's worker ran every 15 simulated "
        f"minutes ({s['worker']['runs']} runs){took}.",
        highlight=False,
    )
    console.print(_headline(s))
    console.print(_kinds(s))
    console.print(_no_message(s))
    if s["no_message"]["held_back"]:
        console.print(_held_back(s))
    console.print(_checks(s))
    if s["mismatches"]["details"]:
        console.print(_mismatches(s))
    if s["checks"]["details"]:
        console.print(Panel(json.dumps(s["checks"]["details"], indent=1), title="mailbox checks"))
    if s["unexpected_answers"]:
        console.print(Panel("\n".join(s["unexpected_answers"]), title="unexpected HTTP answers"))


def _headline(s: dict[str, Any]) -> Table:
    t = Table(
        title="What happened", title_justify="left", show_header=False, caption_justify="left"
    )
    t.add_column("", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    t.add_column("", style="dim")
    outcomes = s["behaviour"]["outcomes"]
    abandoned = outcomes.get("abandoned", 0) + outcomes.get("no_contact", 0)
    cases = s["cases"]
    m, c = s["messages"], s["customers_did"]
    channels = ", ".join(f"{ch} {sum(v.values())}" for ch, v in m["by_channel"].items()) or "none"
    t.add_row(
        "checkouts started",
        str(s["checkouts"]["total"]),
        f"{s['checkouts']['with_contact']} with an email address or phone number",
    )
    t.add_row(
        "checkouts abandoned",
        str(abandoned),
        f"{outcomes.get('no_contact', 0)} before the shopper gave an email address or phone",
    )
    t.add_row(
        "recovery cases",
        str(sum(k["total"] for k in cases.values())),
        ", ".join(f"{KIND_LABELS[k]} {v['total']}" for k, v in cases.items()),
    )
    t.add_row("messages sent", str(m["total"]), f"by channel: {channels}")
    t.add_row(
        "emails opened",
        str(c["opens"]),
        f"{c['restore_clicks'] + c['product_clicks']} clicks, {c['unsubscribes']} unsubscribes, "
        f"{c['coupons_used']} coupons used",
    )
    k = m["coupons"]
    t.add_row(
        "coupons",
        str(k["issued"]),
        f"{k['created_on_the_store']} created in the shops, "
        f"{k['issued'] - k['created_on_the_store']} for the owner to import, "
        f"{k['redeemed']} used",
    )
    t.add_row(
        "orders won back",
        str(s["recovered_orders"]),
        f"EUR {s['recovered_revenue_eur']} (other currencies at fixed demo rates)",
    )
    t.add_row(
        "thanks to a message",
        f"{s['attributed']} of {s['attributed'] + s['organic']}",
        f"recovered cases whose customer had opened or clicked a message; "
        f"{s['organic']} came back on their own",
    )
    msg, held = s["messaged"], s["holdout"]
    t.add_row(
        "what messages add",
        points(s["lift"]),
        f"{_rate(msg['recovered'], msg['cases'])} messaged cases recovered, "
        f"{_rate(held['recovered'], held['cases'])} held back: {more_often(s['lift'])}; "
        f"{sure(s['lift_ci'])}",
    )
    t.add_row(
        "the simulator's answer",
        points(s["true_effect"]),
        "what the simulator built in: how much more often a case recovers with messages "
        "than without",
    )
    t.caption = (
        "points: percentage points, the difference between two recovery rates · 95 % sure: "
        "Newcombe's interval for a difference of two proportions"
    )
    return t


def _kinds(s: dict[str, Any]) -> Table:
    t = Table(title="By kind of case", title_justify="left", caption_justify="left")
    t.add_column("kind")
    for col in (
        "cases",
        "recovered\nwith messages",
        "recovered\nheld back",
        "messages\nadd",
        "95 % sure\nbetween",
        "simulator",
    ):
        t.add_column(col, justify="right", no_wrap=True)
    for kind, label in KIND_LABELS.items():
        got, k = s["cases"][kind], s["by_kind"][kind]
        both = k["messaged"] and k["holdout"]
        t.add_row(
            label,
            str(got["total"]),
            _rate(k["messaged_recovered"], k["messaged"]),
            _rate(k["holdout_recovered"], k["holdout"]),
            f"{k['lift'] * 100:+.1f}" if both else "—",
            f"{k['lift_ci'][0] * 100:+.0f} and {k['lift_ci'][1] * 100:+.0f}" if both else "—",
            f"{k['true_effect'] * 100:+.1f}",
        )
    t.caption = (
        "in points: recovery rate with messages minus the rate without · 95 % sure: the range "
        "the true lift lies in · simulator: what it built in"
    )
    return t


def _no_message(s: dict[str, Any]) -> Table:
    """Why cases got no message: one reason per case, in the case API's words."""
    none = s["no_message"]
    t = Table(
        title=f"Why some cases got no message ({none['cases']} of {none['of']})",
        title_justify="left",
        show_header=False,
        caption_justify="left",
    )
    t.add_column("", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    t.add_column("", style="dim")
    for r in none["reasons"]:
        t.add_row(r["label"], str(r["cases"]), r["detail"])
    t.caption = "each case once, for the reason its page in the API gives (why_not_sent)"
    return t


def _held_back(s: dict[str, Any]) -> Table:
    """The steps the worker held back or postponed, messaged cases' included."""
    t = Table(
        title="Messages held back or postponed on the way",
        title_justify="left",
        show_header=False,
        caption_justify="left",
    )
    t.add_column("", no_wrap=True)
    t.add_column("", justify="right", no_wrap=True)
    t.add_column("", style="dim")
    for r in s["no_message"]["held_back"]:
        t.add_row(r["label"], str(r["steps"]), r["detail"])
    t.caption = (
        "counted per message a flow planned: a case can be held back for its first reminder "
        "and again for its second"
    )
    return t


def _checks(s: dict[str, Any]) -> Table:
    """Every figure compared with the ground truth: Reclaim's, the truth's, the difference
    (Reclaim − truth); the mismatches count each figure that differs and each case that does."""
    t = Table(
        title="Checked against what really happened in the simulation",
        title_justify="left",
        caption_justify="left",
    )
    # Figures are never cut: their columns are as wide as their longest value, and the
    # label column wraps instead (at 80 columns a revenue showed as "8397…").
    rows = [(str(r["reclaim"]), str(r["truth"])) for r in s["comparison"]]
    widths = [
        max([len(col), *(len(r[i]) for r in rows)])
        for i, col in enumerate(("Reclaim", "simulation"))
    ]
    t.add_column("figure", overflow="fold")
    for col, width in zip(("Reclaim", "simulation"), widths, strict=True):
        t.add_column(col, justify="right", no_wrap=True, min_width=width)
    t.add_column("difference", justify="right", no_wrap=True)
    m, po = s["mismatches"], s["potential_outcomes"]
    for row, (ours, theirs) in zip(s["comparison"], rows, strict=True):
        t.add_row(row["figure"], ours, theirs, _difference(row["difference"]))
    t.add_row("cases missing / extra / differing", str(m["cases"]), "0", _difference(m["cases"]))
    t.add_row("[bold]mismatches[/bold]", "", "", _bad(m["total"]))
    sent = sum(v["requests"] for v in s["deliveries"].values())
    t.caption = (
        "difference: Reclaim's figure minus the simulation's · deliveries refused: of "
        f"{sent} webhooks and events, the simulation sent these bad on purpose · recovered "
        "orders: distinct paid orders (one can recover several cases) · emails that should "
        "not have gone: after a payment or an unsubscribe, without consent, or with links "
        "off the shop's site · ended otherwise: a messaged case must end as the simulator "
        "decided for a customer who got the messages, a held-back case as for one who did "
        "not; a purchase also settles the customer's other cases: "
        f"{po['spillover']} recovered that way, {po['prevented']} never opened · cases: "
        "each matched with the simulation's own replay of when a case opens and how it ends "
        "(contact details, no bot or test order, no purchase since, …) · mismatches: "
        f"{m['figures']} figures differ, {m['cases']} cases do"
    )
    return t


def _difference(d: int | str) -> str:
    """``+3``, ``-76.90``; zero as ``0`` (or ``0.00``), a non-zero one in red."""
    if Decimal(d) == 0:
        return str(d).lstrip("+-")
    text = str(d) if str(d).startswith("-") else f"+{d}"
    return f"[bold red]{text}[/bold red]"


def _bad(n: int) -> str:
    return f"[bold red]{n}[/bold red]" if n else "0"


def _mismatches(s: dict[str, Any]) -> Table:
    t = Table(title="Mismatches (first 40)", title_justify="left")
    t.add_column("store", no_wrap=True)
    t.add_column("kind", no_wrap=True)
    t.add_column("subject", overflow="fold")  # whole: an id cut short cannot be looked up
    t.add_column("truth → Reclaim")
    t.add_column("what the shopper did", overflow="fold")
    for d in s["mismatches"]["details"]:
        t.add_row(
            d["store"],
            d["kind"].split("_")[0],
            d["subject"],
            f"{d['expected']} → {d['actual']}",
            d["story"],
        )
    return t


def _where(console: Console, result: SimulationResult) -> None:
    s = result.summary
    console.print("\n[bold]Where it is[/bold]")
    lines = [
        f"database: {s['database']}",
        f"report:   {s['report']}",
        "API keys (also in stores.json next to the report):",
    ]
    for key, store in sorted(result.stores.items()):
        lines.append(f"  {PLATFORM_LABELS[key]:<13} {store.api_key}")
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False, markup=False)
