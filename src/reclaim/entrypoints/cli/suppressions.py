"""``reclaim suppressions``: look up, add, remove and import entries of a store's suppression
lists (SPEC S5). Entries are hashed: an address can be looked up, never listed."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.progress import Progress

from reclaim.entrypoints.cli.common import actor, console, handled, run_service, runtime
from reclaim.services import suppressions as service

CHANNEL = click.option(
    "--channel", type=click.Choice(service.CHANNELS), default="email", show_default=True
)


_on_list = run_service
JSON = click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON")


def _entry(found: service.Entry | None) -> dict[str, object]:
    """Why and since when an address is (or was) suppressed, for ``--json``."""
    if found is None:
        return {"reason": None, "since": None}
    return {"reason": found.reason, "since": found.since.isoformat()}


@click.group()
def suppressions() -> None:
    """Who is never messaged: bounces, complaints, unsubscribes, your own entries."""


@suppressions.command("check")
@click.option("--store", "store_id", required=True)
@CHANNEL
@click.argument("address")
@JSON
@handled
def suppressions_check(store_id: str, channel: str, address: str, as_json: bool) -> None:
    """Is ADDRESS (an email, or an E.164 phone for sms) on the list, and why?"""
    found = _on_list(service.check, store_id=store_id, channel=channel, address=address)
    if as_json:
        click.echo(json.dumps({"suppressed": found is not None, **_entry(found)}))
        return
    if found is None:
        console.print("not suppressed")
    else:
        console.print(f"suppressed ({found.reason}) since {found.since.isoformat()[:19]}")


@suppressions.command("add")
@click.option("--store", "store_id", required=True)
@CHANNEL
@click.argument("address")
@JSON
@handled
def suppressions_add(store_id: str, channel: str, address: str, as_json: bool) -> None:
    """Never message ADDRESS again from this store; its running flows stop."""
    added = _on_list(
        service.add, timed=True, audited=True, store_id=store_id, channel=channel, address=address
    )
    if as_json:
        click.echo(json.dumps({"added": added.new, "flows_stopped": added.flows_stopped}))
        return
    state = "added" if added.new else "already suppressed"
    console.print(f"{state}; {added.flows_stopped} running flows stopped")


@suppressions.command("remove")
@click.option("--store", "store_id", required=True)
@CHANNEL
@click.argument("address")
@JSON
@handled
def suppressions_remove(store_id: str, channel: str, address: str, as_json: bool) -> None:
    """Take ADDRESS off the list (when the customer asks to hear from the store again);
    flows it stopped stay stopped."""
    found = _on_list(
        service.remove, audited=True, store_id=store_id, channel=channel, address=address
    )
    if as_json:
        click.echo(json.dumps({"removed": found is not None, **_entry(found)}))
        return
    if found is None:
        console.print("was not suppressed")
    else:
        console.print(f"removed (it was {found.reason} since {found.since.isoformat()[:19]})")


@suppressions.command("import")
@click.option("--store", "store_id", required=True)
@CHANNEL
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@JSON
@handled
def suppressions_import(store_id: str, channel: str, path: Path, as_json: bool) -> None:
    """Import a list from another tool: one address, or its SHA-256 hash, per line (a CSV's
    first column); all or nothing."""
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    rt = runtime()
    try:
        with Progress(console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task("importing", total=len(lines))
            read, added = service.import_list(
                uow=rt.uow(),
                store_id=store_id,
                channel=channel,
                lines=lines,
                now=rt.clock(),
                progress=lambda done: bar.update(task, completed=done),
                actor=actor(rt),
            )
    finally:
        rt.close()
    if as_json:
        click.echo(json.dumps({"read": read, "added": added}))
        return
    console.print(f"{read} entries read, {added} new")
