"""Detection (services/detection.py) through the fakes: which due checkouts, orders and
payments open a case, when, and why the others do not."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from fakes import FakeUnitOfWork
from reclaim.domain.cases import CaseKind, CaseStatus, FlowState
from reclaim.domain.facts import CheckoutState, WatchState
from reclaim.services.detection import DetectStats, detect_due
from service_builders import (
    STORE_CREATED,
    T0,
    cart,
    flow_defaults,
    ingest,
    open_store,
    order,
    payment_failed,
)

DELAY = timedelta(minutes=30)  # the store's default abandonment and pending-order delay


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def store_id(uow: FakeUnitOfWork) -> str:
    return open_store(uow, test_emails=("qa@shop.example",))


def detect(uow: FakeUnitOfWork, at: timedelta) -> DetectStats:
    return detect_due(uow=uow, now=T0 + at, flows=flow_defaults)


def test_an_abandoned_cart_opens_a_case_once_the_delay_has_passed(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    ingest(uow, store_id, cart(T0), now=T0)

    assert detect(uow, DELAY - timedelta(seconds=1)) == DetectStats()
    assert detect(uow, DELAY) == DetectStats(opened=1)
    assert detect(uow, DELAY + timedelta(minutes=1)) == DetectStats()  # once

    [case] = uow.rows("cases")
    assert (case.store_id, case.kind, case.subject_id) == (
        store_id,
        CaseKind.ABANDONED_CHECKOUT,
        "c1",
    )
    assert (case.email, case.customer_key, case.checkout_external_id) == (
        "ana@example.com",
        "ana@example.com",
        "c1",
    )
    assert (case.value, case.currency, case.reason) == (
        Decimal("1234.56"),
        "EUR",
        "checkout_abandoned",
    )
    assert (case.occurred_at, case.created_at) == (T0, T0 + DELAY)
    assert case.expires_at == T0 + DELAY + timedelta(days=30)  # the store's case_ttl
    assert (case.status, case.flow_state, case.flow_id) == (
        CaseStatus.OPEN,
        FlowState.RUNNING,
        1,
    )
    [step] = uow.rows("steps")
    assert (step.case_id, step.position, step.key, step.due_at) == (
        case.id,
        0,
        "reminder",
        T0 + timedelta(hours=1),  # 1 h after the cart's last activity
    )
    assert case.next_step_at == step.due_at
    assert [(e.type, e.data) for e in uow.rows("case_events")] == [
        ("opened", {"kind": "abandoned_checkout", "reason": "checkout_abandoned"}),
        ("flow_started", {"flow": 1, "name": "Abandoned checkout"}),
    ]
    [checkout] = uow.rows("checkouts")
    assert (checkout.state, checkout.abandon_due_at) == (CheckoutState.ABANDONED, None)


def test_without_flows_a_case_is_only_detected(uow: FakeUnitOfWork, store_id: str) -> None:
    ingest(uow, store_id, cart(T0), now=T0)

    assert detect_due(uow=uow, now=T0 + DELAY) == DetectStats(opened=1)

    [case] = uow.rows("cases")
    assert (case.flow_id, case.flow_state) == (None, None)
    assert uow.rows("steps") == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"user_agent": "Googlebot/2.1 (+http://www.google.com/bot.html)"}, "bot"),
        ({"test": True}, "test_mode"),
        ({"email": "qa@shop.example"}, "test_contact"),
        ({"email": None}, "no_contact"),
    ],
)
def test_carts_that_must_not_be_messaged_are_skipped_with_the_reason(
    uow: FakeUnitOfWork, store_id: str, changes: dict[str, Any], reason: str
) -> None:
    ingest(uow, store_id, cart(T0, **changes), now=T0)

    assert detect(uow, DELAY) == DetectStats(skipped=1, reasons={reason: 1})

    assert uow.rows("cases") == []
    [checkout] = uow.rows("checkouts")
    stored = "test" if reason.startswith("test") else reason
    assert (checkout.state, checkout.ignore_reason) == (CheckoutState.IGNORED, stored)
    assert checkout.abandon_due_at is None


def test_a_cart_left_before_the_store_was_activated_is_backlog(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    before = STORE_CREATED - timedelta(hours=1)
    ingest(uow, store_id, cart(before), now=T0)

    assert detect(uow, timedelta(0)) == DetectStats(skipped=1, reasons={"backlog": 1})
    assert uow.rows("cases") == []


def test_a_customer_who_bought_the_items_anyway_gets_no_case(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    ingest(uow, store_id, cart(T0), now=T0)
    paid = T0 + timedelta(minutes=10)
    ingest(uow, store_id, order("order.paid", paid), now=paid)  # not placed from the cart

    assert detect(uow, DELAY) == DetectStats(skipped=1, reasons={"purchased": 1})
    assert uow.rows("cases") == []


def test_an_order_placed_from_the_cart_completes_it_before_it_is_due(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    ingest(uow, store_id, cart(T0), now=T0)
    placed = T0 + timedelta(minutes=10)
    ingest(uow, store_id, order("order.paid", placed, checkout_id="c1"), now=placed)

    assert detect(uow, DELAY) == DetectStats()
    [checkout] = uow.rows("checkouts")
    assert (checkout.state, checkout.order_external_id, checkout.abandon_due_at) == (
        CheckoutState.COMPLETED,
        "o1",
        None,
    )


def test_a_newer_cart_of_the_same_customer_supersedes_the_older(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    later = T0 + timedelta(minutes=5)
    ingest(uow, store_id, cart(T0, checkout_id="c1"), cart(later, checkout_id="c2"), now=later)

    assert detect(uow, DELAY) == DetectStats(skipped=1, reasons={"superseded": 1})
    assert detect(uow, DELAY + timedelta(minutes=5)) == DetectStats(opened=1)

    [case] = uow.rows("cases")
    assert (case.subject_id, case.occurred_at) == ("c2", later)
    states = {c.external_id: c.state for c in uow.rows("checkouts")}
    assert states == {"c1": CheckoutState.SUPERSEDED, "c2": CheckoutState.ABANDONED}


def test_a_failed_payment_opens_its_case_and_the_pending_order_defers_to_it(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    failed = T0 + timedelta(minutes=1)
    ingest(uow, store_id, order("order.created", T0), now=T0)
    ingest(uow, store_id, payment_failed(failed, order_id="o1"), now=failed)

    # the payment is due 5 min after it failed (the store's failed_payment_delay)
    assert detect(uow, timedelta(minutes=5, seconds=59)) == DetectStats()
    assert detect(uow, timedelta(minutes=6)) == DetectStats(opened=1)
    assert detect(uow, DELAY) == DetectStats()  # the order's own due time: nothing more

    [case] = uow.rows("cases")
    assert (case.kind, case.subject_id, case.order_external_id) == (
        CaseKind.FAILED_PAYMENT,
        "o1",  # the intent: the order's id where the payment names no intent
        "o1",
    )
    assert (case.reason_code, case.value, case.occurred_at) == (
        "insufficient_funds",
        Decimal("1234.56"),
        failed,
    )
    [placed] = uow.rows("orders")
    assert (placed.watch, placed.pending_due_at) == (WatchState.DETECTED, None)


def test_a_pending_order_opens_its_case_after_the_pending_delay(
    uow: FakeUnitOfWork, store_id: str
) -> None:
    ingest(uow, store_id, order("order.created", T0, payment_method="bank_transfer"), now=T0)

    assert detect(uow, DELAY - timedelta(seconds=1)) == DetectStats()
    assert detect(uow, DELAY) == DetectStats(opened=1)

    [case] = uow.rows("cases")
    assert (case.kind, case.subject_id, case.reason, case.reason_code) == (
        CaseKind.PENDING_ORDER,
        "o1",
        "awaiting_payment",
        "bank_transfer",
    )


def test_an_open_case_expires_after_its_ttl(uow: FakeUnitOfWork, store_id: str) -> None:
    ingest(uow, store_id, cart(T0), now=T0)
    detect(uow, DELAY)

    ttl = DELAY + timedelta(days=30)
    assert detect(uow, ttl - timedelta(seconds=1)) == DetectStats()
    assert detect(uow, ttl) == DetectStats(expired=1)

    [case] = uow.rows("cases")
    assert (case.status, case.close_reason, case.closed_at) == (
        CaseStatus.EXPIRED,
        "ttl",
        T0 + ttl,
    )
    assert all(s.status == "cancelled" for s in uow.rows("steps"))
