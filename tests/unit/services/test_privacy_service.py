"""Access and erasure requests and the audit log through the fakes: what an erasure deletes
and keeps, that its keyed entry still suppresses the address, that a second erasure or an
unknown address changes nothing; what the log keeps of a change (who, what, secrets masked),
and keys' expiry and last use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fakes import FakeUnitOfWork
from reclaim.domain.audit import MASK, Actor, plain
from reclaim.domain.messages import Channel
from reclaim.domain.policy import suppression_key
from reclaim.errors import AuthError, InvalidInput, NotFound
from reclaim.services import privacy, stores, suppressions
from reclaim.services.detection import detect_due
from service_builders import T0, cart, flow_defaults, ingest, open_store, order

ANA = "ana@example.com"
ME = Actor("cli:tester", T0)


def _shop() -> tuple[FakeUnitOfWork, str]:
    uow = FakeUnitOfWork()
    store_id = open_store(uow)
    ingest(
        uow,
        store_id,
        cart(T0, email="Ana@Example.com", phone="+4915123456789", last_name="Zyxwardt"),
        cart(T0, checkout_id="c2", email="bob@example.com", first_name="Bob"),
        order("order.created", T0, order_id="o5"),
        now=T0,
    )
    detect_due(uow=uow, now=T0 + timedelta(minutes=40), flows=flow_defaults)
    return uow, store_id


def _state(uow: FakeUnitOfWork) -> Any:
    """Every committed row, by value."""
    return plain(uow.committed)


def test_an_erasure_deletes_rewrites_and_leaves_one_keyed_entry_per_address() -> None:
    uow, store_id = _shop()
    seen: list[set[str]] = []
    done = privacy.erase_customer(
        uow=uow,
        store_id=store_id,
        email=ANA,
        now=T0,
        actor=ME,
        compact=lambda t: seen.append(set(t)),
    )
    assert done.deleted == {"steps": 2, "case_events": 4, "cases": 2, "orders": 1, "checkouts": 1}
    assert (done.deliveries_rewritten, done.deliveries_dropped, done.suppressed) == (2, 0, 2)
    assert seen == [
        {"steps", "case_events", "cases", "orders", "checkouts", "suppressions", "inbox"}
    ]
    with uow:
        assert not any(uow.privacy.rows_about(store_id, ANA).values())
        assert uow.privacy.rows_about(store_id, "bob@example.com")["checkouts"]
        email = suppression_key(Channel.EMAIL, ANA)
        keyed = uow.privacy.keyed(email)
    assert done.subject == "hash:" + keyed
    # the suppression list holds only keyed hashes, and they still match the address
    with uow:
        phone = uow.privacy.keyed(suppression_key(Channel.SMS, "+4915123456789"))
    assert set(uow.committed.suppressions) == {
        (store_id, "email", keyed),
        (store_id, "sms", phone),
    }
    with uow:
        asked = {(store_id, "email", email)}
        assert uow.suppressions.suppressed(asked) == asked
    again = suppressions.add(uow=uow, store_id=store_id, channel="email", address=ANA, now=T0)
    assert again.new is False  # no plain entry comes back
    # the rewritten deliveries hold none of them and are never processed again
    erased = [d for d in uow.rows("inbox") if d.status == "erased"]
    assert len(erased) == 2
    assert all(b"zyxwardt" not in d.body.lower() and b"ana@" not in d.body.lower() for d in erased)
    [entry] = [e for e in uow.rows("audit_log") if e.action == "customer.erase"]
    assert (entry.actor, entry.subject, entry.store_id) == ("cli:tester", done.subject, store_id)
    assert ANA not in repr(entry)


def test_erasing_again_says_so_and_changes_nothing() -> None:
    uow, store_id = _shop()
    first = privacy.erase_customer(uow=uow, store_id=store_id, email=ANA, now=T0, actor=ME)
    kept = _state(uow)
    calls: list[object] = []
    again = privacy.erase_customer(
        uow=uow,
        store_id=store_id,
        email=" ANA@example.com",
        now=T0 + timedelta(days=1),
        actor=ME,
        compact=calls.append,
    )
    assert (again.already, again.since, again.subject) == (True, T0, first.subject)
    assert again.deleted == {} and calls == []
    assert _state(uow) == kept


def test_an_unknown_or_malformed_address_changes_nothing() -> None:
    uow, store_id = _shop()
    kept = _state(uow)
    with pytest.raises(NotFound, match="no customer"):
        privacy.erase_customer(uow=uow, store_id=store_id, email="zoe@example.com", now=T0)
    with pytest.raises(NotFound, match="no customer"):
        privacy.export_customer(uow=uow, store_id=store_id, email="zoe@example.com", now=T0)
    for bad in ("zoe", "", "zoe@example"):
        with pytest.raises(InvalidInput) as info:
            privacy.erase_customer(uow=uow, store_id=store_id, email=bad, now=T0)
        assert info.value.field == "email"
    with pytest.raises(NotFound, match="no store"):
        privacy.erase_customer(uow=uow, store_id="st_nothere00", email=ANA, now=T0)
    assert _state(uow) == kept


def test_someone_only_on_the_suppression_list_is_erased_to_a_keyed_entry() -> None:
    uow = FakeUnitOfWork()
    store_id = open_store(uow)
    suppressions.add(uow=uow, store_id=store_id, channel="email", address="zoe@example.com", now=T0)
    done = privacy.erase_customer(uow=uow, store_id=store_id, email="zoe@example.com", now=T0)
    assert done.already is False and done.deleted == {}
    [(key, row)] = [(k, r) for k, r in uow.committed.suppressions.items()]
    assert key[2] == done.subject.removeprefix("hash:") and row.reason == "erased"
    found = suppressions.check(
        uow=uow, store_id=store_id, channel="email", address="zoe@example.com"
    )
    assert found is not None and found.reason == "erased"


def test_a_customer_who_comes_back_after_an_erasure_can_be_erased_again() -> None:
    uow, store_id = _shop()
    first = privacy.erase_customer(uow=uow, store_id=store_id, email=ANA, now=T0)
    later = T0 + timedelta(days=3)
    ingest(uow, store_id, cart(later, checkout_id="c9", email=ANA), now=later)
    exported = privacy.export_customer(uow=uow, store_id=store_id, email=ANA, now=later)
    assert [c["external_id"] for c in exported["checkouts"]] == ["c9"]
    assert [s["reason"] for s in exported["suppressions"]] == ["erased"]
    second = privacy.erase_customer(uow=uow, store_id=store_id, email=ANA, now=later)
    assert not second.already and second.deleted == {"checkouts": 1}
    assert second.subject == first.subject
    # the first entry stays, with its date
    assert privacy.erase_customer(uow=uow, store_id=store_id, email=ANA, now=later).since == T0


def test_an_export_is_json_of_every_row_and_is_logged() -> None:
    uow, store_id = _shop()
    found = privacy.export_customer(uow=uow, store_id=store_id, email=ANA, now=T0, actor=ME)
    assert found["email"] == ANA and found["exported_at"] == T0.isoformat()
    assert [len(found[t]) for t in ("checkouts", "orders", "cases", "steps", "case_events")] == [
        1,
        1,
        2,
        2,
        4,
    ]
    assert [d["body"]["data"].get("last_name") for d in found["deliveries"]] == ["Zyxwardt", None]
    assert found["suppressions"] == []
    [entry] = uow.rows("audit_log")
    assert entry.action == "customer.export" and entry.after["deliveries"] == 2


def test_a_change_is_logged_with_who_and_secrets_masked() -> None:
    uow = FakeUnitOfWork()
    store_id = open_store(uow)
    assert uow.rows("audit_log") == []  # no actor (a test, the simulator): no entry
    stores.update_settings(
        uow=uow,
        store_id=store_id,
        changes={"platform_api_token": "shpat_secret", "sender_name": "Boutique"},
        paused=True,
        actor=ME,
    )
    [entry] = uow.rows("audit_log")
    assert (entry.action, entry.subject, entry.actor) == ("store.set", store_id, "cli:tester")
    assert entry.before == {"platform_api_token": None, "sender_name": None, "paused": False}
    assert entry.after == {"platform_api_token": MASK, "sender_name": "Boutique", "paused": True}
    assert "shpat_secret" not in repr(uow.committed.audit_log)


def test_an_expired_key_is_refused_saying_so_and_use_is_written_once_a_minute() -> None:
    uow = FakeUnitOfWork()
    store_id = open_store(uow)
    key = stores.add_key(uow=uow, store_id=store_id, now=T0, expires_in=timedelta(days=1), actor=ME)
    assert key.expires_at == T0 + timedelta(days=1)

    def use(at: Any) -> str:
        return stores.authenticate(
            uow=uow, token=key.api_key, scope="events:write", now=at, touch=uow
        )

    assert use(T0) == store_id
    commits = uow.commits
    use(T0 + timedelta(seconds=30))  # within the minute: nothing written
    assert uow.commits == commits
    use(T0 + timedelta(seconds=61))
    assert uow.commits == commits + 1
    [listed] = [k for k in stores.list_keys(uow=uow, store_id=store_id) if k.prefix == key.prefix]
    assert listed.last_used_at == T0 + timedelta(seconds=61)
    with pytest.raises(AuthError, match="expired") as info:
        use(T0 + timedelta(days=1))
    assert key.api_key not in str(info.value)
    with pytest.raises(InvalidInput, match="future"):
        stores.add_key(uow=uow, store_id=store_id, now=T0, expires_at=T0)
    # a rotation keeps the key's lifetime
    rotated = stores.rotate_key(uow=uow, key=key.prefix, now=T0 + timedelta(hours=2))
    assert rotated.expires_at == T0 + timedelta(hours=2, days=1)
