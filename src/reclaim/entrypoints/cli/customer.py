"""``reclaim customer``: a customer's access and erasure requests (SPEC S13, GDPR articles
15 and 17): every row about them as JSON, or all of it erased, leaving a keyed hash on the
suppression list so they are never messaged again. ``reclaim audit``: the audit log of every
change made through the CLI or the API."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import click
from rich.text import Text

from reclaim.bootstrap import compact_tables
from reclaim.domain.audit import AuditEntry
from reclaim.entrypoints.cli.common import actor, console, err_console, handled, runtime
from reclaim.services import audit as audit_service
from reclaim.services import privacy as service

STORE = click.option("--store", "store_id", required=True, help="The store the customer bought at")
EMAIL = click.option("--email", required=True, help="The customer's email address")


@click.group()
def customer() -> None:
    """A customer's access and erasure requests, by email address."""


@customer.command("export")
@STORE
@EMAIL
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the JSON to this file (default: print it)",
)
@handled
def customer_export(store_id: str, email: str, out: Path | None) -> None:
    """Every row about the customer as JSON: cases, checkouts, orders, payment attempts,
    messages and their events, case events and reasons, coupons, shipments, the raw
    deliveries that mention them and their suppression entries."""
    rt = runtime()
    try:
        found = service.export_customer(
            uow=rt.uow(), store_id=store_id, email=email, now=rt.clock(), actor=actor(rt)
        )
    finally:
        rt.close()
    text = json.dumps(found, indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    rows = sum(len(v) for v in found.values() if isinstance(v, list))
    err_console.print(f"{rows} rows written to {out}", highlight=False, soft_wrap=True)


@customer.command("erase")
@STORE
@EMAIL
@click.option("--yes", is_flag=True, help="Do not ask for confirmation")
@click.option("--json", "as_json", is_flag=True, help="Print what was erased as JSON")
@handled
def customer_erase(store_id: str, email: str, yes: bool, as_json: bool) -> None:
    """Erase the customer from the store: their rows deleted, the raw deliveries that
    mention them rewritten without them, a keyed hash left on the suppression list (never
    messaged again). It cannot be undone."""
    if not yes:
        click.confirm(
            f"Erase this customer from {store_id}? This cannot be undone", abort=True, err=True
        )
    rt = runtime()
    try:
        done = service.erase_customer(
            uow=rt.uow(),
            store_id=store_id,
            email=email,
            now=rt.clock(),
            actor=actor(rt),
            compact=partial(compact_tables, rt),
        )
    finally:
        rt.close()
    if as_json:
        since = None if done.since is None else done.since.isoformat()
        click.echo(
            json.dumps(
                {
                    "erased": True,
                    "already": done.already,
                    "since": since,
                    "subject": done.subject,
                    "deleted": done.deleted,
                    "deliveries_rewritten": done.deliveries_rewritten,
                    "deliveries_dropped": done.deliveries_dropped,
                    "suppressed": done.suppressed,
                }
            )
        )
        return
    if done.already:
        assert done.since is not None
        console.print(
            f"already erased on {done.since:%Y-%m-%d %H:%M} UTC: nothing changed", highlight=False
        )
        return
    rows = sum(done.deleted.values())
    console.print(
        f"erased: {rows} rows deleted, {done.deliveries_rewritten} raw deliveries rewritten, "
        f"{done.deliveries_dropped} emptied; kept on the suppression list as {done.subject}",
        highlight=False,
        soft_wrap=True,
    )


@click.group()
def audit() -> None:
    """Who changed what, and when, through the CLI or the API."""


@audit.command("list")
@click.option("--store", "store_id", help="Only this store's entries")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@click.option("--json", "as_json", is_flag=True)
@handled
def audit_list(store_id: str | None, limit: int, as_json: bool) -> None:
    """The audit log, newest first: when, who, what, on what, and what changed."""
    rt = runtime()
    try:
        entries = audit_service.list_entries(uow=rt.uow(), store_id=store_id, limit=limit)
    finally:
        rt.close()
    if as_json:
        rows = [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "store_id": e.store_id,
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "before": e.before,
                "after": e.after,
            }
            for e in entries
        ]
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not entries:
        console.print("no entries")
        return

    def change(e: AuditEntry) -> str:
        before = "" if e.before is None else json.dumps(e.before, ensure_ascii=False) + " → "
        return before + ("" if e.after is None else json.dumps(e.after, ensure_ascii=False))

    # An entry per line (and its change on the next, indented): subjects and changes are long,
    # and a table of them in a terminal's width would cut or fold every one.
    console.print("audit log, newest first (times in UTC)", style="bold", highlight=False)
    for e in entries:
        store = "" if store_id is not None or e.store_id is None else f"  {e.store_id}"
        head = f"{e.at.isoformat()[:19]}{store}  {e.actor}  {e.action}  {e.subject}"
        console.print(Text(head), soft_wrap=True)
        if e.before is not None or e.after is not None:
            console.print(Text("    " + change(e)), soft_wrap=True)
