"""Connecting stores and authenticating their API keys."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from reclaim.domain.audit import Actor
from reclaim.domain.audit import changes as changed_fields
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
from reclaim.services.audit import record
from reclaim.services.ports import UnitOfWork

# A key's last use is written at most this often: no write per request.
KEY_USE_EVERY = timedelta(minutes=1)


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
    actor: Actor | None = None,
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
        shown = {"name": name, "platform": platform, "currency": currency, "timezone": timezone}
        after = shown | {"domain": store.domain, "webhook_secret": webhook_secret}
        record(uow, actor, "store.add", store.id, store_id=store.id, after=after)
        record(uow, actor, "key.add", key.prefix, store_id=store.id, after={"scopes": key.scopes})
        uow.commit()
        return NewStore(id=store.id, api_key=token)


def list_stores(*, uow: UnitOfWork) -> Sequence[Store]:
    with uow:
        return list(uow.stores.list())


def authenticate(
    *, uow: UnitOfWork, token: str, scope: str, now: datetime, touch: UnitOfWork | None = None
) -> str:
    """The store id an API key belongs to; ``AuthError`` for anything else (an expired key
    says so, and when, never echoing the key), ``Forbidden`` for a key without ``scope``.

    ``touch``: a unit of work that writes the key's last use, at most once a minute
    (:data:`KEY_USE_EVERY`): ``uow`` only reads, and a request whose key was used less than a
    minute ago writes nothing."""
    prefix = split_api_key(token)
    if prefix is None:
        raise AuthError("malformed API key")
    with uow:
        key = uow.stores.key_by_prefix(prefix)
    if key is None or key.revoked_at is not None:
        raise AuthError("unknown or revoked API key")
    if not hmac.compare_digest(key.digest, key_digest(token)):
        raise AuthError("unknown or revoked API key")
    if key.expires_at is not None and key.expires_at <= now:
        raise AuthError(
            f"this API key expired at {key.expires_at:%Y-%m-%d %H:%M} UTC: make a new one "
            "(reclaim store key add, or rotate)"
        )
    if scope not in key.scopes.split():
        raise Forbidden(f"this API key lacks the {scope} scope")
    used = key.last_used_at
    if touch is not None and (used is None or now - used >= KEY_USE_EVERY):
        with touch:
            if touch.stores.touch_key(prefix, now=now, every=KEY_USE_EVERY):
                touch.commit()
    return key.store_id


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: ``api_key`` is shown once and never kept."""

    prefix: str
    api_key: str
    store_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None = None


def _expiry(
    expires_at: datetime | None, expires_in: timedelta | None, now: datetime
) -> datetime | None:
    """When a key made at ``now`` expires: at ``expires_at``, or ``expires_in`` from now
    (one of them at most); ``InvalidInput`` for both, or a time that is not in the future."""
    if expires_at is not None and expires_in is not None:
        raise InvalidInput("give an expiry date or a number of days, not both", field="expires-at")
    if expires_in is not None:
        if expires_in <= timedelta(0):
            raise InvalidInput("a key lives at least one day", field="expires-in")
        return now + expires_in
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("a key's expiry must be in the future", field="expires-at")
    return expires_at


def add_key(
    *,
    uow: UnitOfWork,
    store_id: str,
    scopes: Iterable[str] | None = None,
    now: datetime,
    expires_at: datetime | None = None,
    expires_in: timedelta | None = None,
    actor: Actor | None = None,
) -> NewKey:
    """Another API key for the store, with ``scopes`` (``events:write cases:read
    cases:write`` when ``None`` or empty: ``admin`` only when named), refused from
    ``expires_at`` on, or ``expires_in`` from now (never when neither); ``InvalidInput``
    names an unknown scope or an expiry that is not in the future, ``NotFound`` an unknown
    store."""
    scopes_value = scopes_text(scopes)
    expires_at = _expiry(expires_at, expires_in, now)
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        token, key = new_api_key(store_id, now, scopes_value, expires_at)
        uow.stores.add_key(key)
        after = {"scopes": scopes_value, "expires_at": expires_at}
        record(uow, actor, "key.add", key.prefix, store_id=store_id, after=after)
        uow.commit()
        return NewKey(key.prefix, token, store_id, tuple(scopes_value.split()), expires_at)


def list_keys(*, uow: UnitOfWork, store_id: str) -> Sequence[ApiKey]:
    """The store's keys, revoked ones included, oldest first (their digests, never secrets)."""
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        return list(uow.stores.keys_of(store_id))


def revoke_key(*, uow: UnitOfWork, key: str, now: datetime, actor: Actor | None = None) -> ApiKey:
    """Revoke the key named by its prefix or given whole; it is refused from then on.
    ``NotFound`` for no such key, ``InvalidInput`` for one revoked already."""
    with uow:
        found = _revoke(uow, key, now)
        record(
            uow,
            actor,
            "key.revoke",
            found.prefix,
            store_id=found.store_id,
            before={"revoked_at": None},
            after={"revoked_at": now},
        )
        uow.commit()
        return found


def rotate_key(
    *,
    uow: UnitOfWork,
    key: str,
    now: datetime,
    expires_at: datetime | None = None,
    expires_in: timedelta | None = None,
    actor: Actor | None = None,
) -> NewKey:
    """Replace a key: a new one for the same store with the same scopes, and the old one
    revoked, in one transaction (both or neither). The new key expires as
    :func:`add_key`'s; when neither is given, it lives as long as the old one was made to
    (the time between its making and its expiry, from now), or never if the old one never
    expired. Errors as :func:`revoke_key`."""
    expires_at = _expiry(expires_at, expires_in, now)
    with uow:
        old = _revoke(uow, key, now)
        if expires_at is None and old.expires_at is not None:
            expires_at = now + (old.expires_at - old.created_at)
        token, new = new_api_key(old.store_id, now, old.scopes, expires_at)
        uow.stores.add_key(new)
        record(
            uow,
            actor,
            "key.rotate",
            old.prefix,
            store_id=old.store_id,
            before={"prefix": old.prefix, "expires_at": old.expires_at},
            after={"prefix": new.prefix, "scopes": old.scopes, "expires_at": expires_at},
        )
        uow.commit()
        return NewKey(new.prefix, token, old.store_id, tuple(old.scopes.split()), expires_at)


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
    *,
    uow: UnitOfWork,
    store_id: str,
    changes: Mapping[str, object],
    paused: bool | None = None,
    actor: Actor | None = None,
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
        was_paused, was = store.paused, store.settings_json
        updated = replace(store.settings, **changes)  # type: ignore[arg-type]
        validate_settings(updated)
        store.settings_json = updated.to_json()
        if paused is not None:
            store.paused = paused
        before, after = changed_fields(
            was | {"paused": was_paused}, store.settings_json | {"paused": store.paused}
        )
        record(uow, actor, "store.set", store_id, store_id=store_id, before=before, after=after)
        uow.commit()
        return updated
