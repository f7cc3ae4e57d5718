"""Ground truth: which cases Reclaim should open at which worker run, and how they should end.

It reads the simulator's own snapshots (what each delivery *means*), never Reclaim's parsing
or database, and applies SPEC S2 at every simulated worker run ``T`` (the worker processes
everything delivered up to ``T``, then opens what is due):

* **failed payment** — a declined attempt, due ``grace`` (5 min) after it, unless by then the
  same intent succeeded or its order was paid or cancelled; one case per intent. It takes
  over the order's pending case.
* **pending order** — unpaid and not cancelled ``pending delay`` (30 min) after it was
  placed, unless a payment for it succeeded or a failed-payment case covers it.
* **abandoned checkout** — contact given, inactive for the abandonment delay (or declared
  expired by the platform), and no order placed from it, no newer open checkout of the same
  customer (the newest supersedes: an older case is cancelled), no purchase of overlapping
  items by the customer since it started, and no failed-payment case for it ("one case per
  opportunity": the payment case is the more specific one).
* never for bots, the merchant's test traffic, contactless carts, or activity from before the
  store was connected to Reclaim.
* **recovered** when the same checkout completes (a case of an order — pending, or a failed
  payment for it — waits for the order's payment, not for the order to be placed), the same
  order is paid, a payment on the same intent / order / checkout succeeds, or the same
  customer pays for overlapping items within the recovery window after the case's moment;
  the order that paid is kept, to count recovered orders as Reclaim does (one purchase may
  recover several cases of its customer); on a payments-only store (Stripe) a
  successful payment *is* the customer paying. **Cancelled** when its order is cancelled.
  **Lost** when a messaged pending order's hold ends (the flow's cancellation notice), which
  the simulation reports with :meth:`GroundTruth.hold_ended` when the notice arrives.

Items a platform does not send (Stripe sessions) are unknown and overlap anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from reclaim.domain.stores import StoreSettings
from reclaim.sim.model import CheckoutSnap, Delivery, OrderSnap, PaymentSnap, Snap

PAYMENTS_ONLY = frozenset({"stripe"})  # stores whose successful payments are their orders
NO_SESSION_ITEMS = frozenset({"stripe"})  # platforms that send checkouts without line items


@dataclass(slots=True)
class ExpectedCase:
    store: str
    kind: str
    subject: str
    customer: str
    occurred_at: datetime
    opened_at: datetime
    items: frozenset[str]  # empty: unknown, overlaps anything
    value: Decimal
    currency: str
    checkout_id: str | None = None
    order_id: str | None = None
    intent_id: str | None = None
    status: str = "open"
    closed_at: datetime | None = None
    how: str | None = None
    recovered_value: Decimal | None = None
    recovered_order: str | None = None  # the order whose purchase recovered it, if one did


def overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    return not a or not b or not a.isdisjoint(b)


@dataclass(slots=True)
class _Checkout:
    latest: CheckoutSnap
    created_at: datetime
    completed: bool = False
    expired_at: datetime | None = None
    state: str = "active"  # active | abandoned | completed | superseded | ignored
    seq: int = 0

    @property
    def updated_at(self) -> datetime:
        return self.latest.updated_at

    @property
    def items(self) -> frozenset[str]:
        return frozenset() if self.latest.store in NO_SESSION_ITEMS else self.latest.cart.skus


@dataclass(slots=True)
class _Order:
    latest: OrderSnap
    created_at: datetime
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    watch: str = "watching"  # watching | detected | done | ignored
    seq: int = 0


@dataclass(slots=True)
class _Attempt:
    snap: PaymentSnap
    watch: str
    seq: int = 0


@dataclass(slots=True)
class _Store:
    checkouts: dict[str, _Checkout] = field(default_factory=dict)
    orders: dict[str, _Order] = field(default_factory=dict)
    attempts: dict[str, _Attempt] = field(default_factory=dict)
    succeeded_intents: set[str] = field(default_factory=set)
    succeeded_orders: set[str] = field(default_factory=set)
    purchases: list[tuple[str, datetime, frozenset[str]]] = field(default_factory=list)
    cases: list[ExpectedCase] = field(default_factory=list)
    index: dict[tuple[str, str], list[ExpectedCase]] = field(default_factory=dict)
    # Look-ups by customer and checkout, so that a day of 20 000 customers stays linear.
    customer_checkouts: dict[str, dict[str, _Checkout]] = field(default_factory=dict)
    customer_purchases: dict[str, list[tuple[str, datetime, frozenset[str]]]] = field(
        default_factory=dict
    )
    ordered_checkouts: set[str] = field(default_factory=set)


class GroundTruth:
    """Replays the plan's deliveries over the worker's schedule; see the module docstring."""

    def __init__(self, *, activated_at: datetime, settings: StoreSettings) -> None:
        self.activated_at = activated_at
        self.s = settings
        self.stores: dict[str, _Store] = {}
        self._seq = 0

    # -- driving ------------------------------------------------------------------------------

    def run(self, deliveries: Sequence[Delivery], ticks: Sequence[datetime]) -> list[ExpectedCase]:
        pending = sorted((d for d in deliveries if d.facts), key=lambda d: (d.at, d.seq))
        i = 0
        for tick in ticks:
            while i < len(pending) and pending[i].at <= tick:
                for fact in pending[i].facts:
                    self.learn(fact)
                i += 1
            self.detect(tick)
        return self.cases

    def advance(self, facts: Iterable[Snap]) -> None:
        """Learn what one delivery tells (the lock-step use: the caller calls :meth:`detect`
        at each worker run, after the deliveries up to it)."""
        for fact in facts:
            self.learn(fact)

    def customer_cases(self, store: str, customer: str) -> list[ExpectedCase]:
        """The customer's cases in ``store``, oldest first."""
        return list(self._store(store).index.get(("customer", customer), ()))

    @staticmethod
    def _add(st: _Store, case: ExpectedCase) -> None:
        st.cases.append(case)
        for key, value in (
            ("checkout", case.checkout_id),
            ("order", case.order_id),
            ("intent", case.intent_id),
            ("customer", case.customer),
        ):
            if value is not None:
                st.index.setdefault((key, value), []).append(case)

    def hold_ended(self, case: ExpectedCase, at: datetime) -> None:
        """A messaged pending order whose hold ended: Reclaim's flow closes it as lost with the
        cancellation notice (held-out cases get no notice and stay open)."""
        self._close(case, "lost", at, "hold_expired")

    @property
    def cases(self) -> list[ExpectedCase]:
        return [c for st in self.stores.values() for c in st.cases]

    def _store(self, key: str) -> _Store:
        return self.stores.setdefault(key, _Store())

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    # -- what a delivery teaches --------------------------------------------------------------

    def learn(self, fact: Snap) -> None:
        st = self._store(fact.store)
        if isinstance(fact, CheckoutSnap):
            self._checkout(st, fact)
        elif isinstance(fact, OrderSnap):
            self._order(st, fact)
        else:
            self._payment(st, fact)

    def _checkout(self, st: _Store, snap: CheckoutSnap) -> None:
        known = st.checkouts.get(snap.checkout_id)
        if known is None:
            known = st.checkouts[snap.checkout_id] = _Checkout(
                snap, snap.created_at, seq=self._next()
            )
        elif snap.updated_at > known.updated_at:
            known.latest = snap
        if known.latest.customer is not None:
            st.customer_checkouts.setdefault(known.latest.customer, {})[snap.checkout_id] = known
        known.created_at = min(known.created_at, snap.created_at)
        if snap.expired_at is not None:
            known.expired_at = min(known.expired_at or snap.expired_at, snap.expired_at)
        if (snap.completed_at or snap.order_id) and not known.completed:
            self._complete(
                st,
                snap.checkout_id,
                at=snap.completed_at or snap.updated_at,
                value=snap.cart.total,
                order=snap.order_id,
            )

    def _complete(
        self, st: _Store, checkout_id: str, *, at: datetime, value: Decimal, order: str | None
    ) -> None:
        """The checkout completed (an order was placed from it): its own case is recovered;
        an order's case on it (pending, or a failed payment for the order) waits for the
        order's payment."""
        known = st.checkouts.get(checkout_id)
        if known is not None:
            known.completed = True
            if known.state in ("active", "superseded"):
                known.state = "completed"
        for case in self._open(st, checkout_id=checkout_id):
            if case.order_id is None:
                self._recover(case, at, value, "checkout_completed", order)

    def _order(self, st: _Store, snap: OrderSnap) -> None:
        known = st.orders.get(snap.order_id)
        if known is None:
            known = st.orders[snap.order_id] = _Order(snap, snap.created_at, seq=self._next())
        elif snap.updated_at > known.latest.updated_at:
            known.latest = snap
        known.created_at = min(known.created_at, snap.created_at)
        if snap.checkout_id:
            st.ordered_checkouts.add(snap.checkout_id)
            self._complete(
                st, snap.checkout_id, at=known.created_at, value=snap.total, order=snap.order_id
            )
        newly_paid = snap.status == "paid" and known.paid_at is None
        if snap.status == "paid":
            paid = snap.paid_at or snap.updated_at
            known.paid_at = min(known.paid_at or paid, paid)
        newly_cancelled = snap.cancelled_at is not None and known.cancelled_at is None
        if snap.cancelled_at is not None:
            known.cancelled_at = min(known.cancelled_at or snap.cancelled_at, snap.cancelled_at)
        if (known.paid_at or known.cancelled_at) and known.watch == "watching":
            known.watch = "done"
        if newly_paid and known.paid_at is not None:
            for case in self._open(st, order_id=snap.order_id):
                self._recover(case, known.paid_at, snap.total, "order_paid", snap.order_id)
            self._purchase(
                st, snap.customer, known.paid_at, snap.cart.skus, snap.total, snap.order_id
            )
        elif newly_cancelled and known.paid_at is None and known.cancelled_at is not None:
            for case in self._open(st, order_id=snap.order_id):
                self._close(case, "cancelled", known.cancelled_at, "order_cancelled")

    def _payment(self, st: _Store, snap: PaymentSnap) -> None:
        if snap.attempt_id in st.attempts:
            return
        st.attempts[snap.attempt_id] = _Attempt(
            snap, "done" if snap.succeeded else "watching", self._next()
        )
        if not snap.succeeded:
            return
        st.succeeded_intents.add(snap.intent_id)
        if snap.order_id:
            st.succeeded_orders.add(snap.order_id)
        linked = [
            *self._open(st, intent_id=snap.intent_id),
            *(self._open(st, order_id=snap.order_id) if snap.order_id else ()),
            *(self._open(st, checkout_id=snap.checkout_id) if snap.checkout_id else ()),
        ]
        for case in linked:
            self._recover(case, snap.occurred_at, snap.amount, "payment_succeeded", snap.order_id)
        if snap.store in PAYMENTS_ONLY:
            self._purchase(st, snap.customer, snap.occurred_at, frozenset(), snap.amount, None)

    def _purchase(
        self,
        st: _Store,
        customer: str,
        at: datetime,
        items: frozenset[str],
        value: Decimal,
        order: str | None,
    ) -> None:
        st.purchases.append((customer, at, items))
        st.customer_purchases.setdefault(customer, []).append((customer, at, items))
        window = self.s.recovery_window
        for case in self._open(st, customer=customer):
            if case.occurred_at <= at <= case.occurred_at + window and overlap(case.items, items):
                self._recover(case, at, value, "customer_purchase", order)

    # -- cases --------------------------------------------------------------------------------

    def _open(
        self,
        st: _Store,
        *,
        checkout_id: str | None = None,
        order_id: str | None = None,
        intent_id: str | None = None,
        customer: str | None = None,
    ) -> list[ExpectedCase]:
        # Start from the smallest index that applies (a case's ids never change).
        pool: list[ExpectedCase] = st.cases
        for key, value in (
            ("checkout", checkout_id),
            ("order", order_id),
            ("intent", intent_id),
            ("customer", customer),
        ):
            if value is not None:
                found = st.index.get((key, value), [])
                pool = found if len(found) < len(pool) else pool
        return [
            c
            for c in pool
            if c.status == "open"
            and (checkout_id is None or c.checkout_id == checkout_id)
            and (order_id is None or c.order_id == order_id)
            and (intent_id is None or c.intent_id == intent_id)
            and (customer is None or c.customer == customer)
        ]

    @staticmethod
    def _recover(
        case: ExpectedCase, at: datetime, value: Decimal, how: str, order: str | None
    ) -> None:
        if case.status == "open":
            case.status, case.closed_at, case.how = "recovered", at, how
            case.recovered_value, case.recovered_order = value, order

    @staticmethod
    def _close(case: ExpectedCase, status: str, at: datetime, how: str) -> None:
        if case.status == "open":
            case.status, case.closed_at, case.how = status, at, how

    def _excluded(self, actor_kind: str, customer: str | None, at: datetime, *, test: bool) -> bool:
        return test or actor_kind in ("staff", "bot") or customer is None or at < self.activated_at

    # -- what the worker should do at ``now`` ---------------------------------------------------

    def detect(self, now: datetime) -> None:
        for st in self.stores.values():
            self._detect_payments(st, now)
            self._detect_orders(st, now)
            self._detect_checkouts(st, now)

    def _detect_payments(self, st: _Store, now: datetime) -> None:
        grace = self.s.failed_payment_delay
        due = [
            a
            for a in st.attempts.values()
            if a.watch == "watching" and a.snap.occurred_at + grace <= now
        ]
        for a in sorted(due, key=lambda a: (a.snap.occurred_at, a.seq)):
            p = a.snap
            a.watch = "ignored"
            if self._excluded(p.actor.kind, p.customer, p.occurred_at, test=p.test_flag):
                continue
            order = st.orders.get(p.order_id) if p.order_id else None
            if p.intent_id in st.succeeded_intents or (
                order is not None and (order.paid_at or order.cancelled_at)
            ):
                continue
            if any(c.kind == "failed_payment" and c.intent_id == p.intent_id for c in st.cases):
                continue
            a.watch = "detected"
            case = ExpectedCase(
                store=p.store,
                kind="failed_payment",
                subject=p.intent_id,
                customer=p.customer,
                occurred_at=p.occurred_at,
                opened_at=now,
                items=order.latest.cart.skus if order else frozenset(),
                value=order.latest.total if order else p.amount,
                currency=order.latest.cart.currency if order else p.currency,
                checkout_id=p.checkout_id,
                order_id=p.order_id,
                intent_id=p.intent_id,
            )
            if order is not None:
                order.watch = "detected"
                for other in self._open(st, order_id=order.latest.order_id):
                    if other.kind == "pending_order":
                        self._close(other, "cancelled", now, "superseded")
            self._add(st, case)

    def _detect_orders(self, st: _Store, now: datetime) -> None:
        delay = self.s.pending_delay
        due = [
            o for o in st.orders.values() if o.watch == "watching" and o.created_at + delay <= now
        ]
        for o in sorted(due, key=lambda o: (o.created_at + delay, o.seq)):
            snap = o.latest
            o.watch = "ignored"
            if self._excluded(snap.actor.kind, snap.customer, o.created_at, test=snap.test_flag):
                continue
            if snap.order_id in st.succeeded_orders:
                continue
            if any(x.kind == "failed_payment" for x in self._open(st, order_id=snap.order_id)):
                o.watch = "detected"
                continue
            o.watch = "detected"
            self._add(
                st,
                ExpectedCase(
                    store=snap.store,
                    kind="pending_order",
                    subject=snap.order_id,
                    customer=snap.customer,
                    occurred_at=o.created_at,
                    opened_at=now,
                    items=snap.cart.skus,
                    value=snap.total,
                    currency=snap.cart.currency,
                    checkout_id=snap.checkout_id,
                    order_id=snap.order_id,
                ),
            )

    def _due_at(self, c: _Checkout) -> datetime:
        due = c.updated_at + self.s.abandonment_delay
        return min(due, c.expired_at) if c.expired_at else due

    def _detect_checkouts(self, st: _Store, now: datetime) -> None:
        due = [c for c in st.checkouts.values() if c.state == "active" and self._due_at(c) <= now]
        for c in sorted(due, key=lambda c: (self._due_at(c), c.seq)):
            snap = c.latest
            if self._excluded(snap.actor.kind, snap.customer, c.updated_at, test=snap.test_flag):
                c.state = "ignored"
                continue
            customer = snap.customer
            assert customer is not None
            if c.completed or snap.checkout_id in st.ordered_checkouts:
                c.state = "completed"
                continue
            mine = (c.updated_at, snap.checkout_id)
            if any(
                o is not c
                and o.latest.customer == customer
                and o.state in ("active", "abandoned")
                and (o.updated_at, o.latest.checkout_id) > mine
                for o in st.customer_checkouts.get(customer, {}).values()
            ):
                c.state = "superseded"
                continue
            if any(
                who == customer and at >= c.created_at and overlap(c.items, items)
                for who, at, items in st.customer_purchases.get(customer, ())
            ):
                c.state = "ignored"
                continue
            if any(
                x.kind == "failed_payment" and x.checkout_id == snap.checkout_id
                for x in st.index.get(("checkout", snap.checkout_id), ())
            ):
                c.state = "ignored"
                continue
            c.state = "abandoned"
            older = [x for x in self._open(st, customer=customer) if x.kind == "abandoned_checkout"]
            self._add(
                st,
                ExpectedCase(
                    store=snap.store,
                    kind="abandoned_checkout",
                    subject=snap.checkout_id,
                    customer=customer,
                    occurred_at=c.updated_at,
                    opened_at=now,
                    items=c.items,
                    value=snap.total,
                    currency=snap.cart.currency,
                    checkout_id=snap.checkout_id,
                ),
            )
            for x in older:
                self._close(x, "cancelled", now, "superseded")


def expected_cases(
    deliveries: Iterable[Delivery],
    ticks: Sequence[datetime],
    *,
    activated_at: datetime,
    settings: StoreSettings | None = None,
) -> list[ExpectedCase]:
    """The cases of SPEC S2 for these deliveries (only those Reclaim accepts carry facts)."""
    truth = GroundTruth(activated_at=activated_at, settings=settings or StoreSettings())
    return truth.run(list(deliveries), ticks)
