"""SQLAlchemy repository for retention (SPEC S13): what is past its window, found by its own
cut-off and deleted in batches of ids, children first (without relying on the database's
cascades, which SQLite applies only with its foreign keys switched on); and, in ``meta``,
when each store was last pruned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CursorResult, Select, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from reclaim.adapters.db.tables import (
    case_events,
    case_reasons,
    cases,
    coupons,
    inbox,
    message_events,
    messages,
    meta,
    steps,
)

# A delivery waiting to be processed stays; "erased": its body rewritten by an erasure.
FINISHED = ("processed", "ignored", "failed", "erased")
_MARK = "pruned:"  # meta key prefix: when a store was last pruned (ISO 8601, UTC)


def _closed(store_id: str) -> ColumnElement[bool]:
    return (cases.c.store_id == store_id) & (cases.c.status != "open")


def _query(
    kind: str, store_id: str, before: datetime, keep_types: Sequence[str]
) -> tuple[Any, ColumnElement[bool]]:
    """The id column of ``kind``'s table and the condition of its expired rows."""
    if kind == "deliveries":
        return inbox.c.id, (
            (inbox.c.store_id == store_id)
            & (inbox.c.received_at < before)
            & inbox.c.status.in_(FINISHED)
        )
    if kind == "events":
        closed = select(cases.c.id).where(_closed(store_id))
        condition = case_events.c.case_id.in_(closed) & (case_events.c.at < before)
        if keep_types:
            condition = condition & case_events.c.type.not_in(list(keep_types))
        return case_events.c.id, condition
    if kind == "messages":
        closed = select(cases.c.id).where(_closed(store_id))
        return messages.c.id, (
            (messages.c.store_id == store_id)
            & (messages.c.created_at < before)
            & messages.c.case_id.in_(closed)
        )
    if kind == "closed_cases":
        return cases.c.id, _closed(store_id) & (cases.c.closed_at < before)
    raise ValueError(f"unknown retention kind {kind!r}")


class SqlRetention:
    def __init__(self, session: Session) -> None:
        self.s = session

    def expired(
        self,
        kind: str,
        *,
        store_id: str,
        before: datetime,
        limit: int,
        keep_types: Sequence[str] = (),
    ) -> Sequence[int]:
        column, condition = _query(kind, store_id, before, keep_types)
        q: Select[Any] = select(column).where(condition).order_by(column).limit(limit)
        return [int(i) for i in self.s.execute(q).scalars()]

    def count_expired(
        self, kind: str, *, store_id: str, before: datetime, keep_types: Sequence[str] = ()
    ) -> int:
        column, condition = _query(kind, store_id, before, keep_types)
        return int(self.s.execute(select(func.count(column)).where(condition)).scalar() or 0)

    def delete(self, kind: str, ids: Sequence[int]) -> int:
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        if kind == "deliveries":
            return self._gone(delete(inbox).where(inbox.c.id.in_(wanted)))
        if kind == "events":
            return self._gone(delete(case_events).where(case_events.c.id.in_(wanted)))
        if kind == "messages":
            self._gone(delete(message_events).where(message_events.c.message_id.in_(wanted)))
            return self._gone(delete(messages).where(messages.c.id.in_(wanted)))
        if kind == "closed_cases":
            theirs = select(messages.c.id).where(messages.c.case_id.in_(wanted))
            self._gone(delete(message_events).where(message_events.c.message_id.in_(theirs)))
            for child in (messages, steps, coupons, case_events, case_reasons):
                self._gone(delete(child).where(child.c.case_id.in_(wanted)))
            return self._gone(delete(cases).where(cases.c.id.in_(wanted)))
        raise ValueError(f"unknown retention kind {kind!r}")

    def _gone(self, statement: Any) -> int:
        result: CursorResult[Any] = self.s.execute(statement)  # type: ignore[assignment]
        return int(result.rowcount or 0)

    def last_pruned(self, store_ids: Sequence[str]) -> dict[str, datetime]:
        """When each of ``store_ids`` was last pruned (absent: never), in one query."""
        if not store_ids:
            return {}
        rows = self.s.execute(
            select(meta.c.key, meta.c.value).where(
                meta.c.key.in_([_MARK + sid for sid in store_ids])
            )
        )
        found = {}
        for key, value in rows:
            at = datetime.fromisoformat(value)
            found[key.removeprefix(_MARK)] = at if at.tzinfo else at.replace(tzinfo=UTC)
        return found

    def mark_pruned(self, store_id: str, at: datetime) -> None:
        """One upsert: two workers pruning at once both write, neither fails."""
        key, value = _MARK + store_id, at.astimezone(UTC).isoformat()
        dialect = self.s.get_bind().dialect.name
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        self.s.execute(
            upsert(meta)
            .values(key=key, value=value)
            .on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value})
        )
