"""SQLAlchemy repository for stores and their API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, bindparam, or_, select, update
from sqlalchemy.orm import Session

from reclaim.adapters.db.tables import api_keys, stores
from reclaim.domain.stores import ApiKey, Store, StoreSettings

# Per-request lookups of the API (authentication, a reservation's settings), built once and
# read with Core: no entity enters the session's identity map.
_KEY_COLUMNS = select(
    api_keys.c.prefix,
    api_keys.c.store_id,
    api_keys.c.digest,
    api_keys.c.created_at,
    api_keys.c.scopes,
    api_keys.c.revoked_at,
    api_keys.c.expires_at,
    api_keys.c.last_used_at,
)
_KEY = _KEY_COLUMNS.where(api_keys.c.prefix == bindparam("p_prefix"))
_SETTINGS = select(stores.c.settings_json).where(stores.c.id == bindparam("p_store"))


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        prefix=row.prefix,
        store_id=row.store_id,
        digest=row.digest,
        created_at=row.created_at,
        scopes=row.scopes,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


class SqlStores:
    def __init__(self, session: Session) -> None:
        self.s = session
        # The session's identity map holds objects weakly: a store dropped between two
        # lookups would be read again (and the pending changes flushed first, one by one).
        self._held: dict[str, Store] = {}

    def add(self, store: Store) -> None:
        self.s.add(store)
        self.s.flush()  # no mapped relationship orders the key after its store

    def get(self, store_id: str) -> Store | None:
        held = self._held.get(store_id)
        if held is not None:
            return held
        found = self.s.get(Store, store_id)
        if found is not None:
            self._held[store_id] = found
        return found

    def by_name(self, name: str) -> Store | None:
        return self.s.scalars(select(Store).where(stores.c.name == name)).first()

    def list(self) -> Sequence[Store]:
        return self.s.scalars(select(Store).order_by(stores.c.name)).all()

    def add_key(self, key: ApiKey) -> None:
        self.s.add(key)

    def key_by_prefix(self, prefix: str) -> ApiKey | None:
        """The key as a detached record (authentication only reads it)."""
        row = self.s.execute(_KEY, {"p_prefix": prefix}).first()
        return None if row is None else _api_key(row)

    def keys_of(self, store_id: str) -> Sequence[ApiKey]:
        """The store's keys, revoked ones included, oldest first (detached records)."""
        rows = self.s.execute(
            _KEY_COLUMNS.where(api_keys.c.store_id == store_id).order_by(
                api_keys.c.created_at, api_keys.c.prefix
            )
        )
        return [_api_key(row) for row in rows]

    def revoke_key(self, prefix: str, *, now: datetime) -> bool:
        """Revoke the key unless it is revoked already; ``False`` when it was (or is not
        there). One conditional UPDATE: of two concurrent revocations, one wins."""
        done: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(api_keys)
            .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return done.rowcount == 1

    def touch_key(self, prefix: str, *, now: datetime, every: timedelta) -> bool:
        """One conditional UPDATE: of the requests of one minute, one writes."""
        done: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(api_keys)
            .where(
                api_keys.c.prefix == prefix,
                or_(api_keys.c.last_used_at.is_(None), api_keys.c.last_used_at <= now - every),
            )
            .values(last_used_at=now)
        )
        return done.rowcount == 1

    def settings_of(self, store_id: str) -> StoreSettings | None:
        """Just the store's settings (no entity loaded); ``None`` for no such store."""
        row = self.s.execute(_SETTINGS, {"p_store": store_id}).first()
        return None if row is None else StoreSettings.from_json(row.settings_json or {})

    def webhook_secret(self, store_id: str) -> str | None:
        """Just the secret, for the webhook request path (no entity loaded)."""
        return self.s.execute(
            select(stores.c.webhook_secret).where(stores.c.id == store_id)
        ).scalar()
