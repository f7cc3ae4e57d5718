"""What a shopping session looks like to a store's platform: the shared part.

A session (:mod:`reclaim.sim.traffic`) says what the shopper does: opens a checkout, moves
through its steps, has a card declined, pays, chooses a pay-later method, walks away. Each
platform's :class:`Storefront` (:mod:`reclaim.sim.shopify`, :mod:`~reclaim.sim.woocommerce`,
:mod:`~reclaim.sim.stripe`, :mod:`~reclaim.sim.custom`) turns that into what the platform
actually sends, and when, into an :class:`Outbox`. Every emission carries the snapshots
(:mod:`reclaim.sim.model`) it tells Reclaim about.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from reclaim.sim.behaviour import Decline
from reclaim.sim.model import Cart, CheckoutSnap, OrderSnap, Snap
from reclaim.sim.people import Actor
from reclaim.sim.world import StoreSpec

SECOND = timedelta(seconds=1)


@dataclass(slots=True)
class Emitted:
    """Something a platform sends once it happened (scheduling adds latency and retries)."""

    occurred_at: datetime
    seq: int
    store: str
    topic: str
    body: bytes
    headers: dict[str, str]
    facts: tuple[Snap, ...]
    events: int = 1


class Outbox:
    def __init__(self) -> None:
        self.items: list[Emitted] = []

    def emit(
        self,
        store: str,
        at: datetime,
        topic: str,
        body: bytes,
        headers: dict[str, str],
        facts: tuple[Snap, ...],
        events: int = 1,
    ) -> None:
        self.items.append(Emitted(at, len(self.items), store, topic, body, headers, facts, events))


@dataclass(slots=True)
class Order:
    order_id: str
    number: str
    checkout_id: str | None
    actor: Actor
    cart: Cart
    created_at: datetime
    updated_at: datetime
    status: str
    method: str
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    test: bool = False

    def snap(self, store: str) -> OrderSnap:
        return OrderSnap(
            store=store,
            order_id=self.order_id,
            number=self.number,
            checkout_id=self.checkout_id,
            actor=self.actor,
            cart=self.cart,
            created_at=self.created_at,
            updated_at=self.updated_at,
            status=self.status,
            method=self.method,
            paid_at=self.paid_at,
            cancelled_at=self.cancelled_at,
            test_flag=self.test,
        )


@dataclass(slots=True)
class Checkout:
    store: str
    checkout_id: str
    native_id: str
    actor: Actor
    cart: Cart
    created_at: datetime
    updated_at: datetime
    stage: str = "created"
    contact: bool = False
    test: bool = False
    flags_tests: bool = True  # does the platform mark a test checkout as such?
    completed_at: datetime | None = None
    order: Order | None = None
    intent_id: str | None = None
    expires_at: datetime | None = None
    walked_away: bool = False
    decline: str | None = None  # the decline code the shopper really had (if declined)

    def snap(self, **changes: Any) -> CheckoutSnap:
        s = CheckoutSnap(
            store=self.store,
            checkout_id=self.checkout_id,
            native_id=self.native_id,
            actor=self.actor,
            contact=self.contact,
            stage=self.stage,
            cart=self.cart,
            created_at=self.created_at,
            updated_at=self.updated_at,
            completed_at=self.completed_at,
            order_id=self.order.order_id if self.order and self.completed_at else None,
            test_flag=self.test and self.flags_tests,
        )
        return replace(s, **changes) if changes else s


class Storefront:
    """What all platforms share; subclasses say what each one sends."""

    platform = ""
    supports_pay_later = True
    flags_test_checkouts = True  # Stripe test mode, the events API's ``test``

    def __init__(self, spec: StoreSpec, out: Outbox, rng: random.Random) -> None:
        self.spec = spec
        self.out = out
        self.rng = rng
        self.counter = 0

    def next_id(self) -> int:
        self.counter += 1
        return self.counter

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def _b62(self, n: int) -> str:
        abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        return "".join(self.rng.choice(abc) for _ in range(n))

    def new_checkout(self, actor: Actor, cart: Cart, at: datetime, **kw: Any) -> Checkout:
        raise NotImplementedError

    # -- what a shopper does ------------------------------------------------------------------

    def open(self, actor: Actor, cart: Cart, at: datetime, *, contact: bool = False) -> Checkout:
        co = self.new_checkout(actor, cart, at, contact=contact, test=actor.is_staff)
        co.flags_tests = self.flags_test_checkouts
        self.checkout_changed(co, first=True)
        return co

    def step(self, co: Checkout, at: datetime, stage: str) -> None:
        co.updated_at = at
        co.stage = stage
        co.contact = True
        self.checkout_changed(co, first=False)

    def decline(self, co: Checkout, at: datetime, decline: Decline) -> None:
        """A card attempt is declined (platforms that do not report it send nothing)."""

    def pay(self, co: Checkout, at: datetime) -> None:
        raise NotImplementedError

    def pay_later(self, co: Checkout, at: datetime, method: str) -> Order:
        raise NotImplementedError

    def order_paid(self, order: Order, at: datetime) -> None:
        raise NotImplementedError

    def order_cancelled(self, order: Order, at: datetime) -> None:
        raise NotImplementedError

    def walk_away(self, co: Checkout, at: datetime) -> None:
        co.walked_away = True

    def can_resume(self, co: Checkout, at: datetime) -> bool:
        """Can the shopper come back to this checkout (or its unpaid card order) and pay?"""
        if co.order is None:
            return co.completed_at is None
        return co.order.method == "card" and co.order.status in ("failed", "pending")

    def finish(self, co: Checkout) -> None:
        """Whatever the platform does later on its own (Stripe: the session expires)."""

    def checkout_changed(self, co: Checkout, *, first: bool) -> None:
        """Send the checkout's new state, if the platform does."""

    def _order(self, co: Checkout, at: datetime, status: str, method: str) -> Order:
        n = self.next_id()
        return Order(
            order_id=self.order_id(co, n),
            number=f"#{1000 + n}",
            checkout_id=co.checkout_id,
            actor=co.actor,
            cart=co.cart,
            created_at=at,
            updated_at=at,
            status=status,
            method=method,
            paid_at=at if status == "paid" else None,
            test=co.test and self.marks_tests(method),
        )

    def order_id(self, co: Checkout, n: int) -> str:
        return str(n)

    def marks_tests(self, method: str) -> bool:
        """Does the platform flag a staff order with this method as a test? (Else only the
        staff's test address tells.)"""
        return True
