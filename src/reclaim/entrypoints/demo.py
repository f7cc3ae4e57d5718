"""``reclaim demo`` and ``reclaim sim``: a store group's traffic through a real Reclaim, with
real emails to a real SMTP server whose customers react to them.

``reclaim demo`` creates ``<dir>/reclaim.sqlite3`` afresh, runs :func:`reclaim.sim.simulate`
(real HTTP, the real worker, simulated time), prints the summary, writes each store's own
report (``<dir>/reports/<platform>.html``, as ``reclaim report`` draws it, over the simulated
days), ``<dir>/truth.html`` (the simulation against its ground truth), ``<dir>/summary.json``
``<dir>/stores.json`` (the stores' ids and API keys) and ``<dir>/console.json`` (a console
admin's sign-in, made for the demo with a random password), then serves the API and the
console on the demo data until Ctrl-C. ``reclaim sim`` is the same engine on a given database or a fresh folder,
without serving; ``--realtime`` plays it at wall-clock pace (or ``--speed`` times faster)
with the API on a fixed port to watch it live.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from reclaim.bootstrap import bootstrap
from reclaim.config import load_settings
from reclaim.entrypoints.demo_report import write_pages
from reclaim.entrypoints.demo_tables import PLATFORM_LABELS, show
from reclaim.errors import InvalidInput
from reclaim.services.users import add_user
from reclaim.sim import SimulationResult
from reclaim.sim.driver import DemoStore, DriveStats
from reclaim.sim.pacing import (
    DEMO_CUSTOMERS,
    DEMO_DAYS,
    DEMO_HOLDOUT,
    Options,
    Pacer,
    checked_options,
    serve_stopped,
    timed_simulation,
)

MARKER = ".reclaim-demo"


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
    holdout: float = DEMO_HOLDOUT,
    response_scale: float = 1.0,
) -> dict[str, Any]:
    """Run the demo; print tables (or one JSON object with ``as_json``); write the report;
    serve the API until Ctrl-C unless ``serve`` is false. Returns the summary."""
    if not 1 <= days <= 30:
        raise InvalidInput("days must be between 1 and 30", field="days")
    options = checked_options(customers, days, seed, holdout, response_scale)
    console = console or Console()
    folder = Path(directory).expanduser().resolve()
    database = fresh_database(folder)
    result, elapsed = _run(console, options, f"sqlite:///{database}", str(database), as_json)
    summary = _write(folder, f"sqlite:///{database}", result, elapsed)
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
    options = checked_options(customers, days, seed, holdout, response_scale)
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
    summary = _write(folder, database_url, result, elapsed)
    if as_json:
        _print_json(summary)
    else:
        show(console, result, elapsed)
    return summary


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


def _write(
    folder: Path, database_url: str, result: SimulationResult, elapsed: float
) -> dict[str, Any]:
    summary = result.summary
    reports, truth = write_pages(folder, database_url, result, elapsed_s=elapsed)
    summary["reports"] = reports
    summary["truth"] = truth
    login = _console_login(database_url, result)
    _write_private(folder / "console.json", json.dumps(login, indent=2) + "\n")
    summary["console"] = {"email": login["email"], "login": str(folder / "console.json")}
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    keys = [
        {"platform": k, "id": s.id, "api_key": s.api_key} for k, s in sorted(result.stores.items())
    ]
    _write_private(folder / "stores.json", json.dumps(keys, indent=2) + "\n")
    return summary


DEMO_ADMIN = "admin@demo.reclaim"


def _console_login(database_url: str, result: SimulationResult) -> dict[str, str]:
    """A console admin for the demo's stores, with a random password (kept only in the
    private ``console.json`` and printed when the demo serves)."""
    password = secrets.token_urlsafe(12)
    rt = bootstrap(load_settings(database_url=database_url), clock=lambda: result.plan.config.end)
    try:
        add_user(
            uow=rt.uow(),
            hasher=rt.passwords,
            email=DEMO_ADMIN,
            password=password,
            role="admin",
            name="Demo admin",
            timezone="Europe/Berlin",
            now=rt.clock(),
        )
    finally:
        rt.close()
    return {"email": DEMO_ADMIN, "password": password}


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
    config = options.config()

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

    if quiet:
        return timed_simulation(
            config, database_url=database_url, label=label, pace=pace, port=port, ready=ready
        )
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

        return timed_simulation(
            config,
            database_url=database_url,
            label=label,
            progress=tick,
            pace=pace,
            port=port,
            ready=ready,
        )


# -- serving -------------------------------------------------------------------------------------


def serve_demo(console: Console, database_url: str, result: SimulationResult, *, port: int) -> None:
    """Serve the API on the demo's database at 127.0.0.1:``port`` until Ctrl-C, with the clock
    stopped at the simulation's end (a worker on the wall clock would expire the simulated
    cases, so none runs)."""
    end = result.plan.config.end
    some = next(iter(sorted(result.stores.items())))[1]

    login = json.loads(Path(result.summary["console"]["login"]).read_text())

    def ready(url: str) -> None:
        lines = [
            "",
            f"Serving the demo's data on {url} (the clock stopped at {end:%Y-%m-%d %H:%M} UTC); "
            "Ctrl-C stops.",
            f"  console: {url}/console   sign in as {login['email']}, password {login['password']}",
            *(
                f"  report:  file://{path}   # {PLATFORM_LABELS[key]}"
                for key, path in sorted(result.summary["reports"].items())
            ),
            f"  truth:   file://{result.summary['truth']}",
            f"  API:     {url}/docs (Swagger UI)",
            f"  cases:   curl -H 'Authorization: Bearer {some.api_key}' {url}/api/v1/cases",
            "  (each store's API key is in stores.json)",
        ]
        for line in lines:
            console.print(line, soft_wrap=True, highlight=False, markup=False)

    serve_stopped(database_url, result, port=port, ready=ready)
