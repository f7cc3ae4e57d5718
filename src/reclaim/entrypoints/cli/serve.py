"""``reclaim init``, ``reclaim serve`` and ``reclaim worker``: the database, and the
long-running processes on it (the HTTP API, the worker)."""

from __future__ import annotations

import json
import threading

import click

from reclaim.bootstrap import migrate_database, open_database
from reclaim.entrypoints.cli.common import console, err_console, handled, parse_now, runtime
from reclaim.entrypoints.logs import setup_logging


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print {before, revision} as JSON")
@handled
def init(as_json: bool) -> None:
    """Create or upgrade the database (RECLAIM_DATABASE_URL)."""
    rt = runtime(create=True)
    try:
        before, revision = migrate_database(rt)
    finally:
        rt.close()
    if as_json:
        click.echo(json.dumps({"before": before, "revision": revision}))
        return
    if before is None:
        done = f"created at revision [bold]{revision}[/bold]"
    elif before != revision:
        done = f"upgraded from revision {before} to revision [bold]{revision}[/bold]"
    else:
        done = f"already at revision [bold]{revision}[/bold], nothing to do"
    console.print(f"database {done}", highlight=False)


def _upgraded(revisions: tuple[str | None, str | None]) -> None:
    """One line (on stderr, out of a script's way) when a start upgraded the database."""
    before, after = revisions
    if before != after:
        err_console.print(f"database upgraded from revision {before} to {after}", highlight=False)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-worker", is_flag=True, help="Do not run a worker inside the server process")
@handled
def serve(host: str, port: int, no_worker: bool) -> None:
    """Serve the HTTP API (and, unless --no-worker, one worker thread)."""
    import uvicorn

    from reclaim.entrypoints.api import create_app
    from reclaim.entrypoints.worker import run_forever

    rt = runtime()
    setup_logging(rt.settings.log_level)
    _upgraded(open_database(rt))
    stop = threading.Event()
    thread = None
    if not no_worker:
        thread = threading.Thread(
            target=run_forever,
            args=(rt, stop),
            kwargs={"poll_seconds": rt.settings.worker_poll_seconds},
            name="reclaim-worker",
            daemon=True,
        )
        thread.start()
    try:
        console.print(
            f"Reclaim listens on http://{host}:{port} (console: /console, health: /healthz, "
            "/readyz)"
        )
        uvicorn.run(
            create_app(rt),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            log_config=None,  # uvicorn's lines go through Reclaim's safe formatter
        )
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=10)


@click.command()
@click.option("--once", is_flag=True, help="Do what is due now (or at --now) and exit")
@click.option(
    "--now", "now_text", help="ISO 8601 instant to act at (implies the clock for this run)"
)
@click.option("--json", "as_json", is_flag=True, help="With --once: print what was done as JSON")
@handled
def worker(once: bool, now_text: str | None, as_json: bool) -> None:
    """Process the inbox, open due cases and send due flow steps, continuously or --once."""
    from reclaim.entrypoints.worker import run_forever, run_once, summary_json, summary_lines

    now = parse_now(now_text)
    rt = runtime(clock=(lambda: now) if now else None)
    setup_logging(rt.settings.log_level)
    _upgraded(open_database(rt))
    if once or now is not None:
        stats = run_once(rt, rt.clock())
        if as_json:
            click.echo(json.dumps(summary_json(stats)))
        else:
            for line in summary_lines(stats):
                console.print(line, highlight=False, markup=False)
        return
    stop = threading.Event()
    try:
        run_forever(rt, stop, poll_seconds=rt.settings.worker_poll_seconds)
    except KeyboardInterrupt:
        stop.set()
