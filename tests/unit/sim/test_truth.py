"""The ground truth applies SPEC S2 to the simulator's own snapshots at each worker run."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from reclaim.domain.stores import StoreSettings
from reclaim.sim.model import Cart, CheckoutSnap, Delivery, Line, OrderSnap, PaymentSnap, Snap
from reclaim.sim.people import Actor, make_bot, make_customer, make_staff
from reclaim.sim.truth import ExpectedCase, expected_cases
from reclaim.sim.world import STORE

T0 = datetime(2026, 5, 4, tzinfo=UTC)
MIN = timedelta(minutes=1)
TICKS = [T0 + 15 * MIN * i for i in range(1, 4 * 24 * 3 + 1)]
SHOP = STORE["shopify"]
ANA = replace(make_customer(random.Random(1), 1), store="shopify")
BEN = replace(make_customer(random.Random(2), 2), store="shopify")


def cart(*skus: str) -> Cart:
    products = {p.sku: p for p in SHOP.catalogue}
    lines = tuple(Line(products[s], 1, products[s].price_eur) for s in skus or ("MER-CREW",))
    return Cart(lines, "EUR", Decimal("4.90"))


def checkout(
    at: datetime, cid: str = "c1", who: Actor = ANA, store: str = "shopify", **kw: object
) -> CheckoutSnap:
    fields: dict[str, object] = {
        "contact": True,
        "stage": "shipping",
        "cart": cart(),
        "created_at": at,
        "updated_at": at,
        **kw,
    }
    return CheckoutSnap(store, cid, cid, who, **fields)  # type: ignore[arg-type]


def order(
    at: datetime,
    oid: str = "o1",
    status: str = "paid",
    who: Actor = ANA,
    store: str = "shopify",
    **kw: object,
) -> OrderSnap:
    fields: dict[str, object] = {
        "checkout_id": None,
        "cart": cart(),
        "created_at": at,
        "updated_at": at,
        "status": status,
        "method": "card",
        "paid_at": at if status == "paid" else None,
        **kw,
    }
    return OrderSnap(store, oid, "#1001", actor=who, **fields)  # type: ignore[arg-type]


def payment(
    at: datetime,
    attempt: str,
    ok: bool,
    intent: str = "pi1",
    who: Actor = ANA,
    store: str = "stripe",
    **kw: object,
) -> PaymentSnap:
    return PaymentSnap(
        store,
        attempt,
        intent,
        kw.pop("order_id", None),  # type: ignore[arg-type]
        kw.pop("checkout_id", None),
        who,
        Decimal("10"),
        "EUR",
        ok,
        at,  # type: ignore[arg-type]
        **kw,
    )  # type: ignore[arg-type]


def run(*timeline: tuple[datetime, Snap]) -> list[ExpectedCase]:
    deliveries = [
        Delivery(at=at, seq=i, store=snap.store, topic="t", body=b"", headers={}, facts=(snap,))
        for i, (at, snap) in enumerate(timeline)
    ]
    return expected_cases(deliveries, TICKS, activated_at=T0, settings=StoreSettings())


def brief(cases: list[ExpectedCase]) -> list[tuple[str, str, str, datetime]]:
    return [(c.kind, c.subject, c.status, c.opened_at) for c in cases]


def test_an_abandoned_checkout_opens_at_the_first_run_after_the_delay() -> None:
    t = T0 + 62 * MIN
    assert brief(run((t, checkout(t)))) == [
        ("abandoned_checkout", "c1", "open", T0 + 105 * MIN)  # due 10:32 -> the 10:45 run
    ]


def test_no_case_without_contact_for_bots_staff_or_backlog() -> None:
    t = T0 + 62 * MIN
    bot = replace(make_bot(random.Random(3), 9, SHOP), store="shopify")
    staff = make_staff(random.Random(4), 10, SHOP)
    assert run((t, checkout(t, contact=False))) == []
    assert run((t, checkout(t, "c2", who=bot))) == []
    assert run((t, checkout(t, "c3", who=staff))) == []
    before = T0 - 3 * 60 * MIN
    assert run((T0 + 5 * MIN, checkout(before, "c4"))) == []


def test_an_order_placed_before_the_run_settles_it_a_late_one_recovers_the_case() -> None:
    t = T0 + 62 * MIN
    placed = order(t + 10 * MIN, checkout_id="c1")
    assert run((t, checkout(t)), (t + 10 * MIN, placed)) == []
    [case] = run((t, checkout(t)), (t + 50 * MIN, placed))  # delivered after the 10:45 run
    assert (case.status, case.how) == ("recovered", "checkout_completed")


def test_pending_orders_recover_when_paid_and_close_when_cancelled() -> None:
    t = T0 + 60 * MIN
    pending = order(t, status="pending", method="boleto")
    paid = replace(pending, status="paid", paid_at=t + 30 * 60 * MIN, updated_at=t + 30 * 60 * MIN)
    [case] = run((t, pending), (t + 30 * 60 * MIN, paid))
    assert (case.kind, case.opened_at, case.status, case.how) == (
        "pending_order",
        T0 + 90 * MIN,
        "recovered",
        "order_paid",
    )
    cancelled = replace(
        pending, status="cancelled", cancelled_at=t + 40 * 60 * MIN, updated_at=t + 40 * 60 * MIN
    )
    [case] = run((t, pending), (t + 40 * 60 * MIN, cancelled))
    assert (case.status, case.how) == ("cancelled", "order_cancelled")
    assert (
        run((t, replace(pending, status="paid", paid_at=t + 20 * MIN, updated_at=t + 20 * MIN)))
        == []
    )


def test_failed_payments_fixed_within_the_grace_open_nothing() -> None:
    t = T0 + 60 * MIN
    assert (
        run((t, payment(t, "ch1", False)), (t + 3 * MIN, payment(t + 3 * MIN, "ch2", True))) == []
    )
    [case] = run(
        (t, payment(t, "ch1", False)),
        (t + 2 * MIN, payment(t + 2 * MIN, "ch2", False)),  # the same intent: one case
        (t + 9 * 60 * MIN, payment(t + 9 * 60 * MIN, "ch3", True)),
    )
    assert (case.kind, case.subject, case.opened_at, case.status, case.how) == (
        "failed_payment",
        "pi1",
        T0 + 75 * MIN,
        "recovered",
        "payment_succeeded",
    )


def test_a_failed_payment_takes_over_the_orders_pending_case() -> None:
    t = T0 + 60 * MIN
    pending = order(t, "o9", status="pending", store="custom")
    failed = payment(t + 40 * MIN, "p1", False, intent="o9", store="custom", order_id="o9")
    cases = run((t, pending), (t + 40 * MIN, failed))
    assert [(c.kind, c.status, c.how) for c in cases] == [
        ("pending_order", "cancelled", "superseded"),
        ("failed_payment", "open", None),
    ]


def test_the_newest_checkout_of_a_customer_supersedes_the_older() -> None:
    t = T0 + 60 * MIN
    older, newer = checkout(t, "c1"), checkout(t + 10 * MIN, "c2")
    assert brief(run((t, older), (t + 10 * MIN, newer))) == [
        ("abandoned_checkout", "c2", "open", T0 + 105 * MIN)
    ]
    later = checkout(t + 3 * 60 * MIN, "c3")
    cases = run((t, older), (t + 3 * 60 * MIN, later))
    assert [(c.subject, c.status) for c in cases] == [("c1", "cancelled"), ("c3", "open")]
    other = checkout(t + 10 * MIN, "c4", who=BEN)  # another customer changes nothing
    assert len(run((t, older), (t + 10 * MIN, other))) == 2


def test_a_purchase_of_the_same_items_recovers_other_items_do_not() -> None:
    t = T0 + 60 * MIN
    back = t + 5 * 60 * MIN
    [case] = run((t, checkout(t)), (back, order(back, "o2", cart=cart("MER-CREW", "ALP-BEAN"))))
    assert (case.status, case.how) == ("recovered", "customer_purchase")
    [case] = run((t, checkout(t)), (back, order(back, "o2", cart=cart("ALP-BEAN"))))
    assert case.status == "open"
    assert run((t, checkout(t)), (t + 10 * MIN, order(t + 10 * MIN, "o2"))) == []


def test_payments_only_stores_a_payment_case_is_the_checkouts_case() -> None:
    t = T0 + 60 * MIN
    failed = payment(t, "ch1", False, checkout_id="cs1")
    expired = checkout(t + 24 * 60 * MIN, "cs1", store="stripe", expired_at=t + 24 * 60 * MIN)
    cases = run((t, failed), (t + 24 * 60 * MIN, expired))
    assert [c.kind for c in cases] == ["failed_payment"]


def test_payments_only_stores_a_payment_is_the_customer_buying() -> None:
    t = T0 + 60 * MIN
    session = checkout(t, "cs1", store="stripe", created_at=t - 24 * 60 * MIN, expired_at=t)
    paid = payment(t + 5 * 60 * MIN, "ch9", True, intent="pi9", checkout_id="cs2")
    [case] = run((t, session), (t + 5 * 60 * MIN, paid))
    assert (case.status, case.how) == ("recovered", "customer_purchase")
    paid_first = replace(paid, occurred_at=t - 60 * MIN)
    assert run((t - 60 * MIN, paid_first), (t, session)) == []


def test_a_pending_order_from_a_checkout_is_recovered_by_its_payment_not_its_placing() -> None:
    """Issue 14: the order names its checkout; later snapshots of the unpaid order completed
    that checkout again and recovered the order's own case at its creation."""
    t = T0 + 60 * MIN
    pending = order(t, "o7", status="pending", method="boleto", checkout_id="c1")
    noted = replace(pending, updated_at=t + 20 * 60 * MIN)  # a tag, a note: still unpaid
    paid_at = t + 30 * 60 * MIN
    paid = replace(pending, status="paid", paid_at=paid_at, updated_at=paid_at)
    [case] = run((t, pending), (t + 20 * 60 * MIN, noted))
    assert (case.kind, case.status, case.closed_at) == ("pending_order", "open", None)
    [case] = run((t, pending), (t + 20 * 60 * MIN, noted), (paid_at, paid))
    assert (case.status, case.how, case.closed_at, case.recovered_order) == (
        "recovered",
        "order_paid",
        paid_at,
        "o7",
    )


def test_the_order_that_recovered_a_case_is_kept() -> None:
    """One purchase may recover several cases of its customer: the abandoned checkout by
    overlapping items and the failed payment of the order paid; both name that order."""
    t = T0 + 60 * MIN
    placed = t + 20 * 60 * MIN
    pending = order(placed, "o5", status="pending", store="shopify")
    failed = payment(placed, "p1", False, intent="o5", store="shopify", order_id="o5")
    paid_at = placed + 3 * 60 * MIN
    paid = replace(pending, status="paid", paid_at=paid_at, updated_at=paid_at)
    cases = run((t, checkout(t)), (placed, pending), (placed, failed), (paid_at, paid))
    assert [(c.kind, c.status, c.how, c.recovered_order) for c in cases] == [
        ("abandoned_checkout", "recovered", "customer_purchase", "o5"),
        ("failed_payment", "recovered", "order_paid", "o5"),
    ]
