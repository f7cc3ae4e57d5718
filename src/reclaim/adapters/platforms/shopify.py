"""Shopify webhooks: checkouts, orders and fulfillments (REST resource payloads).

Signature: ``X-Shopify-Hmac-Sha256`` = base64(HMAC-SHA256(secret, raw body)). Topic in
``X-Shopify-Topic``. Duplicate key: ``X-Shopify-Event-Id`` (the same for retries of one
event), falling back to ``X-Shopify-Webhook-Id``; prefixed with the topic because one merchant
action can produce deliveries on several topics that share an event id.

Choices worth knowing:

- money is taken in the customer's (presentment) currency: checkouts' ``total_price`` is in
  ``presentment_currency``; for orders ``total_price_set.presentment_money`` is preferred over
  the shop-currency ``total_price``, so a checkout and its order compare like for like;
- ``paid_at``: ``orders/paid`` -> ``updated_at`` (the moment it became paid); an order that is
  already paid on ``orders/create`` -> ``processed_at``; any other delivery of a paid,
  partially paid or (partially) refunded order -> ``updated_at``, an upper bound;
- the contact's country / region is the shipping address's, else the billing address's;
- unknown ``financial_status`` or ``shipment_status`` values are malformed (dead-lettered,
  visible and replayable) rather than guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from reclaim.adapters.platforms import common as c
from reclaim.domain.events import (
    Charges,
    CheckoutObserved,
    Contact,
    Fact,
    FinancialStatus,
    LineItem,
    OrderObserved,
    ParsedDelivery,
    ShipmentObserved,
    ShipmentStatus,
)

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
CHECKOUT_TOPICS = frozenset({"checkouts/create", "checkouts/update"})
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
FULFILLMENT_EVENT_TOPICS = frozenset({"fulfillment_events/create"})

FINANCIAL_STATUS = {
    "pending": FinancialStatus.PENDING,
    "authorized": FinancialStatus.PENDING,
    "partially_paid": FinancialStatus.PAID,
    "paid": FinancialStatus.PAID,
    "partially_refunded": FinancialStatus.REFUNDED,
    "refunded": FinancialStatus.REFUNDED,
    "voided": FinancialStatus.VOIDED,
    "expired": FinancialStatus.VOIDED,  # authorisation lapsed: nothing left to collect
}
_PAID_LIKE = frozenset({FinancialStatus.PAID, FinancialStatus.REFUNDED})

SHIPMENT_STATUS = {
    "confirmed": ShipmentStatus.LABEL_CREATED,
    "label_printed": ShipmentStatus.LABEL_CREATED,
    "label_purchased": ShipmentStatus.LABEL_CREATED,
    "submitted": ShipmentStatus.LABEL_CREATED,
    "carrier_picked_up": ShipmentStatus.IN_TRANSIT,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "delayed": ShipmentStatus.EXCEPTION,
    "attempted_delivery": ShipmentStatus.EXCEPTION,
    "failure": ShipmentStatus.EXCEPTION,
    "not_delivered": ShipmentStatus.EXCEPTION,
    "buyer_action_required": ShipmentStatus.EXCEPTION,
    "out_for_delivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "ready_for_pickup": ShipmentStatus.OUT_FOR_DELIVERY,
    "ready_for_recipient_pickup": ShipmentStatus.OUT_FOR_DELIVERY,
    "delivered": ShipmentStatus.DELIVERED,
    "picked_up": ShipmentStatus.DELIVERED,
    "returning_to_sender": ShipmentStatus.RETURNED,
}
# A fulfillment without a carrier status yet: what its own ``status`` says.
_FULFILLMENT_STATUS = {
    "pending": ShipmentStatus.LABEL_CREATED,
    "open": ShipmentStatus.LABEL_CREATED,
    "success": ShipmentStatus.LABEL_CREATED,
    "error": ShipmentStatus.EXCEPTION,
    "failure": ShipmentStatus.EXCEPTION,
}

# Shopify's marketing consent states as Reclaim's three values: True (opted in), False
# (declined or unsubscribed: never marketed to), None (never asked or not confirmed: opt-in
# countries need an opt-in, opt-out countries such as the US allow marketing email; SPEC S5).
# "not_subscribed" is Shopify's "has never subscribed", not a refusal.
_CONSENT: dict[str, bool | None] = {
    "subscribed": True,
    "not_subscribed": None,
    "pending": None,  # a double opt-in not yet confirmed
    "unsubscribed": False,
    "redacted": False,  # the customer's data was erased
    "invalid": False,
}


class ShopifyConnector:
    source = "shopify"

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> None:
        c.verify_base64_hmac(
            headers=headers, body=body, secret=secret, header_name=SIGNATURE_HEADER
        )

    def topic(self, headers: Mapping[str, str]) -> str:
        return (c.header(headers, "X-Shopify-Topic") or "").lower()

    def event_id(self, headers: Mapping[str, str]) -> str | None:
        key = c.header(headers, "X-Shopify-Event-Id") or c.header(headers, "X-Shopify-Webhook-Id")
        if key is None:
            return None
        return f"{self.topic(headers)}:{key}"[: c.MAX_ID]

    def shop(self, headers: Mapping[str, str]) -> str | None:
        shop = c.header(headers, "X-Shopify-Shop-Domain")
        return None if shop is None else shop.lower()[: c.MAX_ID]

    def parse(
        self,
        *,
        topic: str,
        headers: Mapping[str, str],
        body: bytes,
        consent_meta_key: str | None = None,  # WooCommerce's alone: its orders' meta
    ) -> ParsedDelivery:
        topic = (topic or self.topic(headers)).lower()
        event_id = self.event_id(headers)
        if topic in CHECKOUT_TOPICS:
            facts: tuple[Fact, ...] = (parse_checkout(c.load_object(body)),)
        elif topic in ORDER_TOPICS:
            facts = (parse_order(c.load_object(body), topic=topic),)
        elif topic in FULFILLMENT_TOPICS:
            shipment = parse_fulfillment(c.load_object(body))
            facts = () if shipment is None else (shipment,)
        elif topic in FULFILLMENT_EVENT_TOPICS:
            facts = (parse_fulfillment_event(c.load_object(body)),)
        elif not topic:
            raise c.malformed("", "missing X-Shopify-Topic header")
        else:
            facts = ()
        return ParsedDelivery(topic=topic, facts=facts, event_id=event_id)


def parse_checkout(p: dict[str, Any]) -> CheckoutObserved:
    external_id = c.ident(p.get("token"), "token") or c.req_ident(p.get("id"), "id")
    if p.get("presentment_currency") is not None:
        currency = c.currency(p["presentment_currency"], "presentment_currency")
    else:
        currency = c.currency(c.require(p, "currency"), "currency")
    return CheckoutObserved(
        external_id=external_id,
        contact=_contact(p),
        currency=currency,
        total=c.amount(c.require(p, "total_price"), "total_price"),
        created_at=c.timestamp(c.require(p, "created_at"), "created_at"),
        updated_at=c.timestamp(c.require(p, "updated_at"), "updated_at"),
        items=_items(p),
        completed_at=c.opt_timestamp(p.get("completed_at"), "completed_at"),
        recovery_url=c.url(p.get("abandoned_checkout_url"), "abandoned_checkout_url"),
        user_agent=_user_agent(p),
        shipping_quote=_shipping_quote(p),
        charges=_charges(p, currency),
    )


def parse_order(p: dict[str, Any], *, topic: str) -> OrderObserved:
    external_id = c.req_ident(p.get("id"), "id")
    raw_status = c.text(c.require(p, "financial_status"), "financial_status")
    status = FINANCIAL_STATUS.get((raw_status or "").lower())
    if status is None:
        raise c.malformed("financial_status", f"has unknown value {raw_status!r}")
    created_at = c.timestamp(c.require(p, "created_at"), "created_at")
    updated_at = c.timestamp(c.require(p, "updated_at"), "updated_at")
    paid_at = None
    if status in _PAID_LIKE:
        processed = c.opt_timestamp(p.get("processed_at"), "processed_at")
        paid_at = processed if topic == "orders/create" and processed else updated_at
    cancelled_at = c.opt_timestamp(p.get("cancelled_at"), "cancelled_at")
    if topic == "orders/cancelled" and cancelled_at is None:
        cancelled_at = updated_at
    currency, total = _order_total(p)
    gateways = [
        c.text(g, f"payment_gateway_names[{i}]", max_len=100)
        for i, g in enumerate(c.array(p.get("payment_gateway_names"), "payment_gateway_names"))
    ]
    number = c.text(p.get("name"), "name", max_len=100) or c.ident(
        p.get("order_number"), "order_number"
    )
    return OrderObserved(
        external_id=external_id,
        contact=_contact(p),
        currency=currency,
        total=total,
        created_at=created_at,
        updated_at=updated_at,
        financial_status=status,
        items=_items(p),
        checkout_external_id=c.ident(p.get("checkout_token"), "checkout_token"),
        paid_at=paid_at,
        cancelled_at=cancelled_at,
        payment_method=", ".join(g for g in gateways if g) or None,
        user_agent=_user_agent(p),
        is_test=bool(c.flag(p.get("test"), "test")),
        order_number=number,
        payment_url=c.url(p.get("order_status_url"), "order_status_url"),
        discount_codes=c.codes(p.get("discount_codes"), "discount_codes", key="code"),
        charges=_charges(p, currency),
    )


def parse_fulfillment(p: dict[str, Any]) -> ShipmentObserved | None:
    """``None`` for a cancelled fulfillment: there is no parcel to follow."""
    raw = c.text(p.get("shipment_status"), "shipment_status", max_len=64)
    if raw is not None:
        status = SHIPMENT_STATUS.get(raw.lower())
        if status is None:
            raise c.malformed("shipment_status", f"has unknown value {raw!r}")
    else:
        own = (c.text(p.get("status"), "status", max_len=64) or "").lower()
        if own in {"cancelled", "canceled"}:
            return None
        status = _FULFILLMENT_STATUS.get(own, ShipmentStatus.LABEL_CREATED)
    numbers = c.array(p.get("tracking_numbers"), "tracking_numbers")
    urls = c.array(p.get("tracking_urls"), "tracking_urls")
    tracking_number = c.text(p.get("tracking_number"), "tracking_number", max_len=100) or (
        c.text(numbers[0], "tracking_numbers[0]", max_len=100) if numbers else None
    )
    tracking_url = c.url(p.get("tracking_url"), "tracking_url") or (
        c.url(urls[0], "tracking_urls[0]") if urls else None
    )
    return ShipmentObserved(
        external_id=c.req_ident(p.get("id"), "id"),
        order_external_id=c.req_ident(p.get("order_id"), "order_id"),
        status=status,
        occurred_at=c.timestamp(
            p.get("updated_at") or c.require(p, "created_at"),
            "updated_at" if p.get("updated_at") else "created_at",
        ),
        carrier=c.text(p.get("tracking_company"), "tracking_company", max_len=100),
        tracking_number=tracking_number,
        tracking_url=tracking_url,
    )


def parse_fulfillment_event(p: dict[str, Any]) -> ShipmentObserved:
    raw = c.text(c.require(p, "status"), "status", max_len=64) or ""
    status = SHIPMENT_STATUS.get(raw.lower())
    if status is None:
        raise c.malformed("status", f"has unknown value {raw!r}")
    parts = [c.text(p.get(k), k, max_len=100) for k in ("city", "province", "country")]
    when = p.get("happened_at") or c.require(p, "created_at")
    return ShipmentObserved(
        external_id=c.req_ident(p.get("fulfillment_id"), "fulfillment_id"),
        order_external_id=c.req_ident(p.get("order_id"), "order_id"),
        status=status,
        occurred_at=c.timestamp(when, "happened_at" if p.get("happened_at") else "created_at"),
        location=", ".join(x for x in parts if x) or None,
        estimated_delivery_at=c.opt_timestamp(
            p.get("estimated_delivery_at"), "estimated_delivery_at"
        ),
    )


# -- pieces -------------------------------------------------------------------------------------


def _contact(p: dict[str, Any]) -> Contact:
    customer = c.opt_obj(p, "customer") or {}
    shipping = c.opt_obj(p, "shipping_address") or {}
    billing = c.opt_obj(p, "billing_address") or {}
    address, where = (shipping, "shipping_address") if shipping else (billing, "billing_address")
    first = c.text(customer.get("first_name"), "customer.first_name", max_len=200)
    last = c.text(customer.get("last_name"), "customer.last_name", max_len=200)
    if first is None and last is None:
        first = c.text(address.get("first_name"), f"{where}.first_name", max_len=200)
        last = c.text(address.get("last_name"), f"{where}.last_name", max_len=200)
    phone = None
    for value, path in (
        (p.get("phone"), "phone"),
        (customer.get("phone"), "customer.phone"),
        (shipping.get("phone"), "shipping_address.phone"),
        (billing.get("phone"), "billing_address.phone"),
    ):
        if phone := c.phone(value, path):
            break
    email = (
        c.email(p.get("email"), "email")
        or c.email(p.get("contact_email"), "contact_email")
        or c.email(customer.get("email"), "customer.email")
    )
    count = customer.get("orders_count")
    return c.contact(
        email=email,
        phone=phone,
        first_name=first,
        last_name=last,
        locale_hint=c.text(p.get("customer_locale"), "customer_locale", max_len=35),
        country=c.country(address.get("country_code"), f"{where}.country_code"),
        region=c.region(address.get("province_code"), f"{where}.province_code"),
        accepts_email_marketing=_email_consent(p, customer),
        accepts_sms_marketing=_sms_consent(p, customer),
        customer_ref=c.ident(customer.get("id"), "customer.id"),
        orders_count=None if count is None else c.count(count, "customer.orders_count"),
    )


def _email_consent(p: dict[str, Any], customer: dict[str, Any]) -> bool | None:
    consent = c.opt_obj(customer, "email_marketing_consent", "customer")
    if consent is not None:
        state = c.text(consent.get("state"), "customer.email_marketing_consent.state")
        if state is not None and state.lower() in _CONSENT:
            return _CONSENT[state.lower()]
    accepts = c.flag(customer.get("accepts_marketing"), "customer.accepts_marketing")
    if accepts is not None:  # the legacy field: false may be an unsubscribe, so it is one
        return accepts
    return _ticked(c.flag(p.get("buyer_accepts_marketing"), "buyer_accepts_marketing"))


def _sms_consent(p: dict[str, Any], customer: dict[str, Any]) -> bool | None:
    consent = c.opt_obj(customer, "sms_marketing_consent", "customer")
    if consent is not None:
        state = c.text(consent.get("state"), "customer.sms_marketing_consent.state")
        if state is not None and state.lower() in _CONSENT:
            return _CONSENT[state.lower()]
    return _ticked(c.flag(p.get("buyer_accepts_sms_marketing"), "buyer_accepts_sms_marketing"))


def _ticked(box: bool | None) -> bool | None:
    """The checkout's marketing box: ticked is an opt-in; left unticked is not a refusal."""
    return True if box else None


def _items(p: dict[str, Any]) -> tuple[LineItem, ...]:
    items = []
    for i, raw in enumerate(c.array(p.get("line_items"), "line_items")):
        path = f"line_items[{i}]"
        line = c.obj(raw, path)
        presentment = c.dig(line, "price_set.presentment_money.amount")
        price_path = (
            f"{path}.price_set.presentment_money.amount" if presentment else f"{path}.price"
        )
        items.append(
            LineItem(
                name=c.req_text(line.get("title"), f"{path}.title", max_len=500),
                quantity=c.count(
                    c.require(line, "quantity", base=path), f"{path}.quantity", minimum=1
                ),
                unit_price=c.amount(presentment or c.require(line, "price", base=path), price_path),
                sku=c.text(line.get("sku"), f"{path}.sku", max_len=255),
                product_id=c.ident(line.get("product_id"), f"{path}.product_id"),
                variant_id=c.ident(line.get("variant_id"), f"{path}.variant_id"),
            )
        )
    return tuple(items)


def _order_total(p: dict[str, Any]) -> tuple[str, Decimal]:
    money = c.dig(p, "total_price_set.presentment_money")
    if isinstance(money, dict) and money.get("amount") is not None:
        base = "total_price_set.presentment_money"
        return (
            c.currency(money.get("currency_code"), f"{base}.currency_code"),
            c.amount(money["amount"], f"{base}.amount"),
        )
    return (
        c.currency(c.require(p, "currency"), "currency"),
        c.amount(c.require(p, "total_price"), "total_price"),
    )


def _charges(p: dict[str, Any], currency: str) -> Charges | None:
    """Shipping, discounts and tax in ``currency`` (the total's): each ``*_set`` amount in
    that currency, else the plain field where the shop's currency is the same. Line prices,
    shipping and discounts include tax where ``taxes_included``. ``None``: none stated."""
    shop_currency = c.text(p.get("currency"), "currency", max_len=3)
    same = shop_currency is None or shop_currency.upper() == currency

    def money(key: str, base: dict[str, Any] = p, path: str = "") -> Decimal | None:
        for side in ("presentment_money", "shop_money"):
            amount = c.dig(base, f"{key}_set.{side}")
            if isinstance(amount, dict) and amount.get("amount") is not None:
                code = c.text(amount.get("currency_code"), f"{path}{key}_set.{side}.currency_code")
                if (code or "").upper() == currency:
                    return c.amount(amount["amount"], f"{path}{key}_set.{side}.amount")
        plain = base.get(key)
        return c.amount(plain, f"{path}{key}") if same and plain not in (None, "") else None

    shipping = money("total_shipping_price")
    if shipping is None:
        for i, raw in enumerate(c.array(p.get("shipping_lines"), "shipping_lines")):
            amount = money("price", c.obj(raw, f"shipping_lines[{i}]"), f"shipping_lines[{i}].")
            if amount is None:  # a line in another currency: the sum is not known
                shipping = None
                break
            shipping = (shipping or Decimal(0)) + amount
    discount, tax = money("total_discounts"), money("total_tax")
    if shipping is None and discount is None and tax is None:
        return None
    included = bool(c.flag(p.get("taxes_included"), "taxes_included"))
    return Charges(shipping=shipping, discount=discount, tax=tax, tax_included=included)


def _user_agent(p: dict[str, Any]) -> str | None:
    details = c.opt_obj(p, "client_details") or {}
    return c.text(details.get("user_agent"), "client_details.user_agent", max_len=1000) or c.text(
        p.get("user_agent"), "user_agent", max_len=1000
    )


def _shipping_quote(p: dict[str, Any]) -> Decimal | None:
    lines = c.array(p.get("shipping_lines"), "shipping_lines")
    if not lines:
        return None
    total = Decimal(0)
    for i, raw in enumerate(lines):
        line = c.obj(raw, f"shipping_lines[{i}]")
        total += c.amount(
            c.require(line, "price", base=f"shipping_lines[{i}]"), f"shipping_lines[{i}].price"
        )
    return total
