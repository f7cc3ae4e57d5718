"""Connecting stores and authenticating their API keys."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from reclaim.domain.stores import (
    ApiKey,
    Store,
    StoreSettings,
    key_digest,
    key_prefix,
    new_api_key,
    new_store_id,
    scopes_text,
    split_api_key,
    validate_settings,
    validate_store,
)
from reclaim.errors import AuthError, Conflict, Forbidden, InvalidInput, NotFound
from reclaim.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class NewStore:
    id: str
    api_key: str


def add_store(
    *,
    uow: UnitOfWork,
    name: str,
    platform: str,
    currency: str,
    timezone: str,
    domain: str,
    webhook_secret: str,
    settings: StoreSettings,
    now: datetime,
    store_id: str | None = None,
) -> NewStore:
    """Create a store and its first API key (shown once, only its digest is kept).

    The store's activation time is ``now``: nothing that happened before it is ever messaged.
    ``store_id`` is chosen for the caller when not given; a given one (a migration from
    another install, a reproducible simulation) must look like ``st_`` and 6–28 letters or
    digits and be free.
    """
    validate_store(
        name=name,
        platform=platform,
        currency=currency,
        timezone=timezone,
        domain=domain,
        webhook_secret=webhook_secret,
    )
    validate_settings(settings)
    if store_id is not None and not re.fullmatch(r"st_[0-9a-z]{6,28}", store_id):
        raise InvalidInput("a store id looks like st_ and 6–28 letters or digits", field="id")
    with uow:
        if uow.stores.by_name(name) is not None:
            raise Conflict(f"a store named {name!r} exists already")
        if store_id is not None and uow.stores.get(store_id) is not None:
            raise Conflict(f"a store with id {store_id} exists already")
        store = Store(
            id=store_id or new_store_id(),
            name=name,
            platform=platform,
            currency=currency,
            timezone=timezone,
            domain=domain.lower(),
            webhook_secret=webhook_secret,
            activated_at=now,
            settings_json=settings.to_json(),
        )
        uow.stores.add(store)
        token, key = new_api_key(store.id, now)
        uow.stores.add_key(key)
        uow.commit()
        return NewStore(id=store.id, api_key=token)


def list_stores(*, uow: UnitOfWork) -> Sequence[Store]:
    with uow:
        return list(uow.stores.list())


def authenticate(*, uow: UnitOfWork, token: str, scope: str) -> str:
    """The store id an API key belongs to; ``AuthError`` for anything else."""
    prefix = split_api_key(token)
    if prefix is None:
        raise AuthError("malformed API key")
    with uow:
        key = uow.stores.key_by_prefix(prefix)
        if key is None or key.revoked_at is not None:
            raise AuthError("unknown or revoked API key")
        if not hmac.compare_digest(key.digest, key_digest(token)):
            raise AuthError("unknown or revoked API key")
        if scope not in key.scopes.split():
            raise Forbidden(f"this API key lacks the {scope} scope")
        return key.store_id


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: ``api_key`` is shown once and never kept."""

    prefix: str
    api_key: str
    store_id: str
    scopes: tuple[str, ...]


def add_key(
    *, uow: UnitOfWork, store_id: str, scopes: Iterable[str] | None = None, now: datetime
) -> NewKey:
    """Another API key for the store, with ``scopes`` (all of them when ``None`` or empty);
    ``InvalidInput`` names an unknown scope, ``NotFound`` an unknown store."""
    scopes_value = scopes_text(scopes)
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        token, key = new_api_key(store_id, now, scopes_value)
        uow.stores.add_key(key)
        uow.commit()
        return NewKey(key.prefix, token, store_id, tuple(scopes_value.split()))


def list_keys(*, uow: UnitOfWork, store_id: str) -> Sequence[ApiKey]:
    """The store's keys, revoked ones included, oldest first (their digests, never secrets)."""
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        return list(uow.stores.keys_of(store_id))


def revoke_key(*, uow: UnitOfWork, key: str, now: datetime) -> ApiKey:
    """Revoke the key named by its prefix or given whole; it is refused from then on.
    ``NotFound`` for no such key, ``InvalidInput`` for one revoked already."""
    with uow:
        found = _revoke(uow, key, now)
        uow.commit()
        return found


def rotate_key(*, uow: UnitOfWork, key: str, now: datetime) -> NewKey:
    """Replace a key: a new one for the same store with the same scopes, and the old one
    revoked, in one transaction (both or neither). Errors as :func:`revoke_key`."""
    with uow:
        old = _revoke(uow, key, now)
        token, new = new_api_key(old.store_id, now, old.scopes)
        uow.stores.add_key(new)
        uow.commit()
        return NewKey(new.prefix, token, old.store_id, tuple(old.scopes.split()))


def _revoke(uow: UnitOfWork, named: str, now: datetime) -> ApiKey:
    prefix = key_prefix(named)
    key = uow.stores.key_by_prefix(prefix)
    whole = split_api_key(named.strip()) is not None
    if key is None or (whole and not hmac.compare_digest(key.digest, key_digest(named.strip()))):
        raise NotFound(f"no API key with prefix {prefix}")
    if key.revoked_at is not None or not uow.stores.revoke_key(prefix, now=now):
        raise InvalidInput(f"the API key {prefix} is revoked already")
    return replace(key, revoked_at=now)


def update_settings(
    *, uow: UnitOfWork, store_id: str, changes: Mapping[str, object], paused: bool | None = None
) -> StoreSettings:
    """Change some of a store's settings (``changes`` maps StoreSettings field names to new
    values); the rest stay. ``InvalidInput`` names an unknown or malformed field."""
    known = set(StoreSettings.__dataclass_fields__)
    for name in changes:
        if name not in known:
            raise InvalidInput(f"unknown store setting {name!r}", field=name)
    with uow:
        store = uow.stores.get(store_id)
        if store is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        updated = replace(store.settings, **changes)  # type: ignore[arg-type]
        validate_settings(updated)
        store.settings_json = updated.to_json()
        if paused is not None:
            store.paused = paused
        uow.commit()
        return updated
