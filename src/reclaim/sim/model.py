"""What the simulator knows, platform-neutrally: carts, and snapshots of checkouts, orders and
payment attempts at one instant.

A platform payload (:mod:`reclaim.sim.payloads`) is rendered from a snapshot, and the same
snapshot is the ground truth's view of that delivery (:mod:`reclaim.sim.truth`): what Reclaim
should learn from it, independently of how Reclaim parses it. Identifiers are the ones Reclaim
is documented to use for each platform (Shopify checkout token, ``wc-draft-<id>``, Stripe
session and PaymentIntent ids, the custom site's own ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from reclaim.sim.people import Actor
from reclaim.sim.world import Product


@dataclass(frozen=True, slots=True)
class Line:
    product: Product
    quantity: int
    unit_price: Decimal  # in the cart's currency

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True, slots=True)
class Cart:
    lines: tuple[Line, ...]
    currency: str
    shipping: Decimal  # what shipping costs to the customer's country (0 when free)
    discount: Decimal = Decimal(0)  # a coupon the customer entered (Reclaim's incentive)
    codes: tuple[str, ...] = ()  # the coupon codes entered

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping - self.discount

    @property
    def skus(self) -> frozenset[str]:
        return frozenset(line.product.sku for line in self.lines)


@dataclass(frozen=True, slots=True)
class CheckoutSnap:
    store: str
    checkout_id: str  # Reclaim's external id for it
    native_id: str  # the platform's own id (Shopify numeric id, Woo order id, …)
    actor: Actor
    contact: bool  # has the shopper given an e-mail address yet?
    stage: str
    cart: Cart
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    order_id: str | None = None
    expired_at: datetime | None = None
    test_flag: bool = False  # the platform's own test marker (Stripe test mode, ``test``)

    @property
    def customer(self) -> str | None:
        return self.actor.key if self.contact else None

    @property
    def total(self) -> Decimal:
        return self.cart.total if self.stage in ("shipping", "payment") else self.cart.subtotal


@dataclass(frozen=True, slots=True)
class OrderSnap:
    store: str
    order_id: str
    number: str
    checkout_id: str | None
    actor: Actor
    cart: Cart
    created_at: datetime
    updated_at: datetime
    status: str  # pending | failed | paid | cancelled
    method: str  # card | paypal | boleto | konbini | bank_transfer
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    test_flag: bool = False

    @property
    def customer(self) -> str:
        return self.actor.key

    @property
    def total(self) -> Decimal:
        return self.cart.total


@dataclass(frozen=True, slots=True)
class PaymentSnap:
    store: str
    attempt_id: str
    intent_id: str
    order_id: str | None
    checkout_id: str | None
    actor: Actor
    amount: Decimal
    currency: str
    succeeded: bool
    occurred_at: datetime
    decline_code: str | None = None
    error_code: str | None = None
    message: str | None = None
    test_flag: bool = False

    @property
    def customer(self) -> str:
        return self.actor.key


Snap = CheckoutSnap | OrderSnap | PaymentSnap


@dataclass(slots=True)
class Delivery:
    """One HTTP request the simulator will make at ``at`` (simulated time).

    ``role``: ``event`` (a platform's first delivery of something that happened), ``retry``
    (the platform sending the same bytes again), ``rejected`` (deliberately bad: a stale
    signing secret, an invalid event), ``ping`` (WooCommerce's webhook-created ping).
    ``facts`` is what Reclaim should learn from it; a retry carries the same facts.
    """

    at: datetime
    seq: int
    store: str
    topic: str
    body: bytes
    headers: dict[str, str]
    facts: tuple[Snap, ...]
    role: str = "event"
    events: int = 1  # events in the body (a custom site's batch holds several)
    occurred_at: datetime | None = None
    wrong_secret: bool = False


@dataclass(slots=True)
class Story:
    """The simulator's own account of one checkout / order / payment subject."""

    store: str
    subject: str
    label: str
    actor_kind: str = "customer"
    notes: list[str] = field(default_factory=list)
