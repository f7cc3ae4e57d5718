"""``reclaim store key``: a store's API keys: add, list, revoke, rotate. A key's secret is
printed once, when it is made; Reclaim keeps only its SHA-256."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from rich.table import Table

from reclaim.domain.stores import SCOPES, key_prefix
from reclaim.entrypoints.cli import console, handled, run_service, store
from reclaim.services import stores as service

_on_keys = run_service


def _at(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _shown(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _print_new(created: service.NewKey, as_json: bool, **extra: str) -> None:
    if as_json:
        row = {"prefix": created.prefix, "api_key": created.api_key}
        click.echo(json.dumps(row | {"scopes": list(created.scopes)} | extra))
        return
    console.print(f"API key (shown once): [bold]{created.api_key}[/bold]", soft_wrap=True)
    console.print(
        f"prefix {created.prefix} of {created.store_id}, scopes: {' '.join(created.scopes)}",
        highlight=False,
        soft_wrap=True,
    )


@store.group("key")
def store_key() -> None:
    """A store's API keys: add, list, revoke, rotate (a secret is shown once, never kept)."""


@store_key.command("add")
@click.argument("store_id")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help=f"What the key may do, repeatable: {', '.join(SCOPES)} (default: all)",
)
@click.option("--json", "as_json", is_flag=True, help="Print {prefix, api_key, scopes} as JSON")
@handled
def key_add(store_id: str, scopes: tuple[str, ...], as_json: bool) -> None:
    """Make another API key for STORE_ID; prints it once."""
    created = _on_keys(service.add_key, timed=True, store_id=store_id, scopes=scopes)
    _print_new(created, as_json)


@store_key.command("list")
@click.argument("store_id")
@click.option("--json", "as_json", is_flag=True)
@handled
def key_list(store_id: str, as_json: bool) -> None:
    """STORE_ID's keys, revoked ones included: prefix, scopes, when made and revoked."""
    keys = _on_keys(service.list_keys, store_id=store_id)
    if as_json:
        rows = [
            {
                "prefix": k.prefix,
                "scopes": k.scopes.split(),
                "created_at": _at(k.created_at),
                "revoked_at": _at(k.revoked_at),
            }
            for k in keys
        ]
        click.echo(json.dumps(rows))
        return
    # Nothing is ever cut: a prefix is one unbroken cell, long values fold onto more lines.
    table = Table(title=f"API keys of {store_id} (times in UTC)")
    table.add_column("prefix", no_wrap=True, min_width=8)
    table.add_column("scopes", overflow="fold")
    table.add_column("created", overflow="fold")
    table.add_column("revoked", overflow="fold")
    for k in keys:
        revoked = "–" if k.revoked_at is None else f"[red]{_shown(k.revoked_at)}[/red]"
        table.add_row(k.prefix, k.scopes, _shown(k.created_at), revoked)
    console.print(table)


@store_key.command("revoke")
@click.argument("prefix_or_key")
@handled
def key_revoke(prefix_or_key: str) -> None:
    """Revoke a key (named by its prefix, or given whole): refused from now on."""
    revoked = _on_keys(service.revoke_key, timed=True, key=prefix_or_key)
    console.print(
        f"API key {revoked.prefix} of {revoked.store_id} revoked", highlight=False, soft_wrap=True
    )


@store_key.command("rotate")
@click.argument("prefix_or_key")
@click.option("--json", "as_json", is_flag=True, help="Print {prefix, api_key, scopes, revoked}")
@handled
def key_rotate(prefix_or_key: str, as_json: bool) -> None:
    """Replace a key: a new one (printed once) with the same store and scopes, and the old
    one revoked, together."""
    old = prefix_or_key.strip()
    created = _on_keys(service.rotate_key, timed=True, key=old)
    revoked = key_prefix(old)
    if not as_json:
        console.print(f"API key {revoked} revoked", highlight=False)
    _print_new(created, as_json, revoked=revoked)
