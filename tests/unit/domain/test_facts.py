from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from reclaim.domain.events import (
    CheckoutObserved,
    Contact,
    FinancialStatus,
    LineItem,
    OrderObserved,
)
from reclaim.domain.facts import Checkout, CheckoutState, Order, WatchState, customer_key

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
DELAY = timedelta(minutes=30)
ITEM = LineItem(name="Mug", quantity=2, unit_price=Decimal("9.50"), sku="MUG-1")


def checkout(
    at: datetime, *, total: str = "19.00", completed: datetime | None = None
) -> CheckoutObserved:
    return CheckoutObserved(
        external_id="c1",
        contact=Contact(email="Ana@Example.com".lower()),
        currency="EUR",
        total=Decimal(total),
        created_at=T0,
        updated_at=at,
        items=(ITEM,),
        completed_at=completed,
    )


def order(at: datetime, status: FinancialStatus, **kw: object) -> OrderObserved:
    return OrderObserved(
        external_id="o1",
        contact=Contact(email="ana@example.com"),
        currency="EUR",
        total=Decimal("19.00"),
        created_at=T0,
        updated_at=at,
        financial_status=status,
        **kw,  # type: ignore[arg-type]
    )


def test_new_checkout_is_due_after_the_delay_from_last_activity() -> None:
    c = Checkout.new("s", checkout(T0 + timedelta(minutes=5)), delay=DELAY)
    assert c.state == CheckoutState.ACTIVE
    assert c.abandon_due_at == T0 + timedelta(minutes=35)
    assert c.customer_key == "ana@example.com"


def test_newer_update_moves_the_due_time_and_stale_update_changes_nothing() -> None:
    c = Checkout.new("s", checkout(T0 + timedelta(minutes=10), total="30.00"), delay=DELAY)
    assert c.observe(checkout(T0 + timedelta(minutes=5), total="5.00"), delay=DELAY) is False
    assert c.total == Decimal("30.00")
    assert c.abandon_due_at == T0 + timedelta(minutes=40)
    assert c.observe(checkout(T0 + timedelta(minutes=20), total="40.00"), delay=DELAY) is True
    assert (c.total, c.abandon_due_at) == (Decimal("40.00"), T0 + timedelta(minutes=50))


def test_completion_is_monotone_even_when_it_arrives_stale() -> None:
    c = Checkout.new("s", checkout(T0 + timedelta(minutes=10)), delay=DELAY)
    stale_completion = checkout(T0 + timedelta(minutes=1), completed=T0 + timedelta(minutes=1))
    assert c.observe(stale_completion, delay=DELAY) is True
    assert c.state == CheckoutState.COMPLETED
    assert c.abandon_due_at is None
    assert c.completed_at == T0 + timedelta(minutes=1)


def test_equal_timestamps_resolve_the_same_whatever_the_order() -> None:
    a, b = checkout(T0, total="10.00"), checkout(T0, total="20.00")
    x = Checkout.new("s", a, delay=DELAY)
    x.observe(b, delay=DELAY)
    y = Checkout.new("s", b, delay=DELAY)
    y.observe(a, delay=DELAY)
    assert (x.total, x.version_tag) == (y.total, y.version_tag)


def test_paid_before_created_ends_paid() -> None:
    paid = order(T0 + timedelta(hours=1), FinancialStatus.PAID, paid_at=T0 + timedelta(hours=1))
    o = Order.new("s", paid, delay=DELAY)
    assert o.observe(order(T0, FinancialStatus.PENDING), delay=DELAY) is False
    assert o.is_paid and o.financial_status == FinancialStatus.PAID
    assert o.watch == WatchState.DONE and o.pending_due_at is None


def test_pending_order_is_watched_then_done_when_paid_without_paid_at() -> None:
    o = Order.new("s", order(T0, FinancialStatus.PENDING), delay=DELAY)
    assert (o.watch, o.pending_due_at) == (WatchState.WATCHING, T0 + DELAY)
    o.observe(order(T0 + timedelta(minutes=3), FinancialStatus.PAID), delay=DELAY)
    assert o.paid_at == T0 + timedelta(minutes=3)
    assert (o.watch, o.pending_due_at) == (WatchState.DONE, None)


def test_cancellation_stops_watching() -> None:
    o = Order.new("s", order(T0, FinancialStatus.PENDING), delay=DELAY)
    o.observe(
        order(T0 + timedelta(days=1), FinancialStatus.PENDING, cancelled_at=T0 + timedelta(days=1)),
        delay=DELAY,
    )
    assert o.is_cancelled and o.pending_due_at is None


def test_customer_key_prefers_email_and_normalises_phone() -> None:
    assert customer_key(" Ana@Example.COM ", "+33 6 12") == "ana@example.com"
    assert customer_key(None, "+33 (6) 12-34") == "+3361234"
    assert customer_key("", None) is None
