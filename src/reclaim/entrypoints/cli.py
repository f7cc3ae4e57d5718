"""The ``reclaim`` command."""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from reclaim import __version__
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import load_settings
from reclaim.domain.stores import StoreSettings
from reclaim.errors import ReclaimError
from reclaim.services import ingest
from reclaim.services.stores import add_store, list_stores

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class State:
    verbose = False


def parse_now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not ISO 8601, e.g. 2026-05-01T10:00:00Z") from None
    if at.tzinfo is None:
        raise click.BadParameter("needs a time zone, e.g. 2026-05-01T10:00:00Z")
    return at


def handled(fn: F) -> F:
    """Reclaim's own errors print their cause and exit 2; a traceback only under -v."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ReclaimError as exc:
            if State.verbose:
                raise
            field = getattr(exc, "field", None)
            prefix = f"--{field}: " if field and not str(exc).startswith(field) else ""
            err_console.print(f"[red]error:[/red] {prefix}{exc}", highlight=False)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def runtime(clock: Callable[[], datetime] | None = None) -> Runtime:
    settings = load_settings()
    return bootstrap(settings) if clock is None else bootstrap(settings, clock=clock)


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format='{"at":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","msg":"%(message)s"}',
        stream=sys.stderr,
    )


@click.group()
@click.version_option(__version__, prog_name="reclaim")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
def main(verbose: bool) -> None:
    """Reclaim wins back abandoned checkouts, pending orders and failed payments."""
    State.verbose = verbose


@main.command()
@handled
def init() -> None:
    """Create or upgrade the database (RECLAIM_DATABASE_URL)."""
    rt = runtime()
    revision = init_database(rt)
    console.print(f"database ready at revision [bold]{revision}[/bold]")


@main.group()
def store() -> None:
    """Connect and list stores."""


@store.command("add")
@click.option("--name", required=True)
@click.option(
    "--platform", required=True, type=click.Choice(["shopify", "woocommerce", "stripe", "custom"])
)
@click.option("--currency", required=True, help="ISO 4217, e.g. EUR")
@click.option("--timezone", "tz", required=True, help="IANA zone, e.g. Europe/Paris")
@click.option("--domain", required=True, help="The shop's host name, e.g. shop.example")
@click.option("--webhook-secret", default="", help="The secret the platform signs webhooks with")
@click.option(
    "--abandonment-delay",
    type=click.IntRange(1, 7 * 24 * 60),
    default=30,
    show_default=True,
    help="Minutes of inactivity before a checkout counts as abandoned",
)
@click.option(
    "--test-email", "test_emails", multiple=True, help="An address whose orders are tests"
)
@click.option(
    "--test-domain", "test_domains", multiple=True, help="A domain whose orders are tests"
)
@click.option("--json", "as_json", is_flag=True, help="Print {id, api_key} as JSON")
@handled
def store_add(
    name: str,
    platform: str,
    currency: str,
    tz: str,
    domain: str,
    webhook_secret: str,
    abandonment_delay: int,
    test_emails: tuple[str, ...],
    test_domains: tuple[str, ...],
    as_json: bool,
) -> None:
    """Connect a store; prints its id and an API key (shown only once)."""
    from datetime import timedelta

    rt = runtime()
    init_database(rt)
    settings = StoreSettings(
        abandonment_delay=timedelta(minutes=abandonment_delay),
        test_emails=tuple(e.lower() for e in test_emails),
        test_domains=tuple(d.lower() for d in test_domains),
    )
    created = add_store(
        uow=rt.uow(),
        name=name,
        platform=platform,
        currency=currency.upper(),
        timezone=tz,
        domain=domain,
        webhook_secret=webhook_secret,
        settings=settings,
        now=rt.clock(),
    )
    if as_json:
        click.echo(json.dumps({"id": created.id, "api_key": created.api_key}))
        return
    base = rt.settings.public_url
    console.print(f"store [bold]{created.id}[/bold] created")
    console.print(f"API key (shown once): [bold]{created.api_key}[/bold]")
    if platform != "custom":
        console.print(f"webhook URL: {base}/webhooks/{platform}/{created.id}")
    console.print(f"events API:  {base}/api/v1/events")


@store.command("list")
@click.option("--json", "as_json", is_flag=True)
@handled
def store_list(as_json: bool) -> None:
    """The connected stores."""
    rt = runtime()
    stores = list_stores(uow=rt.uow())
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "platform": s.platform,
            "currency": s.currency,
            "timezone": s.timezone,
            "domain": s.domain,
            "activated_at": s.activated_at.isoformat(),
        }
        for s in stores
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    table = Table("id", "name", "platform", "currency", "timezone", "domain")
    for r in rows:
        table.add_row(r["id"], r["name"], r["platform"], r["currency"], r["timezone"], r["domain"])
    console.print(table)


@main.command()
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
    init_database(rt)
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
        uvicorn.run(create_app(rt), host=host, port=port, log_level="warning", access_log=False)
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=10)


@main.command()
@click.option("--once", is_flag=True, help="Do what is due now (or at --now) and exit")
@click.option(
    "--now", "now_text", help="ISO 8601 instant to act at (implies the clock for this run)"
)
@click.option("--json", "as_json", is_flag=True, help="With --once: print what was done as JSON")
@handled
def worker(once: bool, now_text: str | None, as_json: bool) -> None:
    """Process the inbox and open due cases, continuously or --once."""
    from reclaim.entrypoints.worker import run_forever, run_once

    now = parse_now(now_text)
    rt = runtime(clock=(lambda: now) if now else None)
    setup_logging(rt.settings.log_level)
    init_database(rt)
    if once or now is not None:
        stats = run_once(rt, rt.clock())
        summary = {
            "processed": stats.inbox.processed,
            "ignored": stats.inbox.ignored,
            "failed": stats.inbox.failed,
            "cases_opened": stats.detected.opened,
            "skipped": stats.detected.skipped,
            "expired": stats.detected.expired,
            "leases_released": stats.released,
        }
        if as_json:
            click.echo(json.dumps(summary))
        else:
            console.print(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in summary.items()))
        return
    stop = threading.Event()
    try:
        run_forever(rt, stop, poll_seconds=rt.settings.worker_poll_seconds)
    except KeyboardInterrupt:
        stop.set()


@main.group()
def inbox() -> None:
    """Kept deliveries: dead letters and replay."""


@inbox.command("failed")
@click.option("--store", "store_id", help="Only this store")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True)
@handled
def inbox_failed(store_id: str | None, limit: int, as_json: bool) -> None:
    """Deliveries that could not be processed (the dead-letter list), newest first."""
    rt = runtime()
    with rt.uow() as uow:
        rows = uow.inbox.list(store_id=store_id, statuses=["failed"], limit=limit)
        items = [
            {
                "id": r.id,
                "store_id": r.store_id,
                "source": r.source,
                "topic": r.topic,
                "received_at": r.received_at.isoformat(),
                "error": r.error,
                "bytes": len(r.body),
            }
            for r in rows
        ]
    if as_json:
        click.echo(json.dumps(items))
        return
    table = Table("id", "store", "source", "topic", "received", "error", title="dead letters")
    for r in rows:
        table.add_row(
            str(r.id), r.store_id, r.source, r.topic, r.received_at.isoformat()[:19], r.error
        )
    console.print(table)


@inbox.command("replay")
@click.option("--store", "store_id", help="Only this store")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    default=["failed"],
    show_default=True,
    type=click.Choice(["failed", "processed", "ignored"]),
)
@click.option("--id", "ids", multiple=True, type=int, help="Only these deliveries")
@handled
def inbox_replay(store_id: str | None, statuses: tuple[str, ...], ids: tuple[int, ...]) -> None:
    """Queue kept deliveries again; the worker processes them (idempotently)."""
    rt = runtime()
    n = ingest.replay(
        uow=rt.uow(), store_id=store_id, statuses=list(statuses), ids=list(ids) or None
    )
    console.print(f"{n} deliveries queued for processing")


@inbox.command("stats")
@click.option("--json", "as_json", is_flag=True)
@handled
def inbox_stats(as_json: bool) -> None:
    """How many deliveries are in each state."""
    rt = runtime()
    with rt.uow() as uow:
        counts = uow.inbox.counts()
    if as_json:
        click.echo(json.dumps(counts))
        return
    table = Table("status", "deliveries")
    for status, n in sorted(counts.items()):
        table.add_row(status, str(n))
    console.print(table)


@main.command()
@click.option(
    "--dir",
    "directory",
    default="reclaim-demo",
    show_default=True,
    help="Where the demo database and report go",
)
@click.option("--customers", default=300, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--days", default=3, show_default=True, type=click.IntRange(1, 30), help="Simulated days"
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@handled
def demo(directory: str, customers: int, seed: int, days: int, as_json: bool) -> None:
    """Run a store's traffic through Reclaim over real HTTP and show the cases it finds."""
    from reclaim.entrypoints.demo import run_demo

    run_demo(
        directory=directory,
        customers=customers,
        seed=seed,
        days=days,
        as_json=as_json,
        console=console,
    )
