"""``reclaim user``: the console's users (SPEC S11): add, list, set. A password is read from
a hidden prompt (asked twice) or, with ``--password-stdin``, from the first line of standard
input; it is never an option, so it stays out of shell history and process lists."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.table import Table

from reclaim.domain.users import LOCALES, Role, User
from reclaim.entrypoints.cli.common import actor, console, handled, runtime
from reclaim.services import users as service

ROLES = [r.value for r in Role]


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise click.UsageError("no terminal to ask for the password: pass --password-stdin")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": str(user.role),
        "stores": "all" if user.role == Role.ADMIN else list(user.stores),
        "locale": user.locale,
        "timezone": user.timezone,
        "disabled": user.disabled_at is not None,
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


@click.group("user")
def user() -> None:
    """The console's users: add, list, set (role, stores, password, disabled)."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True, help="What the user may do")
@click.option(
    "--store",
    "stores",
    multiple=True,
    metavar="ID",
    help="A store an operator or viewer may see (repeat for several; admins see all)",
)
@click.option("--name", default="", help="The name shown in the console and the audit log")
@click.option("--locale", type=click.Choice(LOCALES), default="en", show_default=True)
@click.option("--timezone", default="UTC", show_default=True, help="IANA zone times are shown in")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
@click.option("--json", "as_json", is_flag=True)
@handled
def add(
    email: str,
    role: str,
    stores: tuple[str, ...],
    name: str,
    locale: str,
    timezone: str,
    password_stdin: bool,
    as_json: bool,
) -> None:
    """Add a console user (at least 10 characters of password)."""
    rt = runtime()
    try:
        password = _password(password_stdin)
        made = service.add_user(
            uow=rt.uow(),
            hasher=rt.passwords,
            email=email,
            password=password,
            role=role,
            stores=stores,
            name=name,
            locale=locale,
            timezone=timezone,
            now=rt.clock(),
            actor=actor(rt),
        )
    finally:
        rt.close()
    if as_json:
        click.echo(json.dumps(_row(made)))
        return
    where = "every store" if made.role == Role.ADMIN else (", ".join(made.stores) or "no store yet")
    console.print(
        f"user [bold]{made.email}[/bold] added as {made.role} ({where})",
        highlight=False,
        soft_wrap=True,
    )


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@handled
def list_(as_json: bool) -> None:
    """The console's users, their role and stores."""
    rt = runtime()
    try:
        found = service.list_users(uow=rt.reader())
    finally:
        rt.close()
    if as_json:
        click.echo(json.dumps([_row(u) for u in found]))
        return
    table = Table("email", "role", "stores", "locale", "time zone", "last sign-in", "state")
    for u in found:
        row = _row(u)
        table.add_row(
            u.email,
            row["role"],
            row["stores"] if isinstance(row["stores"], str) else " ".join(row["stores"]) or "-",
            u.locale,
            u.timezone,
            (row["last_login_at"] or "never")[:16],
            "disabled" if u.disabled_at else "active",
        )
    console.print(table)


@user.command("set")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES))
@click.option("--store", "stores", multiple=True, metavar="ID", help="Replaces the user's stores")
@click.option("--no-stores", is_flag=True, help="Take every store away (non-admins)")
@click.option("--name")
@click.option("--locale", type=click.Choice(LOCALES))
@click.option("--timezone")
@click.option("--password", "new_password", is_flag=True, help="Ask for a new password")
@click.option("--password-stdin", is_flag=True, help="Read a new password from standard input")
@click.option("--disable/--enable", "disabled", default=None, help="Stop or allow sign-in")
@handled
def set_(
    email: str,
    role: str | None,
    stores: tuple[str, ...],
    no_stores: bool,
    name: str | None,
    locale: str | None,
    timezone: str | None,
    new_password: bool,
    password_stdin: bool,
    disabled: bool | None,
) -> None:
    """Change a user; a new password or --disable signs them out everywhere."""
    rt = runtime()
    try:
        password = _password(password_stdin) if (new_password or password_stdin) else None
        changed = service.update_user(
            uow=rt.uow(),
            hasher=rt.passwords,
            email=email,
            role=role,
            stores=() if no_stores else (stores or None),
            name=name,
            locale=locale,
            timezone=timezone,
            password=password,
            disabled=disabled,
            now=rt.clock(),
            actor=actor(rt),
        )
    finally:
        rt.close()
    console.print(f"user [bold]{changed.email}[/bold] updated", highlight=False)
