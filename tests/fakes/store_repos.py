"""Fake repositories of stores and their keys and of the inbox, with the SQL ones' semantics:
their ordering, unique keys, what comes back as an entity (changes are kept on commit) and
what as a detached record (an ``ApiKey`` read, an inbox row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fakes.base import Repo
from fakes.state import FakeDelivery, UniqueViolation, clone_row, json_round_trip
from reclaim.domain.stores import ApiKey, Store, StoreSettings


def by_id(rows: dict[int, Any]) -> list[Any]:
    return [rows[k] for k in sorted(rows)]


class FakeStores(Repo):
    def add(self, store: Store) -> None:
        if store.id in self.t.stores or any(s.name == store.name for s in self.t.stores.values()):
            raise UniqueViolation(f"stores: id {store.id!r} or name {store.name!r} is taken")
        self.t.stores[store.id] = store

    def get(self, store_id: str) -> Store | None:
        return self.t.stores.get(store_id)

    def by_name(self, name: str) -> Store | None:
        return next((s for s in self.t.stores.values() if s.name == name), None)

    def list(self) -> Sequence[Store]:
        return sorted(self.t.stores.values(), key=lambda s: s.name)

    def add_key(self, key: ApiKey) -> None:
        if key.prefix in self.t.api_keys:
            raise UniqueViolation(f"api_keys: prefix {key.prefix!r} is taken")
        self.t.api_keys[key.prefix] = key

    def key_by_prefix(self, prefix: str) -> ApiKey | None:
        """A detached record (authentication only reads it), as the SQL one gives."""
        found = self.t.api_keys.get(prefix)
        return None if found is None else clone_row(found)

    def keys_of(self, store_id: str) -> Sequence[ApiKey]:
        mine = [k for k in self.t.api_keys.values() if k.store_id == store_id]
        return [clone_row(k) for k in sorted(mine, key=lambda k: (k.created_at, k.prefix))]

    def revoke_key(self, prefix: str, *, now: datetime) -> bool:
        found = self.t.api_keys.get(prefix)
        if found is None or found.revoked_at is not None:
            return False
        found.revoked_at = now
        return True

    def touch_key(self, prefix: str, *, now: datetime, every: timedelta) -> bool:
        found = self.t.api_keys.get(prefix)
        if found is None or (found.last_used_at is not None and found.last_used_at > now - every):
            return False
        found.last_used_at = now
        return True

    def webhook_secret(self, store_id: str) -> str | None:
        found = self.t.stores.get(store_id)
        return None if found is None else found.webhook_secret

    def settings_of(self, store_id: str) -> StoreSettings | None:
        found = self.t.stores.get(store_id)
        return None if found is None else StoreSettings.from_json(found.settings_json or {})


class FakeInbox(Repo):
    def _mine(self, store_id: str, source: str, topic: str) -> list[FakeDelivery]:
        return [
            d
            for d in by_id(self.t.inbox)
            if (d.store_id, d.source, d.topic) == (store_id, source, topic)
        ]

    def find_duplicate(
        self, *, store_id: str, source: str, topic: str, event_id: str | None, digest: str
    ) -> int | None:
        mine = self._mine(store_id, source, topic)
        if event_id is not None:
            found = next((d.id for d in mine if d.event_id == event_id), None)
            if found is not None:
                return found
        return next((d.id for d in mine if d.digest == digest), None)

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
        """The new row's id, or ``None`` where a unique key (topic and digest, topic and event
        id) says it is a duplicate (``ON CONFLICT DO NOTHING``)."""
        topic = topic[:64]
        for d in self._mine(store_id, source, topic):
            if d.digest == digest or (event_id is not None and d.event_id == event_id):
                return None
        row = FakeDelivery(
            id=self._next_id("inbox"),
            store_id=store_id,
            source=source,
            topic=topic,
            event_id=event_id,
            digest=digest,
            headers=json_round_trip(headers),
            body=bytes(body),
            received_at=received_at,
            status=status,
            error=error,
        )
        self.t.inbox[row.id] = row
        return row.id

    def count_duplicate(self, delivery_id: int) -> None:
        found = self.t.inbox.get(delivery_id)
        if found is not None:
            found.duplicates += 1

    def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[int]:
        picked = [d for d in by_id(self.t.inbox) if d.status == "received"][:limit]
        for d in picked:
            d.status, d.lease_until, d.attempts = "processing", lease_until, d.attempts + 1
        return sorted(d.id for d in picked)

    def get(self, delivery_id: int) -> FakeDelivery | None:
        found = self.t.inbox.get(delivery_id)
        return None if found is None else clone_row(found)

    def finish(self, delivery_id: int, *, status: str, error: str | None, now: datetime) -> None:
        found = self.t.inbox.get(delivery_id)
        if found is not None:
            found.status, found.error, found.processed_at = status, error, now
            found.lease_until = None

    def release_expired(self, *, now: datetime) -> int:
        n = 0
        for d in self.t.inbox.values():
            if d.status == "processing" and d.lease_until is not None and d.lease_until < now:
                d.status, d.lease_until = "received", None
                n += 1
        return n

    def requeue(
        self, *, store_id: str | None, statuses: Sequence[str], ids: Sequence[int] | None
    ) -> int:
        n = 0
        for d in self.t.inbox.values():
            if d.status not in statuses or (store_id is not None and d.store_id != store_id):
                continue
            if ids and d.id not in ids:
                continue
            d.status, d.error, d.lease_until = "received", None, None
            n += 1
        return n

    def list(
        self,
        *,
        store_id: str | None,
        statuses: Sequence[str],
        limit: int,
        before_id: int | None = None,
    ) -> Sequence[FakeDelivery]:
        rows = [
            d
            for d in reversed(by_id(self.t.inbox))
            if d.status in statuses
            and (store_id is None or d.store_id == store_id)
            and (before_id is None or d.id < before_id)
        ]
        return [clone_row(d) for d in rows[:limit]]

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for d in self.t.inbox.values():
            found[d.status] = found.get(d.status, 0) + 1
        return found

    def noted(
        self, prefix: str, *, store_id: str | None, limit: int, before_id: int | None = None
    ) -> Sequence[FakeDelivery]:
        rows = [
            d
            for d in reversed(by_id(self.t.inbox))
            if d.error is not None
            and d.error.startswith(prefix)
            and (store_id is None or d.store_id == store_id)
            and (before_id is None or d.id < before_id)
        ]
        return [clone_row(d) for d in rows[:limit]]

    def count_noted(self, prefix: str, *, store_id: str | None = None) -> int:
        return sum(
            1
            for d in self.t.inbox.values()
            if d.error is not None
            and d.error.startswith(prefix)
            and (store_id is None or d.store_id == store_id)
        )
