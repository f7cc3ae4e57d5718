"""A customer's access and erasure requests on SQLite and PostgreSQL, over the API (SPEC S13):
the export holds every row about them; the erasure deletes those rows, rewrites the raw
deliveries that mention them, leaves one keyed suppression entry that still stops messages to
the address, is written to the audit log, and leaves nothing of them readable in SQLite's
database files; bad requests change nothing."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fakes import FakeSenders, FakeUnitOfWork
from helpers import checkout_event, client, make_store, order_event, post_events
from reclaim.adapters.db.tables import audit_log, inbox, messages, suppressions
from reclaim.bootstrap import Runtime
from reclaim.domain.audit import Actor
from reclaim.domain.messages import Channel
from reclaim.domain.policy import suppression_key
from reclaim.services import stores as store_service
from reclaim.services.detection import detect_due
from reclaim.services.ingest import process_inbox
from reclaim.services.ports import UnitOfWork
from reclaim.services.privacy import erase_customer, export_customer
from reclaim.services.steps import run_due_steps
from service_builders import T0, cart, flow_defaults, ingest, open_store, order

ANA = "ana.zyxwardt@example.com"
NAME = "Zyxwardt"  # a surname found nowhere else
PHONE = "+4915123456789"


def _admin(rt: Runtime, store_id: str, now: Any) -> dict[str, str]:
    key = store_service.add_key(uow=rt.uow(), store_id=store_id, scopes=["admin"], now=now)
    return {"Authorization": f"Bearer {key.api_key}"}


def _customers(rt: Runtime, clock: Any) -> tuple[str, TestClient, dict[str, str]]:
    """A store where Ana (a cart, an order, a message) and Bob (a cart) bought."""
    store = make_store(rt, platform="custom")
    c = client(rt)
    now = clock.now
    events = [
        checkout_event(
            now,
            email=ANA.upper(),
            phone=PHONE,
            first_name="Ana",
            last_name=NAME,
            accepts_marketing=True,
        ),
        checkout_event(now, checkout_id="c2", email="bob@example.com", first_name="Bob"),
        order_event("order.created", now, order_id="o7", email=ANA, last_name=NAME),
    ]
    assert post_events(c, store.api_key, events).status_code == 202
    process_inbox(uow=rt.uow(), connectors=rt.connectors, now=now)
    detect_due(uow=rt.uow(), now=clock.advance(minutes=45), flows=rt.flow_defaults)
    later = clock.advance(hours=4)
    run_due_steps(
        uow=rt.uow(), senders=FakeSenders(), renderer=rt.renderer, links=rt.links(), now=later
    )
    return store.id, c, _admin(rt, store.id, later)


def _count(rt: Runtime, table: Any, *where: Any) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


def test_an_export_holds_every_row_about_the_customer_and_only_theirs(
    rt: Runtime, clock: Any
) -> None:
    store_id, c, admin = _customers(rt, clock)
    answer = c.post("/api/v1/customers/export", json={"email": f" {ANA.upper()} "}, headers=admin)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert (found["store_id"], found["email"]) == (store_id, ANA)
    assert len(found["checkouts"]) == 1 and found["checkouts"][0]["external_id"] == "c1"
    assert [o["external_id"] for o in found["orders"]] == ["o7"]
    assert {k["kind"] for k in found["cases"]} == {"abandoned_checkout", "pending_order"}
    assert found["messages"] and all(m["recipient"].lower() == ANA for m in found["messages"])
    assert found["case_events"] and found["steps"]
    assert len(found["deliveries"]) == 2
    assert found["deliveries"][0]["body"]["data"]["last_name"] == NAME
    assert "bob@example.com" not in answer.text
    # access is logged too, under the keyed hash, never the address
    with rt.engine.connect() as conn:
        entry = conn.execute(select(audit_log).where(audit_log.c.action == "customer.export")).one()
    assert entry.subject.startswith("hash:") and ANA not in str(tuple(entry))
    assert entry.actor == "api:" + admin["Authorization"].split("_")[1]


def test_export_and_erase_need_the_admin_scope(rt: Runtime, clock: Any) -> None:
    store = make_store(rt)
    c = client(rt)
    bearer = {"Authorization": f"Bearer {store.api_key}"}
    answers = [
        c.post("/api/v1/customers/export", json={"email": ANA}, headers=bearer),
        c.post("/api/v1/customers/erase", json={"email": ANA}, headers=bearer),
        c.get("/api/v1/audit", headers=bearer),
    ]
    for answer in answers:
        assert answer.status_code == 403 and "admin" in answer.json()["detail"]


def test_erasure_removes_the_customer_and_keeps_them_suppressed(rt: Runtime, clock: Any) -> None:
    store_id, c, admin = _customers(rt, clock)
    before_bob = c.post(
        "/api/v1/customers/export", json={"email": "bob@example.com"}, headers=admin
    )

    said = messages.c.text_body.like("%Bestellung o7%")  # what her message said (the console's)
    assert _count(rt, messages, said) >= 1
    answer = c.post("/api/v1/customers/erase", json={"email": ANA}, headers=admin)
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert _count(rt, messages, said) == 0
    assert done["already"] is False and done["suppressed"] == 2  # the address and the phone
    assert done["deleted"]["checkouts"] == 1 and done["deleted"]["orders"] == 1
    assert done["deleted"]["cases"] == 2 and done["deleted"]["messages"] >= 1
    assert done["deliveries_rewritten"] == 2 and done["deliveries_dropped"] == 0

    # nothing about Ana is left; Bob is untouched
    nothing = c.post("/api/v1/customers/export", json={"email": ANA}, headers=admin).json()
    assert all(not nothing[t] for t in ("cases", "checkouts", "orders", "messages", "deliveries"))
    assert [s["reason"] for s in nothing["suppressions"]] == ["erased"]
    after_bob = c.post("/api/v1/customers/export", json={"email": "bob@example.com"}, headers=admin)
    strip = ("exported_at",)
    assert {k: v for k, v in after_bob.json().items() if k not in strip} == {
        k: v for k, v in before_bob.json().items() if k not in strip
    }
    with rt.engine.connect() as conn:
        bodies = [r.body for r in conn.execute(select(inbox).where(inbox.c.status == "erased"))]
        keys = [r.address_key for r in conn.execute(select(suppressions))]
    assert len(bodies) == 2 and all(ANA.encode() not in b.lower() for b in bodies)
    assert all(NAME.encode() not in b and PHONE[1:].encode() not in b for b in bodies)
    plain_key = suppression_key(Channel.EMAIL, ANA)
    assert plain_key not in keys  # only the keyed hash is kept

    # the keyed entry still stops every message to the address
    with rt.uow() as uow:
        assert done["subject"] == "hash:" + uow.privacy.keyed(plain_key)
        assert done["subject"].removeprefix("hash:") in keys
        asked = {(store_id, "email", plain_key)}
        assert uow.suppressions.suppressed(asked) == asked
        assert uow.suppressions.reason(store_id, "email", plain_key) == "erased"
    writer = _writer(rt, store_id, clock)
    added = c.post("/api/v1/suppressions", json={"address": ANA.upper()}, headers=writer)
    assert added.json()["new"] is False
    assert _count(rt, audit_log, audit_log.c.action == "customer.erase") == 1


def _writer(rt: Runtime, store_id: str, clock: Any) -> dict[str, str]:
    key = store_service.add_key(uow=rt.uow(), store_id=store_id, now=clock.now)
    return {"Authorization": f"Bearer {key.api_key}"}


def test_erasing_again_or_an_unknown_or_malformed_address_changes_nothing(
    rt: Runtime, clock: Any
) -> None:
    _, c, admin = _customers(rt, clock)
    first = c.post("/api/v1/customers/erase", json={"email": ANA}, headers=admin).json()

    def snapshot() -> list[int]:
        tables = (audit_log, inbox, suppressions)
        return [_count(rt, t) for t in tables]

    kept = snapshot()
    again = c.post("/api/v1/customers/erase", json={"email": ANA.upper()}, headers=admin)
    assert again.status_code == 200
    assert again.json()["already"] is True and again.json()["subject"] == first["subject"]
    assert again.json()["deleted"] == {} and again.json()["since"] is not None

    unknown = c.post("/api/v1/customers/erase", json={"email": "zoe@example.com"}, headers=admin)
    assert unknown.status_code == 404 and "no customer" in unknown.json()["detail"]
    assert "zoe" not in unknown.text
    gone = c.post("/api/v1/customers/export", json={"email": "zoe@example.com"}, headers=admin)
    assert gone.status_code == 404
    for bad in ({"email": "not an address"}, {"email": ""}, {}, {"email": 7}):
        refused = c.post("/api/v1/customers/erase", json=bad, headers=admin)
        assert refused.status_code == 422, bad
        assert refused.json()["field"] == "email" or "email" in refused.json()["detail"]
    assert snapshot() == kept


def test_a_sqlite_database_file_keeps_no_trace_of_an_erased_customer(
    sqlite_rt: Runtime, clock: Any
) -> None:
    rt = sqlite_rt
    _, c, admin = _customers(rt, clock)
    path = Path(rt.engine.url.database or "")
    assert ANA.encode() in _files(path).lower()  # the test can see what it looks for
    assert c.post("/api/v1/customers/erase", json={"email": ANA}, headers=admin).status_code == 200
    rt.engine.dispose()  # no connection of this process holds a page
    found = _files(path)
    for needle in (ANA, NAME, PHONE, PHONE[1:]):
        assert needle.encode() not in found and needle.lower().encode() not in found.lower()
    assert b"bob@example.com" in found  # Bob's data is still readable: the grep works


def _files(path: Path) -> bytes:
    """The database file and its write-ahead log, as bytes."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_postgresql_tables_are_vacuumed_after_an_erasure(rt: Runtime, clock: Any) -> None:
    if rt.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    _, c, admin = _customers(rt, clock)
    with rt.engine.connect() as conn:
        before = conn.exec_driver_sql(
            "SELECT coalesce(vacuum_count, 0) FROM pg_stat_user_tables WHERE relname = 'checkouts'"
        ).scalar()
    assert c.post("/api/v1/customers/erase", json={"email": ANA}, headers=admin).status_code == 200
    deadline = time.monotonic() + 10
    while True:  # the cumulative statistics are reported asynchronously
        with rt.engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            after = conn.exec_driver_sql(
                "SELECT coalesce(vacuum_count, 0) FROM pg_stat_user_tables "
                "WHERE relname = 'checkouts'"
            ).scalar()
        if after > before or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert after > before


def _erasure_scenario(uow: UnitOfWork) -> dict[str, Any]:
    """Access and erasure as the services see them, on any unit of work."""
    store_id = open_store(uow, store_id="st_privacy0001")
    ingest(
        uow,
        store_id,
        cart(T0, email=ANA.upper(), phone=PHONE, last_name=NAME),
        cart(T0, checkout_id="c2", email="bob@example.com", first_name="Bob"),
        order("order.created", T0, order_id="o5", email=ANA),
        now=T0,
    )
    detect_due(uow=uow, now=T0 + timedelta(minutes=40), flows=flow_defaults)
    me = Actor("cli:tester", T0)
    exported = export_customer(uow=uow, store_id=store_id, email=ANA, now=T0, actor=me)
    done = erase_customer(uow=uow, store_id=store_id, email=ANA, now=T0, actor=me)
    again = erase_customer(uow=uow, store_id=store_id, email=ANA, now=T0, actor=me)
    with uow:
        kept = uow.inbox.list(store_id=store_id, statuses=["erased", "processed"], limit=10)
        log = uow.audit.list(store_id=store_id, limit=10)
        counts = uow.suppressions.count(store_id)
    return {
        "exported": {k: len(v) if isinstance(v, list) else v for k, v in exported.items()},
        "erased": replace(done, subject=""),
        "again": replace(again, subject=""),
        "inbox": sorted((d.topic, d.status, d.error, bytes(d.body)) for d in kept),
        "log": [(e.action, e.actor, e.after) for e in log],
        "suppressions": counts,
    }


def test_the_fakes_erase_what_the_database_erases(rt: Runtime) -> None:
    on_sql = _erasure_scenario(rt.uow())
    assert _erasure_scenario(FakeUnitOfWork(row_locks=rt.uow().row_locks)) == on_sql
    assert on_sql["erased"].deleted["cases"] == 2 and on_sql["again"].already
