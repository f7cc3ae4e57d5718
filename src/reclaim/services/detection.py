"""Opening cases when their time has come (SPEC S2), run by the worker at ``now``.

Each watched fact carries its own due time (``abandon_due_at``, ``pending_due_at``,
``due_at``), indexed, so the work per run depends on what is due, not on how much is stored.
Payments are looked at first, then orders, then checkouts: the most specific opportunity wins
and the broader ones defer to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reclaim.domain.cases import TEST_MODE_EVENT, Case, CaseKind, CaseStatus, items_overlap
from reclaim.domain.events import Contact
from reclaim.domain.facts import Checkout, CheckoutState, Order, PaymentAttempt, WatchState
from reclaim.domain.filters import is_bot, is_test_contact
from reclaim.domain.reasons import classify_failure
from reclaim.domain.stores import Store
from reclaim.services.abandonment import tag_case
from reclaim.services.flows import FlowDefaults, start_flow
from reclaim.services.ports import UnitOfWork
from reclaim.services.resolution import close, record


@dataclass(slots=True)
class DetectStats:
    opened: int = 0
    skipped: int = 0
    expired: int = 0
    # Why the skipped opened no case: test_mode (the platform's test flag: Stripe's livemode
    # false), test_contact (the store's test addresses), bot, no_contact, backlog, resolved,
    # known, completed, superseded, payment_case, purchased, store_deleted.
    reasons: dict[str, int] = field(default_factory=dict)

    def __iadd__(self, other: DetectStats) -> DetectStats:
        self.opened += other.opened
        self.skipped += other.skipped
        self.expired += other.expired
        for why, n in other.reasons.items():
            self.reasons[why] = self.reasons.get(why, 0) + n
        return self

    def skip(self, why: str | None, *, test_flag: bool) -> None:
        """Count one due fact that opens no case, by its reason (``_skip_reason``'s)."""
        reason = why or "store_deleted"
        if reason == "test":  # kept as "test" on the checkout; told apart for the operator
            reason = "test_mode" if test_flag else "test_contact"
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def detect_due(
    *,
    uow: UnitOfWork,
    now: datetime,
    batch: int = 500,
    flows: FlowDefaults | None = None,
) -> DetectStats:
    """Open every case due at ``now``; loops in committed batches until nothing is due.

    With ``flows`` (the default flow definitions), each new case starts its store's flow in
    the transaction that opens it; without, cases are only detected (benchmarks, tests of
    detection alone).
    """
    total = DetectStats()
    for step in (_payments, _orders, _checkouts, _expire):
        while True:
            with uow:
                stats, more = step(uow, now, batch, flows)
                uow.commit()
            total += stats
            if not more:
                break
    return total


class _Stores:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.cache: dict[str, Store | None] = {}

    def __call__(self, store_id: str) -> Store | None:
        if store_id not in self.cache:
            self.cache[store_id] = self.uow.stores.get(store_id)
        return self.cache[store_id]


def _skip_reason(
    store: Store | None,
    *,
    key: str | None,
    email: str | None,
    ua: str | None,
    test: bool,
    at: datetime,
) -> str | None:
    if store is None:
        return "store_deleted"
    s = store.settings
    if (test and not s.accept_test_mode) or is_test_contact(
        email, test_emails=s.test_emails, test_domains=s.test_domains
    ):
        return "test"  # a platform's test runs as a case (marked test) where the store says so
    if is_bot(ua):
        return "bot"
    if key is None:
        return "no_contact"
    if at < store.activated_at:
        return "backlog"  # enabling Reclaim never mails a store's old backlog
    return None


def _open(
    uow: UnitOfWork,
    store: Store,
    case: Case,
    now: datetime,
    flows: FlowDefaults | None,
    *,
    checkout: Checkout | None = None,
    order: Order | None = None,
    attempt: PaymentAttempt | None = None,
) -> Case:
    """Add ``case``, tagged with its country, device and inferred reasons (the facts it was
    opened from give them: services/abandonment.py), and start its flow."""
    case.expires_at = now + store.settings.case_ttl
    uow.cases.add(case)
    tag_case(uow, case, at=now, checkout=checkout, order=order, attempt=attempt)
    record(uow, case, at=now, type="opened", kind=case.kind, reason=case.reason)
    if any(f is not None and f.is_test for f in (checkout, order, attempt)):
        record(uow, case, at=now, type=TEST_MODE_EVENT)  # the store accepts test mode
    if flows is not None:
        start_flow(uow, store, case, defaults=flows, now=now)
    return case


def _payments(
    uow: UnitOfWork, now: datetime, batch: int, flows: FlowDefaults | None
) -> tuple[DetectStats, bool]:
    stats, stores = DetectStats(), _Stores(uow)
    due = uow.facts.due_payments(now=now, limit=batch)
    for attempt in due:
        attempt.due_at = None
        store = stores(attempt.store_id)
        skip = _skip_reason(
            store,
            key=attempt.customer_key,
            email=attempt.email,
            ua=None,
            test=attempt.is_test,
            at=attempt.occurred_at,
        )
        order = (
            uow.facts.order(attempt.store_id, attempt.order_external_id, lock=False)
            if attempt.order_external_id
            else None
        )
        if skip is None and (
            uow.facts.intent_succeeded(attempt.store_id, attempt.intent_id)
            or (order is not None and (order.is_paid or order.is_cancelled))
        ):
            skip = "resolved"
        if skip is None and uow.cases.by_subject(
            attempt.store_id, CaseKind.FAILED_PAYMENT, attempt.intent_id
        ):
            skip = "known"
        if skip is not None or store is None:
            attempt.watch = WatchState.IGNORED if skip != "known" else WatchState.DETECTED
            stats.skip(skip, test_flag=attempt.is_test)
            continue
        attempt.watch = WatchState.DETECTED
        case = _open(
            uow, store, _payment_case(attempt, order, now), now, flows, order=order, attempt=attempt
        )
        stats.opened += 1
        broader: list[Case] = []
        if order is not None:
            order.watch, order.pending_due_at = WatchState.DETECTED, None
            broader += [
                c
                for c in uow.cases.open_for_order(store.id, order.external_id)
                if c.kind == CaseKind.PENDING_ORDER
            ]
        if attempt.checkout_external_id:
            broader += [
                c
                for c in uow.cases.open_for_checkout(store.id, attempt.checkout_external_id)
                if c.kind == CaseKind.ABANDONED_CHECKOUT
            ]
        for other in broader:  # one opportunity, one case: the payment's is the specific one
            close(uow, other, CaseStatus.CANCELLED, at=now, reason="superseded")
            case.merged_from = [*case.merged_from, other.id or 0]
    return stats, len(due) == batch


def _payment_case(attempt: PaymentAttempt, order: Order | None, now: datetime) -> Case:
    contact = _richer(attempt.contact, order.contact if order else None)
    return Case(
        store_id=attempt.store_id,
        kind=CaseKind.FAILED_PAYMENT,
        subject_id=attempt.intent_id,
        customer_key=attempt.customer_key,
        email=attempt.email or (order.email if order else None),
        phone=contact.phone,
        contact=contact,
        value=order.total if order else attempt.amount,
        currency=order.currency if order else attempt.currency,
        items=order.items if order else (),
        reason=classify_failure(attempt.decline_code, attempt.failure_code),
        reason_code=attempt.decline_code or attempt.failure_code,
        occurred_at=attempt.occurred_at,
        created_at=now,
        order_external_id=attempt.order_external_id,
        checkout_external_id=attempt.checkout_external_id,
        intent_id=attempt.intent_id,
        recovery_url=order.payment_url if order else None,
    )


def _richer(primary: Contact, other: Contact | None) -> Contact:
    """Fill what ``primary`` lacks from ``other`` (a payment knows less than its order)."""
    if other is None:
        return primary
    values = {
        name: getattr(primary, name) if getattr(primary, name) is not None else getattr(other, name)
        for name in Contact.__dataclass_fields__
    }
    return Contact(**values)


def _orders(
    uow: UnitOfWork, now: datetime, batch: int, flows: FlowDefaults | None
) -> tuple[DetectStats, bool]:
    stats, stores = DetectStats(), _Stores(uow)
    due = uow.facts.due_orders(now=now, limit=batch)
    for order in due:
        order.pending_due_at = None
        store = stores(order.store_id)
        skip = _skip_reason(
            store,
            key=order.customer_key,
            email=order.email,
            ua=order.user_agent,
            test=order.is_test,
            at=order.created_at,
        )
        if skip is None and uow.facts.order_succeeded_payment(order.store_id, order.external_id):
            skip = "resolved"
        if skip is None and any(
            c.kind == CaseKind.FAILED_PAYMENT
            for c in uow.cases.open_for_order(order.store_id, order.external_id)
        ):
            skip = "known"
        if skip is not None or store is None:
            order.watch = WatchState.IGNORED if skip != "known" else WatchState.DETECTED
            stats.skip(skip, test_flag=order.is_test)
            continue
        order.watch = WatchState.DETECTED
        case = Case(
            store_id=order.store_id,
            kind=CaseKind.PENDING_ORDER,
            subject_id=order.external_id,
            customer_key=order.customer_key,
            email=order.email,
            phone=order.phone,
            contact=order.contact,
            value=order.total,
            currency=order.currency,
            items=order.items,
            reason="awaiting_payment",
            reason_code=order.payment_method,
            occurred_at=order.created_at,
            created_at=now,
            order_external_id=order.external_id,
            checkout_external_id=order.checkout_external_id,
            recovery_url=order.payment_url,
        )
        _open(uow, store, case, now, flows, order=order)
        stats.opened += 1
    return stats, len(due) == batch


def _checkouts(
    uow: UnitOfWork, now: datetime, batch: int, flows: FlowDefaults | None
) -> tuple[DetectStats, bool]:
    stats, stores = DetectStats(), _Stores(uow)
    due = uow.facts.due_checkouts(now=now, limit=batch)
    for checkout in due:
        checkout.abandon_due_at = None
        store = stores(checkout.store_id)
        skip = _skip_reason(
            store,
            key=checkout.customer_key,
            email=checkout.email,
            ua=checkout.user_agent,
            test=checkout.is_test,
            at=checkout.updated_at,
        )
        if skip is None:
            skip = _checkout_settled(uow, store, checkout)
        if skip == "completed":
            checkout.state = CheckoutState.COMPLETED
        elif skip == "superseded":
            checkout.state = CheckoutState.SUPERSEDED
        if skip is not None or store is None:
            if skip not in ("completed", "superseded"):
                checkout.state, checkout.ignore_reason = CheckoutState.IGNORED, skip
            stats.skip(skip, test_flag=checkout.is_test)
            continue
        checkout.state = CheckoutState.ABANDONED
        assert checkout.customer_key is not None
        older = [
            c
            for c in uow.cases.open_for_customer(store.id, checkout.customer_key)
            if c.kind == CaseKind.ABANDONED_CHECKOUT
        ]
        case = _open(uow, store, _checkout_case(checkout, now), now, flows, checkout=checkout)
        for other in older:
            close(uow, other, CaseStatus.CANCELLED, at=now, reason="superseded")
        if older:
            case.merged_from = [c.id or 0 for c in older]
            record(uow, case, at=now, type="merged", cases=case.merged_from)
        stats.opened += 1
    return stats, len(due) == batch


def _checkout_settled(uow: UnitOfWork, store: Store | None, checkout: Checkout) -> str | None:
    """Why a due checkout needs no case after all, if it doesn't."""
    assert store is not None and checkout.customer_key is not None
    order = uow.facts.order_by_checkout(store.id, checkout.external_id)
    if order is not None:
        checkout.order_external_id = order.external_id
        return "completed"
    if uow.cases.exists_for_checkout(store.id, CaseKind.FAILED_PAYMENT, checkout.external_id):
        return "payment_case"  # the failed payment on this checkout is the case already
    mine = (checkout.updated_at, checkout.external_id)
    for other in uow.facts.active_checkouts_of(store.id, checkout.customer_key):
        if other is not checkout and (other.updated_at, other.external_id) > mine:
            return "superseded"
    for paid in uow.facts.paid_orders_of(
        store.id, checkout.customer_key, since=checkout.created_at
    ):
        if items_overlap(checkout.items, paid.items):
            return "purchased"
    if uow.facts.unlinked_payments_of(store.id, checkout.customer_key, since=checkout.created_at):
        return "purchased"  # a payments-only store (Stripe): the customer paid for something
    return None


def _checkout_case(checkout: Checkout, now: datetime) -> Case:
    return Case(
        store_id=checkout.store_id,
        kind=CaseKind.ABANDONED_CHECKOUT,
        subject_id=checkout.external_id,
        customer_key=checkout.customer_key,
        email=checkout.email,
        phone=checkout.phone,
        contact=checkout.contact,
        value=checkout.total,
        currency=checkout.currency,
        items=checkout.items,
        reason="checkout_expired" if checkout.expired_at else "checkout_abandoned",
        occurred_at=checkout.updated_at,
        created_at=now,
        checkout_external_id=checkout.external_id,
        recovery_url=checkout.recovery_url,
    )


def _expire(
    uow: UnitOfWork, now: datetime, batch: int, flows: FlowDefaults | None
) -> tuple[DetectStats, bool]:
    stats = DetectStats()
    due = uow.cases.expired_open(now=now, limit=batch)
    for case in due:
        close(uow, case, CaseStatus.EXPIRED, at=now, reason="ttl")
        stats.expired += 1
    return stats, len(due) == batch
