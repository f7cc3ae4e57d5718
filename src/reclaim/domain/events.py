"""Normalised facts that platform adapters extract from a delivery.

Every connector (Shopify, WooCommerce, Stripe, the generic API) turns a raw delivery into a
:class:`ParsedDelivery` holding zero or more of these immutable observations. Ingestion merges
them into the store's current picture of checkouts, orders, payments and shipments; nothing
downstream ever looks at a platform's own payload again.

All datetimes are timezone-aware UTC. Money is ``Decimal`` in the currency's major unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class FinancialStatus(StrEnum):
    """Where an order stands with its money, common to every platform."""

    PENDING = "pending"  # placed, not paid (incl. authorised-only, on-hold, bank transfer)
    FAILED = "failed"  # the last payment attempt failed
    PAID = "paid"  # captured, fully or partially
    REFUNDED = "refunded"
    VOIDED = "voided"


class ShipmentStatus(StrEnum):
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    CUSTOMS_HOLD = "customs_hold"
    EXCEPTION = "exception"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class LineItem:
    """One line of a cart or order. ``unit_price`` and ``line_total`` are what the shop shows
    the customer: with tax where the order's :class:`Charges` say ``tax_included``.
    ``line_total`` is the platform's own figure for the line (quantity × price, before
    order-level discounts) where it states one; ``None``: quantity × unit price."""

    name: str
    quantity: int
    unit_price: Decimal
    sku: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    image_url: str | None = None
    url: str | None = None
    line_total: Decimal | None = None

    @property
    def match_key(self) -> str:
        """What identifies "the same item" across a checkout and a later order."""
        return self.sku or self.variant_id or self.product_id or self.name.strip().lower()


@dataclass(frozen=True, slots=True)
class Charges:
    """What an order's total holds besides its lines, as the platform states it.

    Amounts are in the order's currency, never negative, and in the lines' convention: with
    tax where ``tax_included`` (the shop shows prices with VAT; ``tax`` is then the part of
    the total that is tax), without it otherwise (``tax`` is added on top). ``None``: the
    platform did not say.
    """

    shipping: Decimal | None = None
    discount: Decimal | None = None  # taken off the lines
    fees: Decimal | None = None  # fees and surcharges (WooCommerce's fee lines)
    tax: Decimal | None = None
    tax_included: bool = False


@dataclass(frozen=True, slots=True)
class Contact:
    """Who the customer is, as far as this delivery tells.

    ``locale`` is a BCP-47 tag (``de-DE``), ``country`` ISO 3166-1 alpha-2, ``timezone`` an
    IANA zone. ``accepts_*_marketing`` is ``None`` where the platform says nothing.
    """

    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None
    country: str | None = None
    region: str | None = None
    timezone: str | None = None
    accepts_email_marketing: bool | None = None
    accepts_sms_marketing: bool | None = None
    customer_ref: str | None = None  # the platform's customer id
    orders_count: int | None = None  # earlier orders, where the platform says


@dataclass(frozen=True, slots=True)
class CheckoutObserved:
    """A cart with (possibly) contact details, as of ``updated_at``."""

    external_id: str
    contact: Contact
    currency: str
    total: Decimal
    created_at: datetime
    updated_at: datetime
    items: tuple[LineItem, ...] = ()
    completed_at: datetime | None = None
    order_external_id: str | None = None
    recovery_url: str | None = None
    expired_at: datetime | None = None  # the platform itself declared it abandoned
    user_agent: str | None = None
    is_test: bool = False
    shipping_quote: Decimal | None = None  # what shipping the customer was shown
    shipping_days: int | None = None  # and the longest delivery time shown (business days)
    charges: Charges | None = None  # shipping, discount, fees and tax, where stated
    # Coupons used to complete it, by code or by the platform's id for them (Stripe
    # Checkout names promotion codes by id): Reclaim tracks its own coupons' redemptions.
    discount_codes: tuple[str, ...] = ()
    discount_refs: tuple[str, ...] = ()
    # The checkout this one was made from by the platform's own recovery link (Stripe's
    # ``recovered_from``): completing it recovers that one's case too.
    recovered_from: str | None = None


@dataclass(frozen=True, slots=True)
class OrderObserved:
    """An order's state as of ``updated_at``."""

    external_id: str
    contact: Contact
    currency: str
    total: Decimal
    created_at: datetime
    updated_at: datetime
    financial_status: FinancialStatus
    items: tuple[LineItem, ...] = ()
    checkout_external_id: str | None = None
    paid_at: datetime | None = None
    cancelled_at: datetime | None = None
    payment_method: str | None = None
    user_agent: str | None = None
    is_test: bool = False
    order_number: str | None = None
    payment_url: str | None = None  # where the customer can pay this order
    discount_codes: tuple[str, ...] = ()  # coupons the customer used (ours among them)
    charges: Charges | None = None  # shipping, discount, fees and tax, where stated
    payment_title: str | None = None  # the payment method's name as the shop shows it
    # What the customer needs to pay an offline method (bank details, a reference), where
    # the platform's order carries it (the events API's ``payment_instructions``).
    payment_instructions: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentObserved:
    """One payment attempt: failed or succeeded.

    ``external_id`` identifies the attempt (a charge), ``intent_id`` the thing being paid for
    across attempts (Stripe PaymentIntent, an order's payment). Either ``order_external_id``
    or ``checkout_external_id`` links it to the purchase where the platform says so.
    """

    external_id: str
    intent_id: str
    contact: Contact
    amount: Decimal
    currency: str
    succeeded: bool
    occurred_at: datetime
    order_external_id: str | None = None
    checkout_external_id: str | None = None
    decline_code: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    payment_method: str | None = None
    is_test: bool = False


@dataclass(frozen=True, slots=True)
class ShipmentObserved:
    external_id: str
    order_external_id: str
    status: ShipmentStatus
    occurred_at: datetime
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    location: str | None = None
    estimated_delivery_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OrderDeleted:
    """The platform deleted an order and said nothing else about it (WooCommerce's ``{"id": N}``).

    A deleted order can no longer be paid: it is cancelled, whenever its other deliveries arrive.
    """

    external_id: str


Fact = CheckoutObserved | OrderObserved | OrderDeleted | PaymentObserved | ShipmentObserved


@dataclass(frozen=True, slots=True)
class ParsedDelivery:
    """What a connector understood of one delivery.

    ``event_id`` is the platform's unique id for the event when it has one (used to drop
    duplicates); ``facts`` is empty for topics Reclaim has no use for.
    """

    topic: str
    facts: tuple[Fact, ...] = field(default=())
    event_id: str | None = None
