"""Ingestion (services/ingest.py) through the fakes: deliveries kept, parsed, merged into
facts, duplicates answered as such, dead letters kept with their reason."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from fakes import FakeUnitOfWork
from reclaim.domain.facts import CheckoutState
from reclaim.services import resolution
from reclaim.services.ingest import TEST_MODE, Accepted, ProcessStats, process_inbox, replay
from service_builders import CONNECTORS, T0, body, cart, deliver, ingest, open_store


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def store_id(uow: FakeUnitOfWork) -> str:
    return open_store(uow)


def test_a_delivery_is_kept_raw_with_only_the_headers_worth_keeping(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    raw = body(cart(T0, event_id="ev-1"))
    headers = {"Content-Type": "application/json", "Authorization": "Bearer rk_secret"}

    answers = deliver(uow, store_id, raw, now=T0, headers=headers)

    assert answers == [Accepted("accepted", 1, index=0)]
    [row] = uow.rows("inbox")
    assert (row.store_id, row.source, row.topic, row.event_id) == (
        store_id,
        "generic",
        "checkout.updated",
        "ev-1",
    )
    assert (row.status, row.error, row.attempts, row.received_at) == ("received", None, 0, T0)
    assert row.body == raw
    assert row.digest == hashlib.sha256(raw).hexdigest()
    assert row.headers == {"content-type": "application/json"}
    assert uow.rows("checkouts") == []  # nothing but the inbox happens in the request


def test_processing_merges_the_facts_and_marks_the_delivery_processed(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    stats = ingest(uow, store_id, cart(T0), now=T0 + timedelta(seconds=5))

    assert stats == ProcessStats(processed=1)
    [row] = uow.rows("inbox")
    assert (row.status, row.error, row.attempts) == ("processed", None, 1)
    assert row.processed_at == T0 + timedelta(seconds=5)
    [checkout] = uow.rows("checkouts")
    assert (checkout.store_id, checkout.external_id) == (store_id, "c1")
    assert (checkout.email, checkout.customer_key) == ("ana@example.com", "ana@example.com")
    assert checkout.total == Decimal("1234.56")
    assert [(i.sku, i.quantity) for i in checkout.items] == [("MUG-1", 2)]
    assert checkout.state == CheckoutState.ACTIVE
    assert checkout.abandon_due_at == T0 + timedelta(minutes=30)  # the store's default delay


def test_a_later_update_of_the_cart_is_merged_into_the_same_fact(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    later = T0 + timedelta(minutes=10)
    ingest(uow, store_id, cart(T0), now=T0)
    ingest(uow, store_id, cart(later, total="99.00"), now=later)

    [checkout] = uow.rows("checkouts")
    assert (checkout.total, checkout.updated_at, checkout.created_at) == (Decimal(99), later, T0)
    assert checkout.abandon_due_at == later + timedelta(minutes=30)
    # an older update arriving last changes nothing
    stats = ingest(uow, store_id, cart(T0 + timedelta(minutes=5), total="50.00"), now=later)
    assert stats == ProcessStats(processed=1)
    [checkout] = uow.rows("checkouts")
    assert (checkout.total, checkout.updated_at) == (Decimal(99), later)


def test_duplicates_by_bytes_or_event_id_are_answered_and_counted_once(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    first = body(cart(T0, event_id="ev-1"))
    same_id = body(cart(T0, event_id="ev-1", total="5.00"))

    assert deliver(uow, store_id, first, now=T0) == [Accepted("accepted", 1, index=0)]
    assert deliver(uow, store_id, first, now=T0) == [Accepted("duplicate", 1, index=0)]
    assert deliver(uow, store_id, same_id, now=T0) == [Accepted("duplicate", 1, index=0)]

    [row] = uow.rows("inbox")
    assert row.duplicates == 2
    assert process_inbox(uow=uow, connectors=CONNECTORS, now=T0) == ProcessStats(processed=1)
    [checkout] = uow.rows("checkouts")
    assert checkout.total == Decimal("1234.56")


def test_a_malformed_event_is_kept_as_a_dead_letter_with_its_reason(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    bad = cart(T0, checkout_id="c2")
    del bad["data"]["currency"]

    answers = deliver(uow, store_id, body(cart(T0), bad), now=T0)

    assert answers == [
        Accepted("accepted", 1, index=0),
        Accepted("rejected", 2, error="data.currency is required", index=1),
    ]
    dead = uow.rows("inbox")[1]
    assert (dead.topic, dead.status, dead.error) == ("event", "failed", "data.currency is required")
    # the worker never takes a dead letter; the good event of the batch is processed
    assert process_inbox(uow=uow, connectors=CONNECTORS, now=T0) == ProcessStats(processed=1)
    assert [c.external_id for c in uow.rows("checkouts")] == ["c1"]
    # sent again as it was: the same answer, not "duplicate"
    assert deliver(uow, store_id, body(bad), now=T0) == [
        Accepted("rejected", 2, error="data.currency is required", index=0)
    ]


def test_a_body_that_is_not_json_is_one_dead_letter(uow: FakeUnitOfWork, store_id: str) -> None:
    [answer] = deliver(uow, store_id, b"[]", now=T0)

    assert answer == Accepted("rejected", 1, error="batch is empty")
    [row] = uow.rows("inbox")
    assert (row.topic, row.status, row.body) == ("batch", "failed", b"[]")


def test_a_failure_while_applying_rolls_back_only_that_delivery(
    uow: FakeUnitOfWork, store_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = resolution.after_checkout

    def after_checkout(**kw: Any) -> None:
        if kw["checkout"].external_id == "bad":
            raise RuntimeError("boom")
        real(**kw)

    monkeypatch.setattr(resolution, "after_checkout", after_checkout)
    stats = ingest(uow, store_id, cart(T0, checkout_id="bad"), cart(T0, checkout_id="ok"), now=T0)

    assert stats == ProcessStats(processed=1, failed=1)
    assert [(r.status, r.error) for r in uow.rows("inbox")] == [
        ("failed", "internal error: RuntimeError"),
        ("processed", None),
    ]
    assert [c.external_id for c in uow.rows("checkouts")] == ["ok"]  # its savepoint undid "bad"


def test_a_test_delivery_is_processed_with_its_note(uow: FakeUnitOfWork, store_id: str) -> None:
    stats = ingest(uow, store_id, cart(T0, test=True), now=T0)

    assert stats == ProcessStats(processed=1, test_mode=1)
    [row] = uow.rows("inbox")
    assert row.status == "processed"
    assert row.error is not None and row.error.startswith(TEST_MODE)
    [checkout] = uow.rows("checkouts")
    assert checkout.is_test is True


def test_replay_puts_processed_deliveries_back_and_changes_nothing_twice(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    ingest(uow, store_id, cart(T0), now=T0)
    before = uow.rows("checkouts")[0].version_tag

    assert replay(uow=uow, store_id=store_id, statuses=["processed"], ids=None) == 1
    assert process_inbox(uow=uow, connectors=CONNECTORS, now=T0) == ProcessStats(processed=1)

    [row] = uow.rows("inbox")
    assert row.attempts == 2
    [checkout] = uow.rows("checkouts")
    assert (checkout.id, checkout.version_tag) == (1, before)
