"""The few statements that SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, Update, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def upsert(session: Session, table: Table) -> Any:
    """An ``INSERT`` that can take ``ON CONFLICT`` clauses, for the session's database."""
    return (pg_insert if is_postgres(session) else sqlite_insert)(table)


# psycopg parses a statement's placeholders in Python and keeps the parse (and, used often,
# prepares the statement on the server) only for statements of at most 50 parameters; a
# multi-row INSERT of a group (20 rows of ~20 columns) was parsed afresh every time, ~1.5 ms.
_PSYCOPG_CACHED_PARAMS = 50


def many_rows(session: Session, table: Table) -> dict[str, Any]:
    """Execution options for an executemany INSERT into ``table``: on PostgreSQL, rows per
    statement kept under what psycopg caches (a few round trips instead of a parse)."""
    if not is_postgres(session):
        return {}
    return {"insertmanyvalues_page_size": max(1, _PSYCOPG_CACHED_PARAMS // len(table.columns))}


def claim_update(session: Session, table: Table, pick: Select[Any], *where: Any) -> Update:
    """An ``UPDATE`` of the rows whose ids ``pick`` selects (with its ``ORDER BY`` and
    ``LIMIT``): how a worker takes a batch of queued rows for itself; add ``.values()``.

    PostgreSQL: ``pick`` becomes a ``MATERIALIZED`` CTE with ``FOR UPDATE SKIP LOCKED``,
    joined by ``UPDATE … FROM``. Written as ``id IN (subquery)`` PostgreSQL may run the
    subquery again for the rows it updates and so take more than ``LIMIT`` rows — seen: a
    claim of 1 took 3, and under a burst one worker's claim of 100 took thousands. SQLite
    serialises writers, so ``IN (subquery)`` is exact there.
    """
    if is_postgres(session):
        picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
        return update(table).where(table.c.id == picked.c.id, *where)
    return update(table).where(table.c.id.in_(pick.scalar_subquery()), *where)
