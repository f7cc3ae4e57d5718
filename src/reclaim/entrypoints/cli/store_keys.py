"""``reclaim store key``: a store's API keys: add, list, revoke, rotate, each with its
scopes, expiry and last use. A key's secret is printed once, when it is made; Reclaim keeps
only its SHA-256. Attached to ``reclaim store`` by ``entrypoints/cli/store.py``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click
from rich.table import Table

from reclaim.domain.stores import SCOPES, key_prefix
from reclaim.entrypoints.cli.common import console, handled, run_service
from reclaim.services import stores as service

_on_keys = run_service


def _at(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _shown(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _print_new(created: service.NewKey, as_json: bool, **extra: str) -> None:
    if as_json:
        row: dict[str, object] = {"prefix": created.prefix, "api_key": created.api_key}
        row["scopes"] = list(created.scopes)
        if created.expires_at is not None:
            row["expires_at"] = created.expires_at.isoformat()
        click.echo(json.dumps(row | extra))
        return
    console.print(f"API key (shown once): [bold]{created.api_key}[/bold]", soft_wrap=True)
    console.print(
        f"prefix {created.prefix} of {created.store_id}, scopes: {' '.join(created.scopes)}",
        highlight=False,
        soft_wrap=True,
    )
    if created.expires_at is not None:
        console.print(f"expires {_shown(created.expires_at)} UTC", highlight=False)


def _expires_at(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """``--expires-at``: a date (the key works until that day begins, UTC) or an ISO 8601
    time with its zone."""
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date such as 2027-01-31") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _expiry_options(command: Callable[..., object]) -> Callable[..., object]:
    command = click.option(
        "--expires-at",
        callback=_expires_at,
        metavar="DATE",
        help="Refused from this date (UTC midnight) or ISO time on",
    )(command)
    return click.option(
        "--expires-in",
        type=click.IntRange(1, 3650),
        metavar="DAYS",
        help="Refused this many days from now",
    )(command)


def _lifetime(days: int | None) -> timedelta | None:
    return None if days is None else timedelta(days=days)


@click.group("key")
def store_key() -> None:
    """A store's API keys: add, list, revoke, rotate (a secret is shown once, never kept)."""


@store_key.command("add")
@click.argument("store_id")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    metavar="SCOPE",
    help=f"What the key may do, repeatable: {', '.join(SCOPES)} (default: all but admin)",
)
@_expiry_options
@click.option("--json", "as_json", is_flag=True, help="Print {prefix, api_key, scopes} as JSON")
@handled
def key_add(
    store_id: str,
    scopes: tuple[str, ...],
    expires_in: int | None,
    expires_at: datetime | None,
    as_json: bool,
) -> None:
    """Make another API key for STORE_ID; prints it once."""
    created = _on_keys(
        service.add_key,
        timed=True,
        audited=True,
        store_id=store_id,
        scopes=scopes,
        expires_at=expires_at,
        expires_in=_lifetime(expires_in),
    )
    _print_new(created, as_json)


@store_key.command("list")
@click.argument("store_id")
@click.option("--json", "as_json", is_flag=True)
@handled
def key_list(store_id: str, as_json: bool) -> None:
    """STORE_ID's keys, revoked ones included: prefix, scopes, when made, revoked, when they
    expire and when they were last used (to the minute)."""
    keys = _on_keys(service.list_keys, store_id=store_id)
    if as_json:
        rows = [
            {
                "prefix": k.prefix,
                "scopes": k.scopes.split(),
                "created_at": _at(k.created_at),
                "revoked_at": _at(k.revoked_at),
                "expires_at": _at(k.expires_at),
                "last_used_at": _at(k.last_used_at),
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
    table.add_column("expires", overflow="fold")
    table.add_column("last used", overflow="fold")
    for k in keys:
        revoked = "–" if k.revoked_at is None else f"[red]{_shown(k.revoked_at)}[/red]"
        expires = "never" if k.expires_at is None else _shown(k.expires_at)
        used = "never" if k.last_used_at is None else _shown(k.last_used_at)
        table.add_row(k.prefix, k.scopes, _shown(k.created_at), revoked, expires, used)
    console.print(table)


@store_key.command("revoke")
@click.argument("prefix_or_key")
@handled
def key_revoke(prefix_or_key: str) -> None:
    """Revoke a key (named by its prefix, or given whole): refused from now on."""
    revoked = _on_keys(service.revoke_key, timed=True, audited=True, key=prefix_or_key)
    console.print(
        f"API key {revoked.prefix} of {revoked.store_id} revoked", highlight=False, soft_wrap=True
    )


@store_key.command("rotate")
@click.argument("prefix_or_key")
@_expiry_options
@click.option("--json", "as_json", is_flag=True, help="Print {prefix, api_key, scopes, revoked}")
@handled
def key_rotate(
    prefix_or_key: str, expires_in: int | None, expires_at: datetime | None, as_json: bool
) -> None:
    """Replace a key: a new one (printed once) with the same store and scopes, and the old
    one revoked, together. The new key lives as long as the old one was made to, unless
    --expires-in or --expires-at says otherwise."""
    old = prefix_or_key.strip()
    created = _on_keys(
        service.rotate_key,
        timed=True,
        audited=True,
        key=old,
        expires_at=expires_at,
        expires_in=_lifetime(expires_in),
    )
    revoked = key_prefix(old)
    if not as_json:
        console.print(f"API key {revoked} revoked", highlight=False)
    _print_new(created, as_json, revoked=revoked)
