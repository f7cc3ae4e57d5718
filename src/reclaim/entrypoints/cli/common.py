"""What every ``reclaim`` command shares: the consoles, the error handling (``handled``), the
runtime on the configured database, ``--now`` parsing. It imports no command module."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from reclaim.bootstrap import Runtime, bootstrap, database_absent, explain_database_error
from reclaim.config import load_settings
from reclaim.domain.audit import Actor
from reclaim.errors import NotFound, ReclaimError

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


def actor(rt: Runtime) -> Actor:
    """Who the audit log names for a change this command makes: ``cli:<os user>``, at the
    runtime's clock."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name: a container's numeric uid
        user = "unknown"
    return Actor(f"cli:{user}", rt.clock())


def run_service(
    action: Callable[..., Any], *, timed: bool = False, audited: bool = False, **kwargs: Any
) -> Any:
    """Run a service ``action`` on a runtime of its own (``timed``: at the runtime's clock;
    ``audited``: passing the :func:`actor` the audit log names)."""
    rt = runtime()
    try:
        if timed:
            kwargs["now"] = rt.clock()
        if audited:
            kwargs["actor"] = actor(rt)
        return action(uow=rt.uow(), **kwargs)
    finally:
        rt.close()
