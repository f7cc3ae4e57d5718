"""SQLAlchemy repository for suppressions: addresses (hashed) no message may go to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select
from sqlalchemy.orm import Session

from reclaim.adapters.db.repos.inserts import insert_ignore
from reclaim.adapters.db.tables import suppressions


class SqlSuppressions:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add(
        self,
        *,
        store_id: str,
        channel: str,
        address_key: str,
        reason: str,
        at: datetime,
        message_id: int | None,
    ) -> bool:
        """True when the address was not suppressed before. (RETURNING tells: the rowcount of
        an ``ON CONFLICT DO NOTHING`` run through the session is -1 on PostgreSQL.)"""
        made = self.s.execute(
            insert_ignore(self.s, suppressions)
            .values(
                store_id=store_id,
                channel=channel,
                address_key=address_key,
                reason=reason,
                created_at=at,
                message_id=message_id,
            )
            .returning(suppressions.c.id)
        ).scalar()
        return made is not None

    def entry(self, store_id: str, channel: str, address_key: str) -> tuple[str, datetime] | None:
        """The entry's reason and since when, or None."""
        row = self.s.execute(
            select(suppressions.c.reason, suppressions.c.created_at).where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key == address_key,
            )
        ).first()
        return None if row is None else (row.reason, row.created_at)

    def remove(self, store_id: str, channel: str, address_key: str) -> bool:
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            suppressions.delete().where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key == address_key,
            )
        )
        return bool(res.rowcount)

    def add_many(
        self, *, store_id: str, channel: str, address_keys: Sequence[str], reason: str, at: datetime
    ) -> int:
        """Add the keys not there yet (500 rows a statement); how many were new (RETURNING
        names the rows written: ``ON CONFLICT DO NOTHING`` skips the others)."""
        added = 0
        for start in range(0, len(address_keys), 500):
            rows = [
                {
                    "store_id": store_id,
                    "channel": channel,
                    "address_key": key,
                    "reason": reason,
                    "created_at": at,
                    "message_id": None,
                }
                for key in sorted(set(address_keys[start : start + 500]))
            ]
            made = self.s.execute(
                insert_ignore(self.s, suppressions).returning(suppressions.c.id), rows
            )
            added += len(made.all())
        return added

    def reason(self, store_id: str, channel: str, address_key: str) -> str | None:
        value: str | None = self.s.execute(
            select(suppressions.c.reason).where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key == address_key,
            )
        ).scalar()
        return value

    def suppressed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which of the ``(store_id, channel, address_key)`` are suppressed: one query per
        store."""
        asked = set(keys)
        by_store: dict[str, tuple[set[str], set[str]]] = {}
        for store_id, channel, key in asked:
            channels, wanted = by_store.setdefault(store_id, (set(), set()))
            channels.add(channel)
            wanted.add(key)
        found: set[tuple[str, str, str]] = set()
        for store_id, (channels, wanted) in sorted(by_store.items()):
            rows = self.s.execute(
                select(suppressions.c.channel, suppressions.c.address_key).where(
                    suppressions.c.store_id == store_id,
                    suppressions.c.channel.in_(sorted(channels)),
                    suppressions.c.address_key.in_(sorted(wanted)),
                )
            )
            found.update((store_id, r[0], r[1]) for r in rows)
        return found & asked

    def count(self, store_id: str) -> dict[str, int]:
        rows = self.s.execute(
            select(suppressions.c.reason, func.count())
            .where(suppressions.c.store_id == store_id)
            .group_by(suppressions.c.reason)
        )
        return {r: int(n) for r, n in rows}
