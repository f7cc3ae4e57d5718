"""Database failures an operator can fix, in words (issue 14).

SQLAlchemy raises ``OperationalError`` / ``ProgrammingError`` for a PostgreSQL server that is
down, a database that does not exist, a SQLite file in a folder that does not exist, or
tables that are missing because ``reclaim init`` never ran. :func:`explain` turns those into
a :class:`~reclaim.errors.DatabaseUnavailable` that names the problem and the fix; anything
else (a bug) is left alone. A message never shows the URL's password.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

from alembic.util import CommandError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, PendingRollbackError

from reclaim.adapters.db import migrate
from reclaim.adapters.db.engine import make_engine
from reclaim.errors import DatabaseBusy, DatabaseFull, DatabaseUnavailable

SETTING = "RECLAIM_DATABASE_URL"

# What the drivers say, and what it means (sqlite3 and libpq messages; PostgreSQL SQLSTATEs).
_SQLITE_MISSING = ("no such table", "no such column")
_UNDEFINED = ("42P01", "42703")  # undefined_table, undefined_column
_REFUSED_LOGIN = ("password authentication failed", "no pg_hba.conf entry", "role ")
_DISK_FULL = "53100"  # disk_full


def explain(exc: BaseException, url: str) -> DatabaseUnavailable | None:
    """What went wrong with the database at ``url``, if ``exc`` (or what caused it) says."""
    for error in _chain(exc):
        if isinstance(error, DBAPIError):
            # The first the chain explains: SQLite's "no such savepoint" (its transaction
            # rolled back by a full disk) is explained by the failure it followed.
            if (problem := _explain_dbapi(error, url)) is not None:
                return problem
            continue
        if isinstance(error, PendingRollbackError) and error.code == "8s2b":
            return DatabaseBusy(  # a session used again after its connection was lost
                f"the connection to the database at {where(url)} was lost during a "
                "transaction: try again"
            )
        if isinstance(error, CommandError) and "Can't locate revision" in str(error):
            return DatabaseUnavailable(
                f"the database at {where(url)} was upgraded by a newer version of Reclaim "
                f"(this one knows revisions up to {migrate.head_revision()}): run the newer "
                f"Reclaim, or set {SETTING} to another database"
            )
    return None


def where(url: str) -> str:
    """The database named for an operator: a SQLite file's path, else user@host:port/name
    (never the password)."""
    parsed = _parse(url)
    if parsed is None:
        return "RECLAIM_DATABASE_URL"
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_path(parsed) or "an in-memory SQLite database"
    user = f"{parsed.username}@" if parsed.username else ""
    return f"{user}{_host_port(parsed)}/{parsed.database or ''}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _parse(url: str) -> URL | None:
    try:
        return make_url(url)
    except ArgumentError:
        return None


def _sqlite_path(parsed: URL) -> str | None:
    name = parsed.database
    if not name or name == ":memory:":
        return None
    return str(Path(name).absolute())


def absent(url: str) -> DatabaseUnavailable | None:
    """A SQLite database file that is not there yet, named before anything connects (a
    connection would create an empty file): only ``reclaim init`` creates a database."""
    parsed = _parse(url)
    if parsed is None or parsed.get_backend_name() != "sqlite":
        return None
    path = _sqlite_path(parsed)
    if path is None or Path(path).exists():
        return None
    folder = Path(path).parent
    if not folder.is_dir():
        return _missing_folder(path, folder)
    return DatabaseUnavailable(
        f"the database at {path} is not initialised (there is no such file yet): run "
        f"`reclaim init` to create it, or set {SETTING} to your database"
    )


def not_initialised(url: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"the database at {where(url)} is not initialised: run `reclaim init` to create its tables"
    )


def _missing_folder(path: str, folder: Path) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"cannot open the SQLite database {path}: the folder {folder} does not exist; "
        f"create the folder (mkdir -p {shlex.quote(str(folder))}) or set {SETTING} "
        "to a path in a folder that exists"
    )


def _host_port(parsed: URL) -> str:
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}"


def _explain_dbapi(error: DBAPIError, url: str) -> DatabaseUnavailable | None:
    parsed = _parse(url)
    if parsed is None:
        return None
    text = str(error.orig)
    if parsed.password:
        text = text.replace(parsed.password, "***")
    if parsed.get_backend_name() == "sqlite":
        return _explain_sqlite(text, parsed, url)
    return _explain_postgresql(error, text, parsed, url)


def _explain_sqlite(text: str, parsed: URL, url: str) -> DatabaseUnavailable | None:
    path = _sqlite_path(parsed) or ":memory:"
    lowered = text.lower()
    if "unable to open database file" in lowered:
        folder = Path(path).parent
        if not folder.is_dir():
            return _missing_folder(path, folder)
        return DatabaseUnavailable(
            f"cannot open the SQLite database {path}: let this user read and write the file "
            f"and the folder {folder}, or set {SETTING} to another path"
        )
    if "file is not a database" in lowered or "file is encrypted" in lowered:
        return DatabaseUnavailable(
            f"{path} is not a SQLite database (another file, or a damaged one): set "
            f"{SETTING} to Reclaim's database, or move the file away and run `reclaim init`"
        )
    if "readonly database" in lowered:
        return DatabaseUnavailable(
            f"cannot write the SQLite database {path}: let this user write the file and its "
            f"folder, or set {SETTING} to another path"
        )
    if "database or disk is full" in lowered:
        return DatabaseFull(
            f"the disk holding the SQLite database {path} is full (or the database reached "
            "its size limit): the change was not written; free some space on that disk, or "
            f"move the database to a bigger one, and try again"
        )
    if "database is locked" in lowered:
        return DatabaseBusy(
            f"the SQLite database {path} stayed locked by another process for 30 s: try "
            "again, or stop the process that holds it (a long import, a database browser)"
        )
    if any(phrase in lowered for phrase in _SQLITE_MISSING):
        return _schema_problem(url)
    return None


def _explain_postgresql(
    error: DBAPIError, text: str, parsed: URL, url: str
) -> DatabaseUnavailable | None:
    state = getattr(error.orig, "sqlstate", None) or ""
    if state in _UNDEFINED:
        return _schema_problem(url)
    if state == _DISK_FULL:
        return DatabaseFull(
            f"the disk of the PostgreSQL server at {_host_port(parsed)} is full: the change "
            "was not written; free some space there and try again"
        )
    connecting = (
        error.connection_invalidated
        or text.startswith(("connection failed", "Multiple connection attempts failed"))
        or state.startswith(("08", "57P"))  # connection lost; shut down, starting up
        or "server closed the connection" in text
        or "the connection is closed" in text
    )
    if not connecting:
        return None
    at = _host_port(parsed)
    reason = _reason(text)
    name = parsed.database or ""
    if f'database "{name}" does not exist' in reason:
        user = f" -U {shlex.quote(parsed.username)}" if parsed.username else ""
        host, port = at.rsplit(":", 1)
        return DatabaseUnavailable(
            f'the database "{name}" does not exist on the PostgreSQL server at {at}: create it '
            f"(createdb -h {host} -p {port}{user} {shlex.quote(name)}) and run `reclaim init`, "
            f"or set {SETTING} to a database that exists"
        )
    if any(phrase in reason for phrase in _REFUSED_LOGIN):
        return DatabaseUnavailable(
            f"the PostgreSQL server at {at} refused the login: {reason}; check the user and "
            f"password in {SETTING} (and the server's pg_hba.conf)"
        )
    return DatabaseBusy(
        f"cannot reach the database at {at}: {reason}; is it running? Start PostgreSQL there, "
        f"or set {SETTING} to where it runs"
    )


def _reason(text: str) -> str:
    """libpq's reason, without its preamble: "Connection refused", "timeout expired", …"""
    lines = [line.strip(" \t-") for line in text.splitlines() if line.strip()]
    for line in lines:
        if "failed: " in line and not line.startswith("Multiple"):
            reason = line.rsplit("failed: ", 1)[1]
            return reason.removeprefix("FATAL:").strip() or line
    return lines[0] if lines else "no answer"


def _schema_problem(url: str) -> DatabaseUnavailable | None:
    """Tables are missing: the database was never initialised, or is at an older revision."""
    head = migrate.head_revision()
    try:
        engine = make_engine(url, pool_size=1)
        try:
            current = migrate.current_revision(engine)
        finally:
            engine.dispose()
    except Exception:
        return DatabaseUnavailable(
            f"the database at {where(url)} lacks Reclaim's tables: run `reclaim init`"
        )
    if current is None:
        return not_initialised(url)
    if current != head:
        return DatabaseUnavailable(
            f"the database at {where(url)} is at revision {current} and this Reclaim needs "
            f"revision {head}: run `reclaim init` to upgrade it"
        )
    return None
