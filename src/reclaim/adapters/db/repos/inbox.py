"""SQLAlchemy repository for the inbox: every delivery, raw, before anything else happens
to it (SPEC S1 "inbox first")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from reclaim.adapters.db.dialect import claim_update
from reclaim.adapters.db.tables import inbox


@dataclass(slots=True)
class InboxRow:
    """A delivery as read from the inbox (a plain record, not a mapped entity)."""

    id: int
    store_id: str
    source: str
    topic: str
    event_id: str | None
    digest: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: str
    error: str | None
    attempts: int
    duplicates: int

    @classmethod
    def of(cls, row: Any) -> InboxRow:
        return cls(**{f: getattr(row, f) for f in cls.__dataclass_fields__})


_INBOX_INSERT = {
    "postgresql": pg_insert(inbox).on_conflict_do_nothing().returning(inbox.c.id),
    "sqlite": sqlite_insert(inbox).on_conflict_do_nothing().returning(inbox.c.id),
}


class SqlInbox:
    def __init__(self, session: Session) -> None:
        self.s = session

    def find_duplicate(
        self, *, store_id: str, source: str, topic: str, event_id: str | None, digest: str
    ) -> int | None:
        """The kept delivery this one repeats: the same event id or the same bytes, both
        under the same topic (``topic`` as :meth:`add` stored it)."""
        # Two lookups, each on its own unique index: an ``OR`` of both is planned as a scan
        # of the store's whole inbox by PostgreSQL while its statistics are stale.
        mine = (inbox.c.store_id == store_id, inbox.c.source == source, inbox.c.topic == topic)
        if event_id is not None:
            found = self.s.execute(
                select(inbox.c.id).where(*mine, inbox.c.event_id == event_id).limit(1)
            ).scalar()
            if found is not None:
                return int(found)
        found = self.s.execute(
            select(inbox.c.id).where(*mine, inbox.c.digest == digest).limit(1)
        ).scalar()
        return None if found is None else int(found)

    def add(
        self,
        *,
        store_id: str,
        source: str,
        topic: str,
        event_id: str | None,
        digest: str,
        headers: dict[str, str],
        body: bytes,
        received_at: datetime,
        status: str,
        error: str | None,
    ) -> int | None:
        """The new row's id, or ``None`` when a unique index says it is a duplicate.

        ``ON CONFLICT DO NOTHING`` without a target covers both unique indexes (the digest
        and the partial one on the event id) and needs no savepoint.
        """
        dialect = self.s.get_bind().dialect.name
        statement = _INBOX_INSERT[dialect if dialect in _INBOX_INSERT else "sqlite"]
        found = self.s.execute(
            statement,
            {
                "store_id": store_id,
                "source": source,
                "topic": topic[:64],
                "event_id": event_id,
                "digest": digest,
                "headers": headers,
                "body": body,
                "received_at": received_at,
                "status": status,
                "error": error,
                "attempts": 0,
                "duplicates": 0,
            },
        ).scalar()
        return None if found is None else int(found)

    def count_duplicate(self, delivery_id: int) -> None:
        self.s.execute(
            update(inbox).where(inbox.c.id == delivery_id).values(duplicates=inbox.c.duplicates + 1)
        )

    def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[int]:
        """Take up to ``limit`` received deliveries, oldest first, for this worker alone."""
        pick = (
            select(inbox.c.id).where(inbox.c.status == "received").order_by(inbox.c.id).limit(limit)
        )
        ids = self.s.execute(
            claim_update(self.s, inbox, pick, inbox.c.status == "received")
            .values(status="processing", lease_until=lease_until, attempts=inbox.c.attempts + 1)
            .returning(inbox.c.id)
        ).scalars()
        return sorted(ids)

    def get(self, delivery_id: int) -> InboxRow | None:
        row = self.s.execute(select(inbox).where(inbox.c.id == delivery_id)).first()
        return None if row is None else InboxRow.of(row)

    def finish(self, delivery_id: int, *, status: str, error: str | None, now: datetime) -> None:
        self.s.execute(
            update(inbox)
            .where(inbox.c.id == delivery_id)
            .values(status=status, error=error, processed_at=now, lease_until=None)
        )

    def release_expired(self, *, now: datetime) -> int:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(inbox)
            .where(inbox.c.status == "processing", inbox.c.lease_until < now)
            .values(status="received", lease_until=None)
        )
        return res.rowcount

    def requeue(
        self, *, store_id: str | None, statuses: Sequence[str], ids: Sequence[int] | None
    ) -> int:
        cond: list[ColumnElement[bool]] = [inbox.c.status.in_(list(statuses))]
        if store_id is not None:
            cond.append(inbox.c.store_id == store_id)
        if ids:
            cond.append(inbox.c.id.in_(list(ids)))
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(inbox).where(and_(*cond)).values(status="received", error=None, lease_until=None)
        )
        return res.rowcount

    def list(
        self,
        *,
        store_id: str | None,
        statuses: Sequence[str],
        limit: int,
        before_id: int | None = None,
    ) -> Sequence[InboxRow]:
        q = select(inbox).where(inbox.c.status.in_(list(statuses)))
        if store_id is not None:
            q = q.where(inbox.c.store_id == store_id)
        if before_id is not None:
            q = q.where(inbox.c.id < before_id)
        return [InboxRow.of(r) for r in self.s.execute(q.order_by(inbox.c.id.desc()).limit(limit))]

    def counts(self) -> dict[str, int]:
        rows = self.s.execute(select(inbox.c.status, func.count()).group_by(inbox.c.status))
        return {status: int(n) for status, n in rows}

    def noted(
        self, prefix: str, *, store_id: str | None, limit: int, before_id: int | None = None
    ) -> Sequence[InboxRow]:
        q = select(inbox).where(inbox.c.error.startswith(prefix, autoescape=True))
        if store_id is not None:
            q = q.where(inbox.c.store_id == store_id)
        if before_id is not None:
            q = q.where(inbox.c.id < before_id)
        return [InboxRow.of(r) for r in self.s.execute(q.order_by(inbox.c.id.desc()).limit(limit))]

    def count_noted(self, prefix: str, *, store_id: str | None = None) -> int:
        q = select(func.count()).where(inbox.c.error.startswith(prefix, autoescape=True))
        if store_id is not None:
            q = q.where(inbox.c.store_id == store_id)
        return int(self.s.execute(q).scalar() or 0)
