"""The audit log and API keys' expiry and last use on SQLite and PostgreSQL (SPEC S13): each
change made through the API is logged with its key's prefix, read back newest first by a key
with the ``admin`` scope, one store at a time; an expired key answers 401 saying so; a key's
last use is written at most once a minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from helpers import checkout_event, client, make_store, post_events
from reclaim.adapters.db.tables import api_keys, audit_log
from reclaim.bootstrap import Runtime
from reclaim.domain.audit import MASK, Actor
from reclaim.services import stores as store_service
from reclaim.services.detection import detect_due
from reclaim.services.ingest import process_inbox


def _key(rt: Runtime, store_id: str, now: Any, *scopes: str, **more: Any) -> str:
    return store_service.add_key(
        uow=rt.uow(), store_id=store_id, scopes=list(scopes) or None, now=now, **more
    ).api_key


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_changes_are_logged_and_read_back_by_an_admin_key(rt: Runtime, clock: Any) -> None:
    store = make_store(rt, platform="custom")
    other = make_store(rt, name="Other", platform="custom")
    c = client(rt)
    writer = _key(rt, store.id, clock.now, "events:write", "cases:write", "cases:read")
    admin = _key(rt, store.id, clock.now, "admin")
    events = [checkout_event(clock.now, email="ana@example.com", accepts_marketing=True)]
    assert post_events(c, writer, events).status_code == 202  # deliveries: not logged
    process_inbox(uow=rt.uow(), connectors=rt.connectors, now=clock.now)
    detect_due(uow=rt.uow(), now=clock.advance(minutes=45), flows=rt.flow_defaults)
    [case] = c.get("/api/v1/cases", headers=_bearer(writer)).json()["cases"]

    clock.advance(minutes=1)
    assert c.post(f"/api/v1/cases/{case['id']}/stop", headers=_bearer(writer)).status_code == 200
    bob = {"address": "bob@example.com"}
    assert c.post("/api/v1/suppressions", json=bob, headers=_bearer(writer)).json()["new"]
    elsewhere = _bearer(_key(rt, other.id, clock.now))
    assert c.post("/api/v1/suppressions", json=bob, headers=elsewhere).status_code == 200

    page = c.get("/api/v1/audit", headers=_bearer(admin))
    assert page.status_code == 200, page.text
    entries = page.json()["entries"]
    prefix = writer.split("_")[1]
    # newest first, this store's only (the other store's change is in its own log)
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("suppression.add", f"api:{prefix}"),
        ("case.stop", f"api:{prefix}"),
    ]
    stop = entries[1]
    assert stop["subject"] == str(case["id"])
    assert stop["before"] == {"flow_state": "running"}
    assert stop["after"]["flow_state"] == "stopped" and stop["after"]["steps_cancelled"] >= 1
    assert stop["at"] == clock.now.isoformat().replace("+00:00", "Z")
    suppression = entries[0]
    assert suppression["subject"].startswith("hash:") and "bob" not in page.text

    # a page at a time, newest first
    first = c.get("/api/v1/audit?limit=1", headers=_bearer(admin)).json()
    assert [e["action"] for e in first["entries"]] == ["suppression.add"]
    rest = c.get(f"/api/v1/audit?limit=1&cursor={first['next_cursor']}", headers=_bearer(admin))
    assert [e["action"] for e in rest.json()["entries"]] == ["case.stop"]


def test_settings_changes_keep_what_changed_with_secrets_masked(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    store_service.update_settings(
        uow=rt.uow(),
        store_id=store.id,
        changes={"webhook_signing_secret": "sign-me-please", "support_phone": "+33123456789"},
        actor=Actor("cli:ops", clock.now),
    )
    with rt.engine.connect() as conn:
        [row] = conn.execute(select(audit_log).where(audit_log.c.action == "store.set")).all()
    assert (row.actor, row.subject, row.store_id) == ("cli:ops", store.id, store.id)
    assert row.before == {"webhook_signing_secret": None, "support_phone": None}
    assert row.after == {"webhook_signing_secret": MASK, "support_phone": "+33123456789"}
    assert "sign-me-please" not in str(tuple(row))


def test_an_expired_key_answers_401_saying_so(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    c = client(rt)
    token = _key(rt, store.id, clock.now, expires_in=timedelta(days=2))
    assert c.get("/api/v1/cases", headers=_bearer(token)).status_code == 200
    clock.advance(days=2)
    answer = c.get("/api/v1/cases", headers=_bearer(token))
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"] and token not in answer.text
    assert token.split("_")[2] not in answer.text
    [listed] = [
        k
        for k in store_service.list_keys(uow=rt.uow(), store_id=store.id)
        if k.prefix == token.split("_")[1]
    ]
    assert listed.expires_at == clock.now


def test_a_keys_last_use_is_written_at_most_once_a_minute(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    c = client(rt)
    prefix = store.api_key.split("_")[1]

    def last_used() -> Any:
        with rt.engine.connect() as conn:
            return conn.execute(
                select(api_keys.c.last_used_at).where(api_keys.c.prefix == prefix)
            ).scalar()

    assert last_used() is None
    first = clock.now
    for _ in range(5):
        assert c.get("/api/v1/cases", headers=_bearer(store.api_key)).status_code == 200
        clock.advance(seconds=10)
    assert last_used() == first  # five requests in 50 seconds: one write
    clock.advance(seconds=20)
    c.get("/api/v1/cases", headers=_bearer(store.api_key))
    assert last_used() == clock.now
    with rt.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(api_keys)).scalar()
    assert n == 1
