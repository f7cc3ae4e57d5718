"""A store's API keys: more of them, with fewer scopes; listed without secrets; revoked and
rotated, after which the old key is refused (and answers 401) and the new one works."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from helpers import client, make_store
from reclaim.bootstrap import Runtime
from reclaim.domain.stores import DEFAULT_SCOPES
from reclaim.errors import AuthError, InvalidInput, NotFound, ReclaimError
from reclaim.services import stores as service
from reclaim.services.stores import authenticate


def auth(rt: Runtime, token: str, scope: str = "cases:read") -> str:
    return authenticate(uow=rt.uow(), token=token, scope=scope, now=rt.clock())


def test_a_key_with_fewer_scopes_is_listed_without_its_secret(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    added = service.add_key(
        uow=rt.uow(), store_id=store.id, scopes=["events:write", "events:write"], now=clock.now
    )
    assert added.scopes == ("events:write",) and added.store_id == store.id
    assert added.api_key.startswith(f"rk_{added.prefix}_")
    assert auth(rt, added.api_key, "events:write") == store.id
    with pytest.raises(ReclaimError, match="lacks the cases:read scope"):
        auth(rt, added.api_key, "cases:read")
    everything = service.add_key(uow=rt.uow(), store_id=store.id, now=clock.now)
    assert everything.scopes == DEFAULT_SCOPES  # admin only when asked for

    keys = service.list_keys(uow=rt.uow(), store_id=store.id)
    first = store.api_key.split("_")[1]
    assert [k.prefix for k in keys] == [first, *sorted([added.prefix, everything.prefix])]
    assert keys[0].scopes == " ".join(DEFAULT_SCOPES)
    assert all(k.revoked_at is None and k.store_id == store.id for k in keys)
    for k in keys:  # only digests are kept
        assert all(token not in repr(vars(k)) for token in (store.api_key, added.api_key))


def test_bad_names_and_scopes_are_explained(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    with pytest.raises(
        InvalidInput, match="valid scopes: events:write, cases:read, cases:write, admin"
    ):
        service.add_key(uow=rt.uow(), store_id=store.id, scopes=["cases:delete"], now=clock.now)
    with pytest.raises(NotFound, match="no store"):
        service.add_key(uow=rt.uow(), store_id="st_nothere00", now=clock.now)
    with pytest.raises(NotFound, match="no store"):
        service.list_keys(uow=rt.uow(), store_id="st_nothere00")
    with pytest.raises(NotFound, match="no API key with prefix 0badc0de"):
        service.revoke_key(uow=rt.uow(), key="0badc0de", now=clock.now)
    with pytest.raises(InvalidInput, match="8 hex digits"):
        service.rotate_key(uow=rt.uow(), key="not a key", now=clock.now)
    # The whole key with a wrong secret names no key: it revokes nothing.
    prefix = store.api_key.split("_")[1]
    with pytest.raises(NotFound):
        service.revoke_key(uow=rt.uow(), key=f"rk_{prefix}_wrongsecret", now=clock.now)
    assert auth(rt, store.api_key) == store.id


def test_a_revoked_key_is_refused_and_answers_401(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    spare = service.add_key(uow=rt.uow(), store_id=store.id, now=clock.now)
    prefix = store.api_key.split("_")[1]
    c = client(rt)
    bearer = {"Authorization": f"Bearer {store.api_key}"}
    assert c.get("/api/v1/cases", headers=bearer).status_code == 200

    clock.advance(minutes=5)
    revoked = service.revoke_key(uow=rt.uow(), key=f"rk_{prefix}", now=clock.now)
    assert (revoked.prefix, revoked.store_id, revoked.revoked_at) == (prefix, store.id, clock.now)
    with pytest.raises(AuthError, match="revoked"):
        auth(rt, store.api_key)
    assert c.get("/api/v1/cases", headers=bearer).status_code == 401
    assert auth(rt, spare.api_key) == store.id  # the store's other keys are untouched
    with pytest.raises(InvalidInput, match="revoked already"):
        service.revoke_key(uow=rt.uow(), key=store.api_key, now=clock.now)
    with pytest.raises(InvalidInput, match="revoked already"):
        service.rotate_key(uow=rt.uow(), key=prefix, now=clock.now)
    [listed] = [k for k in service.list_keys(uow=rt.uow(), store_id=store.id) if k.revoked_at]
    assert (listed.prefix, listed.revoked_at) == (prefix, clock.now)


def test_rotation_revokes_the_old_key_and_keeps_store_and_scopes(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    reader = service.add_key(uow=rt.uow(), store_id=store.id, scopes=["cases:read"], now=clock.now)
    clock.advance(hours=1)
    rotated = service.rotate_key(uow=rt.uow(), key=reader.api_key, now=clock.now)
    assert rotated.prefix != reader.prefix and rotated.api_key != reader.api_key
    assert (rotated.store_id, rotated.scopes) == (store.id, ("cases:read",))
    with pytest.raises(AuthError):
        auth(rt, reader.api_key)
    assert auth(rt, rotated.api_key) == store.id
    with pytest.raises(ReclaimError, match="lacks the events:write scope"):
        auth(rt, rotated.api_key, "events:write")
    keys = {k.prefix: k for k in service.list_keys(uow=rt.uow(), store_id=store.id)}
    assert keys[reader.prefix].revoked_at == clock.now
    assert (keys[rotated.prefix].created_at, keys[rotated.prefix].revoked_at) == (clock.now, None)
    assert keys[rotated.prefix].scopes == "cases:read"


def test_a_rotation_that_fails_half_way_revokes_nothing(
    rt: Runtime, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(rt)
    spare = service.add_key(uow=rt.uow(), store_id=store.id, now=clock.now)
    real = service.new_api_key

    def clashing(store_id: str, now: object, scopes: str, expires_at: object = None) -> object:
        token, key = real(store_id, now, scopes, expires_at)  # type: ignore[arg-type]
        key.prefix = spare.prefix  # the new key cannot be stored: the prefix is taken
        return token, key

    monkeypatch.setattr(service, "new_api_key", clashing)
    with pytest.raises(IntegrityError):
        service.rotate_key(uow=rt.uow(), key=store.api_key, now=clock.now + timedelta(hours=1))
    monkeypatch.undo()
    assert auth(rt, store.api_key) == store.id  # still valid: the revocation rolled back
    assert all(k.revoked_at is None for k in service.list_keys(uow=rt.uow(), store_id=store.id))
