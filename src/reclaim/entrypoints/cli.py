"""The ``reclaim`` command."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from reclaim import __version__
from reclaim.bootstrap import (
    Runtime,
    bootstrap,
    database_absent,
    explain_database_error,
    migrate_database,
    open_database,
)
from reclaim.config import load_settings
from reclaim.domain.stores import StoreSettings
from reclaim.entrypoints.logs import setup_logging
from reclaim.entrypoints.tables import print_table
from reclaim.errors import NotFound, ReclaimError
from reclaim.services import alerts, ingest
from reclaim.services.stores import add_store, list_stores

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


class State:
    verbose = False
    database_url: str | None = None  # the running command's, once it has a runtime


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
    """Reclaim's own errors print their cause and exit 2; a traceback only under -v.

    So do the database's failures an operator can fix (not initialised, not reachable, a
    SQLite folder that does not exist …): the bootstrap words them with the fix.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        State.database_url = None
        try:
            return fn(*args, **kwargs)
        except ReclaimError as exc:
            if State.verbose:
                raise
            _refuse(exc)
        except Exception as exc:
            problem = explain_database_error(exc, State.database_url or "")
            if problem is None:
                raise
            if State.verbose:
                raise problem from exc
            _refuse(problem)

    return wrapper  # type: ignore[return-value]


def _refuse(exc: ReclaimError) -> NoReturn:
    field = getattr(exc, "field", None)
    prefix = f"--{field}: " if field and not str(exc).startswith(field) else ""
    hint = ""
    if isinstance(exc, NotFound) and str(exc).startswith("no store"):
        hint = " (`reclaim store list` shows the stores)"
    err_console.print(
        f"[red]error:[/red] {escape(prefix + str(exc) + hint)}", highlight=False, soft_wrap=True
    )
    sys.exit(2)


def runtime(clock: Callable[[], datetime] | None = None, *, create: bool = False) -> Runtime:
    """A runtime on the configured database. Only ``reclaim init`` (``create``) may make a
    SQLite file that is not there yet: any other command names it and the fix instead of
    leaving an empty file behind."""
    settings = load_settings()
    State.database_url = settings.database_url  # to word its failures (``handled``)
    if not create and (problem := database_absent(settings.database_url)) is not None:
        raise problem
    return bootstrap(settings) if clock is None else bootstrap(settings, clock=clock)


def run_service(action: Callable[..., Any], *, timed: bool = False, **kwargs: Any) -> Any:
    """Run a service ``action`` on a runtime of its own (``timed``: at the runtime's clock)."""
    rt = runtime()
    try:
        if timed:
            kwargs["now"] = rt.clock()
        return action(uow=rt.uow(), **kwargs)
    finally:
        rt.close()


@click.group()
@click.version_option(__version__, prog_name="reclaim")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks for errors.")
def main(verbose: bool) -> None:
    """Reclaim wins back abandoned checkouts, pending orders and failed payments."""
    State.verbose = verbose


@main.command()
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
@click.option("--postal-address", default="", help="Shown in every email's footer (the law)")
@click.option("--sender-email", help="From address of messages (default shop@<domain>)")
@click.option("--support-email", help="Where customers can ask for help")
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
    postal_address: str,
    sender_email: str | None,
    support_email: str | None,
    as_json: bool,
) -> None:
    """Connect a store; prints its id and an API key (shown only once)."""
    from datetime import timedelta

    rt = runtime()
    settings = StoreSettings(
        abandonment_delay=timedelta(minutes=abandonment_delay),
        test_emails=tuple(e.lower() for e in test_emails),
        test_domains=tuple(d.lower() for d in test_domains),
        postal_address=postal_address,
        sender_email=sender_email,
        support_email=support_email,
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
    if not postal_address:
        err_console.print(
            "[yellow]note:[/yellow] no --postal-address: marketing email must show one "
            "(reclaim store set ID --postal-address …)"
        )


def _share(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise click.BadParameter(f"{text!r} is not a number such as 0.45") from None
    if not value.is_finite():
        raise click.BadParameter(f"{text!r} is not a number such as 0.45")
    return value


_SETTABLE: dict[str, tuple[str, Callable[[str], object]]] = {
    "postal_address": ("Postal address for email footers", str),
    "payment_instructions": (
        "What customers need to pay by bank transfer, cash on delivery or cheque (account, "
        "reference; several lines are fine), shown in pending-order reminders",
        lambda v: v.replace("\r\n", "\n").strip(),
    ),
    "sender_email": ("From address", str),
    "sender_name": ("From name (default: the store's name)", str),
    "reply_to": ("Reply-To address", str),
    "support_email": ("Support email shown in messages", str),
    "support_phone": ("Support phone shown in messages", str),
    "logo_url": ("https URL of the logo in emails", str),
    "webhook_url": ("Endpoint of the outgoing webhook channel", str),
    "webhook_signing_secret": ("Secret the outgoing webhooks are signed with", str),
    "sms_sender": ("SMS sender id or number", str),
    "platform_api_url": (
        "Shopify admin or WooCommerce site URL (to cancel expired orders and create coupons)",
        str,
    ),
    "platform_api_token": (
        "Shopify access token, WooCommerce ck_…:cs_…, or a Stripe secret/restricted key",
        str,
    ),
    "shop_domain": (
        "The platform's host name for the shop, e.g. name.myshopify.com (webhooks naming "
        "another shop are refused)",
        lambda v: v.strip().lower(),
    ),
    "gross_margin": ("Gross margin as a share of order value, e.g. 0.45", _share),
    "margin_floor": ("Incentives never push the margin below this share", _share),
}


@store.command("set")
@click.argument("store_id")
@click.option("--frequency-cap", type=click.IntRange(1, 168), help="Hours between messages")
@click.option("--hold-period", type=click.IntRange(3, 7), help="Days a pending order is held")
@click.option("--consent", type=click.Choice(["law", "always", "never"]), help="Marketing consent")
@click.option("--pause/--resume", default=None, help="Stop or restart all sending")
@click.option(
    "--coupons-imported/--no-coupons-imported",
    default=None,
    help="You import Reclaim's coupon codes into the store yourself (reclaim coupons export): "
    "codes are mailed without API access to create them",
)
@click.option(
    "--alert-email",
    "alert_emails",
    multiple=True,
    help="An operator emailed the store's alerts (repeat it; '' for none)",
)
@handled
def store_set(
    store_id: str,
    frequency_cap: int | None,
    hold_period: int | None,
    consent: str | None,
    pause: bool | None,
    coupons_imported: bool | None,
    alert_emails: tuple[str, ...],
    **values: str | None,
) -> None:
    """Change a store's message settings (only the options given)."""
    from datetime import timedelta

    from reclaim.services.stores import update_settings

    changes: dict[str, object] = {
        k: _SETTABLE[k][1](v) if v != "" else None for k, v in values.items() if v is not None
    }
    if "postal_address" in changes:
        changes["postal_address"] = changes["postal_address"] or ""
    if frequency_cap is not None:
        changes["frequency_cap"] = timedelta(hours=frequency_cap)
    if hold_period is not None:
        changes["hold_period"] = timedelta(days=hold_period)
    if consent is not None:
        changes["requires_consent"] = {"law": None, "always": True, "never": False}[consent]
    if alert_emails:
        changes["alert_emails"] = tuple(e.strip().lower() for e in alert_emails if e.strip())
    if coupons_imported is not None:
        changes["coupons_imported"] = coupons_imported
    rt = runtime()
    try:
        update_settings(uow=rt.uow(), store_id=store_id, changes=changes, paused=pause)
    finally:
        rt.close()
    console.print(f"store [bold]{store_id}[/bold] updated: {', '.join(changes) or 'nothing'}")


for _name, (_help, _kind) in _SETTABLE.items():
    store_set = click.option(f"--{_name.replace('_', '-')}", _name, help=_help)(store_set)


@main.group()
def flows() -> None:
    """Message flows per store and case kind (YAML, versioned)."""


@flows.command("list")
@click.option("--store", "store_id", required=True)
@click.option("--json", "as_json", is_flag=True)
@handled
def flows_list(store_id: str, as_json: bool) -> None:
    """Every version of the store's flows; the active one is marked."""
    from reclaim.services.flows import list_flows

    rt = runtime()
    rows = [
        {
            "kind": v.kind,
            "version": v.version,
            "name": v.flow.name,
            "active": v.active,
            "steps": [s.key for s in v.flow.steps],
            "holdout": v.flow.holdout,
            "created_at": v.created_at.isoformat(),
        }
        for v in list_flows(uow=rt.uow(), store_id=store_id)
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    print_table(
        console,
        ("kind", "version", "active", "name", "steps", "holdout"),
        [
            (
                str(r["kind"]),
                str(r["version"]),
                "●" if r["active"] else "",
                str(r["name"]),
                " → ".join(r["steps"]),  # type: ignore[arg-type]
                f"{r['holdout']:.0%}",
            )
            for r in rows
        ],
        keys=("kind",),
    )


@flows.command("default")
@click.argument(
    "kind", type=click.Choice(["abandoned_checkout", "pending_order", "failed_payment"])
)
def flows_default(kind: str) -> None:
    """Print the default flow's YAML, to copy and edit."""
    from reclaim.adapters.flows import default_source

    click.echo(default_source(kind), nl=False)


@flows.command("set")
@click.option("--store", "store_id", required=True)
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print {kind, version, steps} as JSON")
@handled
def flows_set(store_id: str, path: str, as_json: bool) -> None:
    """Install a flow from a YAML file as the store's new version for its kind."""
    from pathlib import Path

    from reclaim.adapters.flows import load_flow
    from reclaim.services.flows import set_flow

    source = Path(path).read_text(encoding="utf-8")
    flow = load_flow(source)
    rt = runtime()
    version = set_flow(uow=rt.uow(), store_id=store_id, source=source, flow=flow, now=rt.clock())
    if as_json:
        steps = [s.key for s in flow.steps]
        click.echo(json.dumps({"kind": flow.kind, "version": version, "steps": steps}))
        return
    console.print(
        f"{flow.kind} flow [bold]v{version}[/bold] active: {' → '.join(s.key for s in flow.steps)}"
        " (running cases keep their version)"
    )


@store.command("list")
@click.option("--json", "as_json", is_flag=True)
@handled
def store_list(as_json: bool) -> None:
    """The connected stores."""
    rt = runtime()
    try:
        stores = list_stores(uow=rt.uow())
    finally:
        rt.close()
    rows = [
        {
            "id": s.id,
            "name": s.name,
            "platform": s.platform,
            "currency": s.currency,
            "timezone": s.timezone,
            "domain": s.domain,
            "activated_at": s.activated_at.isoformat(),
            "paused": s.paused,
        }
        for s in stores
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    print_table(
        console,
        ("id", "name", "platform", "currency", "timezone", "domain", "sending"),
        [
            (
                s.id,
                s.name,
                s.platform,
                s.currency,
                s.timezone,
                s.domain,
                Text("paused", style="red") if s.paused else "on",
            )
            for s in stores
        ],
        keys=("id",),
    )


@store.command("alerts")
@click.argument("store_id")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
@handled
def store_alerts(store_id: str, limit: int, as_json: bool) -> None:
    """The store's alerts, newest first: complaint rate, sending paused (SPEC S5)."""
    rt = runtime()
    try:
        found = alerts.list_alerts(uow=rt.uow(), store_id=store_id, limit=limit)
    finally:
        rt.close()
    if as_json:
        rows = [{"at": a.at.isoformat(), "type": a.type, "message": a.message} for a in found]
        click.echo(json.dumps(rows))
        return
    if not found:
        console.print(f"no alerts for {store_id}")
        return
    shown = [(a.at.isoformat()[:19], a.message) for a in found]
    print_table(console, ("at", "alert"), shown, keys=("at",), title=f"alerts of {store_id}")


def _upgraded(revisions: tuple[str | None, str | None]) -> None:
    """One line (on stderr, out of a script's way) when a start upgraded the database."""
    before, after = revisions
    if before != after:
        err_console.print(f"database upgraded from revision {before} to {after}", highlight=False)


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
        console.print(f"Reclaim listens on http://{host}:{port} (health: /healthz, /readyz)")
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


@main.command()
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
        tests = uow.inbox.count_noted(ingest.TEST_MODE, store_id=store_id)
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
    print_table(
        console,
        ("id", "store", "source", "topic", "received", "error"),
        [
            (
                str(r.id),
                r.store_id,
                r.source,
                r.topic,
                r.received_at.isoformat()[:19].replace("T", " "),
                r.error or "",
            )
            for r in rows
        ],
        keys=("id", "store"),
        title="dead letters",
    )
    if tests:
        console.print(
            f"not failures: {tests} deliveries in test mode (Stripe's livemode false, a "
            "platform's test order) were kept and processed, but tests open no case",
            highlight=False,
        )


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
@click.option("--json", "as_json", is_flag=True, help="Print {queued} as JSON")
@handled
def inbox_replay(
    store_id: str | None, statuses: tuple[str, ...], ids: tuple[int, ...], as_json: bool
) -> None:
    """Queue kept deliveries again; the worker processes them (idempotently)."""
    rt = runtime()
    n = ingest.replay(
        uow=rt.uow(), store_id=store_id, statuses=list(statuses), ids=list(ids) or None
    )
    if as_json:
        click.echo(json.dumps({"queued": n}))
        return
    console.print(f"{n} deliveries queued for processing")


@inbox.command("stats")
@click.option("--json", "as_json", is_flag=True)
@handled
def inbox_stats(as_json: bool) -> None:
    """How many deliveries are in each state."""
    rt = runtime()
    with rt.uow() as uow:
        counts = uow.inbox.counts()
        tests = uow.inbox.count_noted(ingest.TEST_MODE)
    if as_json:
        # test_mode (only when there are some): of the processed, the tests (no case)
        click.echo(json.dumps(counts | ({"test_mode": tests} if tests else {})))
        return
    rows: list[tuple[str, str]] = []
    for status, n in sorted(counts.items()):
        rows.append((status, str(n)))
        if status == "processed" and tests:
            rows.append(("  of which test mode (kept, no case)", str(tests)))
    print_table(console, ("status", "deliveries"), rows, keys=("status", "deliveries"))


def _simulation_options(command: F) -> F:
    """``--holdout`` and ``--response-scale``, shared by ``reclaim demo`` and ``reclaim sim``."""
    command = click.option(
        "--response-scale",
        default=1.0,
        show_default=True,
        type=click.FloatRange(min=0),
        help="Multiplies how often a message persuades a customer",
    )(command)
    return click.option(
        "--holdout",
        default=0.10,
        show_default=True,
        type=click.FloatRange(0, 0.5),
        help="Share of cases held out of messages",
    )(command)


@main.command()
@click.option(
    "--dir",
    "directory",
    default="reclaim-demo",
    show_default=True,
    help="Where the demo database and report go",
)
@click.option("--customers", default=600, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--days", default=30, show_default=True, type=click.IntRange(1, 30), help="Simulated days"
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@click.option("--no-serve", is_flag=True, help="Stop after the report (scripts, CI)")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="API port"
)
@_simulation_options
@handled
def demo(
    directory: str,
    customers: int,
    seed: int,
    days: int,
    as_json: bool,
    no_serve: bool,
    port: int,
    holdout: float,
    response_scale: float,
) -> None:
    """Simulate 30 days of four stores through Reclaim (webhooks, worker, emails, customers
    reacting), print the summary, write an HTML report, then serve the API on the data."""
    from reclaim.entrypoints.demo import run_demo

    run_demo(
        directory=directory,
        customers=customers,
        seed=seed,
        days=days,
        as_json=as_json,
        console=console,
        serve=not no_serve,
        port=port,
        holdout=holdout,
        response_scale=response_scale,
    )


@main.command()
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 90))
@click.option("--customers", default=20_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--database-url",
    help="An empty database to run on (default: a fresh reclaim.sqlite3 in --dir)",
)
@click.option(
    "--dir",
    "directory",
    default="reclaim-sim",
    show_default=True,
    help="Where the database (unless --database-url), report and summary go",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@click.option("--realtime", is_flag=True, help="Play at wall-clock pace, the API on --port")
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="With --realtime: simulated seconds per real second",
)
@click.option("--port", type=click.IntRange(1, 65535), help="API port (--realtime: 8000)")
@_simulation_options
@handled
def sim(
    days: int,
    customers: int,
    seed: int,
    database_url: str | None,
    directory: str,
    as_json: bool,
    realtime: bool,
    speed: float,
    port: int | None,
    holdout: float,
    response_scale: float,
) -> None:
    """Run the store simulator against Reclaim, without serving afterwards."""
    from reclaim.entrypoints.demo import run_sim

    run_sim(
        directory=directory,
        database_url=database_url,
        customers=customers,
        seed=seed,
        days=days,
        as_json=as_json,
        console=console,
        realtime=realtime,
        speed=speed,
        port=port,
        holdout=holdout,
        response_scale=response_scale,
    )


# Command groups kept in their own modules; imported last so they can use the group above.
from reclaim.entrypoints import (  # noqa: E402, F401
    cli_coupons,
    cli_keys,
    cli_stock,
    cli_suppressions,
    cli_templates,
)
