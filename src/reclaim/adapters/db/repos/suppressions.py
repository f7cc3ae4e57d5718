"""SQLAlchemy repository for suppressions: addresses (hashed) no message may go to.

An erased customer's entry is kept under the keyed form of their key
(``domain.privacy.keyed_hash``): every lookup here asks for both forms, so an address finds
its entry whichever it was kept under, and an address that has one is not added again in
plain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, func, select
from sqlalchemy.orm import Session

from reclaim.adapters.db.erasure_key import ErasureKey
from reclaim.adapters.db.repos.inserts import insert_ignore
from reclaim.adapters.db.tables import suppressions
from reclaim.domain.privacy import keyed_hash


class SqlSuppressions:
    def __init__(self, session: Session, key: ErasureKey | None = None) -> None:
        self.s = session
        self._key = key if key is not None else ErasureKey()

    def _forms(self, address_key: str) -> list[str]:
        """The key, and its keyed form where the install has an erasure key."""
        key = self._key.get(self.s)
        return [address_key] if key is None else [address_key, keyed_hash(key, address_key)]

    def _erased(self, store_id: str, channel: str, address_keys: Sequence[str]) -> set[str]:
        """Those of ``address_keys`` whose keyed form has an entry (an erased customer's)."""
        key = self._key.get(self.s)
        if key is None or not address_keys:
            return set()
        forms = {keyed_hash(key, k): k for k in address_keys}
        rows = self.s.execute(
            select(suppressions.c.address_key).where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key.in_(sorted(forms)),
            )
        )
        return {forms[r[0]] for r in rows}

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
        if self._erased(store_id, channel, [address_key]):
            return False
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
        """The entry's reason and since when, or None (the plain key's entry first)."""
        forms = self._forms(address_key)
        rows = self.s.execute(
            select(
                suppressions.c.address_key, suppressions.c.reason, suppressions.c.created_at
            ).where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key.in_(forms),
            )
        ).all()
        row = min(rows, key=lambda r: forms.index(r.address_key), default=None)
        return None if row is None else (row.reason, row.created_at)

    def remove(self, store_id: str, channel: str, address_key: str) -> bool:
        """Remove the address's entries (plain and keyed)."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            suppressions.delete().where(
                suppressions.c.store_id == store_id,
                suppressions.c.channel == channel,
                suppressions.c.address_key.in_(self._forms(address_key)),
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
            chunk = sorted(set(address_keys[start : start + 500]))
            erased = self._erased(store_id, channel, chunk)
            rows = [
                {
                    "store_id": store_id,
                    "channel": channel,
                    "address_key": key,
                    "reason": reason,
                    "created_at": at,
                    "message_id": None,
                }
                for key in chunk
                if key not in erased
            ]
            if not rows:
                continue
            made = self.s.execute(
                insert_ignore(self.s, suppressions).returning(suppressions.c.id), rows
            )
            added += len(made.all())
        return added

    def reason(self, store_id: str, channel: str, address_key: str) -> str | None:
        found = self.entry(store_id, channel, address_key)
        return None if found is None else found[0]

    def suppressed(self, keys: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which of the ``(store_id, channel, address_key)`` are suppressed: one query per
        store."""
        asked = set(keys)
        erasure = self._key.get(self.s) if asked else None
        # a keyed form -> the key it is the form of
        keyed = {} if erasure is None else {keyed_hash(erasure, k): k for _, _, k in asked}
        by_store: dict[str, tuple[set[str], set[str]]] = {}
        for store_id, channel, key in asked:
            channels, wanted = by_store.setdefault(store_id, (set(), set()))
            channels.add(channel)
            wanted.add(key)
            if erasure is not None:
                wanted.add(keyed_hash(erasure, key))
        found: set[tuple[str, str, str]] = set()
        for store_id, (channels, wanted) in sorted(by_store.items()):
            rows = self.s.execute(
                select(suppressions.c.channel, suppressions.c.address_key).where(
                    suppressions.c.store_id == store_id,
                    suppressions.c.channel.in_(sorted(channels)),
                    suppressions.c.address_key.in_(sorted(wanted)),
                )
            )
            for channel, key in rows:
                found.add((store_id, channel, key))
                if key in keyed:
                    found.add((store_id, channel, keyed[key]))
        return found & asked

    def count(self, store_id: str) -> dict[str, int]:
        rows = self.s.execute(
            select(suppressions.c.reason, func.count())
            .where(suppressions.c.store_id == store_id)
            .group_by(suppressions.c.reason)
        )
        return {r: int(n) for r, n in rows}
