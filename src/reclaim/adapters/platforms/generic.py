"""The generic events API for custom sites: Reclaim's own JSON format.

The format is documented for integrators in ``docs/events-api.md``; this module is its
reference implementation. Authentication is a Bearer API key checked by the HTTP layer, so
:meth:`GenericConnector.verify` accepts everything. A request body is one event object or a
JSON array of up to :data:`MAX_BATCH` of them; :func:`split_batch` cuts it into one stored
delivery per event. Validation errors name the JSON path (``data.items[2].quantity``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import orjson

from reclaim.adapters import geo
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
    PaymentObserved,
    ShipmentObserved,
    ShipmentStatus,
)
from reclaim.errors import MalformedPayload

MAX_BATCH = 1000
ORDER_STATUS = {
    "pending": FinancialStatus.PENDING,
    "paid": FinancialStatus.PAID,
    "failed": FinancialStatus.FAILED,
    "refunded": FinancialStatus.REFUNDED,
    "cancelled": FinancialStatus.PENDING,  # with cancelled_at set
}


def split_batch(body: bytes) -> list[bytes]:
    """One event object or an array of at most 1000, as compact JSON bytes each."""
    data = c.load_json(body)
    if isinstance(data, dict):
        return [_compact(data, "")]
    if not isinstance(data, list):
        raise MalformedPayload("body must be an event object or an array of event objects")
    if not data:
        raise MalformedPayload("batch is empty")
    if len(data) > MAX_BATCH:
        raise MalformedPayload(f"batch has {len(data)} events; at most {MAX_BATCH} are allowed")
    for index, event in enumerate(data):
        if not isinstance(event, dict):
            raise c.malformed(f"[{index}]", "must be an event object")
    return [_compact(event, f"[{index}]") for index, event in enumerate(data)]


def _compact(event: dict[str, Any], path: str) -> bytes:
    # orjson reads up to 1024 levels but writes only 254: a body between the two is valid JSON
    # that no real event needs, so it is refused with its reason (and kept as a dead letter).
    try:
        return orjson.dumps(event)
    except orjson.JSONEncodeError as exc:
        raise c.malformed(path, f"cannot be stored: {exc}") from None


class GenericConnector:
    source = "generic"

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> None:
        """Nothing to check here: the API key is verified by the HTTP layer."""

    def topic(self, headers: Mapping[str, str]) -> str:
        return ""  # the event type is in the body

    def event_id(self, headers: Mapping[str, str]) -> str | None:
        return None  # the optional event id is in the body: see ParsedDelivery.event_id

    def shop(self, headers: Mapping[str, str]) -> str | None:
        return None

    def parse(
        self,
        *,
        topic: str,
        headers: Mapping[str, str],
        body: bytes,
        consent_meta_key: str | None = None,  # WooCommerce's alone: its orders' meta
    ) -> ParsedDelivery:
        event = c.load_json(body)
        if not isinstance(event, dict):
            raise MalformedPayload("body must be one event object (split batches first)")
        event_id = c.ident(event.get("id"), "id")
        kind = c.req_text(event.get("type"), "type", max_len=64)
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise c.malformed("type", f"must be one of {', '.join(sorted(_HANDLERS))}")
        occurred_at = c.timestamp(c.require(event, "occurred_at"), "occurred_at")
        data = c.obj(c.require(event, "data"), "data")
        return ParsedDelivery(
            topic=kind, facts=(handler(kind, data, occurred_at),), event_id=event_id
        )


def _checkout(kind: str, d: dict[str, Any], at: datetime) -> Fact:
    currency = c.currency(c.require(d, "currency", base="data"), "data.currency")
    created = c.opt_timestamp(d.get("created_at"), "data.created_at")
    quote = d.get("shipping_quote")
    return CheckoutObserved(
        external_id=c.req_ident(d.get("checkout_id"), "data.checkout_id"),
        contact=_contact(d),
        currency=currency,
        total=c.amount(c.require(d, "total", base="data"), "data.total"),
        created_at=created or at,
        updated_at=at,
        items=_items(d),
        completed_at=c.opt_timestamp(d.get("completed_at"), "data.completed_at"),
        order_external_id=c.ident(d.get("order_id"), "data.order_id"),
        recovery_url=c.url(d.get("recovery_url"), "data.recovery_url", strict=True),
        user_agent=c.text(d.get("user_agent"), "data.user_agent", max_len=1000),
        is_test=bool(c.flag(d.get("test"), "data.test")),
        shipping_quote=None if quote is None else c.amount(quote, "data.shipping_quote"),
        shipping_days=(
            None
            if d.get("shipping_days") is None
            else c.count(d.get("shipping_days"), "data.shipping_days")
        ),
        charges=_charges(d),
    )


def _order(kind: str, d: dict[str, Any], at: datetime) -> Fact:
    raw = c.text(d.get("status"), "data.status", max_len=32)
    if raw is None:
        if kind == "order.updated":
            raise c.malformed("data.status", "is required")
        raw = "paid" if kind == "order.paid" else "pending"
    raw = raw.lower()
    if raw not in ORDER_STATUS:
        raise c.malformed("data.status", f"must be one of {', '.join(ORDER_STATUS)}")
    if kind == "order.paid" and raw != "paid":
        raise c.malformed("data.status", "must be paid (or absent) for order.paid")
    status = ORDER_STATUS[raw]
    paid_at = c.opt_timestamp(d.get("paid_at"), "data.paid_at")
    if raw == "paid" and paid_at is None:
        paid_at = at
    cancelled_at = c.opt_timestamp(d.get("cancelled_at"), "data.cancelled_at")
    if (kind == "order.cancelled" or raw == "cancelled") and cancelled_at is None:
        cancelled_at = at
    currency = c.currency(c.require(d, "currency", base="data"), "data.currency")
    return OrderObserved(
        external_id=c.req_ident(d.get("order_id"), "data.order_id"),
        contact=_contact(d),
        currency=currency,
        total=c.amount(c.require(d, "total", base="data"), "data.total"),
        created_at=c.opt_timestamp(d.get("created_at"), "data.created_at") or at,
        updated_at=at,
        financial_status=status,
        items=_items(d),
        checkout_external_id=c.ident(d.get("checkout_id"), "data.checkout_id"),
        paid_at=paid_at,
        cancelled_at=cancelled_at,
        payment_method=c.text(d.get("payment_method"), "data.payment_method", max_len=100),
        user_agent=c.text(d.get("user_agent"), "data.user_agent", max_len=1000),
        is_test=bool(c.flag(d.get("test"), "data.test")),
        order_number=c.ident(d.get("order_number"), "data.order_number"),
        payment_url=c.url(d.get("payment_url"), "data.payment_url", strict=True),
        discount_codes=c.codes(d.get("coupon_codes"), "data.coupon_codes"),
        charges=_charges(d),
        payment_instructions=_instructions(d.get("payment_instructions")),
    )


def _charges(d: dict[str, Any]) -> Charges | None:
    """``shipping``, ``discount``, ``fees`` and ``tax`` (amounts in the order's currency, in
    the items' convention: with tax where ``taxes_included``); ``None`` when none is given."""
    amounts = {
        key: None if d.get(key) is None else c.amount(d[key], f"data.{key}")
        for key in ("shipping", "discount", "fees", "tax")
    }
    if all(v is None for v in amounts.values()):
        return None
    included = bool(c.flag(d.get("taxes_included"), "data.taxes_included"))
    return Charges(**amounts, tax_included=included)


def _instructions(value: Any) -> str | None:
    """What the customer needs to pay (bank details, a reference): text, lines allowed."""
    text = c.text(value, "data.payment_instructions", max_len=2000)
    if text is None:
        return None
    text = text.replace("\r\n", "\n")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text):
        raise c.malformed("data.payment_instructions", "must be text (line breaks are fine)")
    return text


def _payment(kind: str, d: dict[str, Any], at: datetime) -> Fact:
    payment_id = c.req_ident(d.get("payment_id"), "data.payment_id")
    order_id = c.ident(d.get("order_id"), "data.order_id")
    checkout_id = c.ident(d.get("checkout_id"), "data.checkout_id")
    currency = c.currency(c.require(d, "currency", base="data"), "data.currency")
    failed = kind == "payment.failed"
    return PaymentObserved(
        # One payment id may fail and later succeed: each outcome is its own attempt.
        external_id=f"{payment_id}:{'failed' if failed else 'succeeded'}",
        intent_id=c.ident(d.get("intent_id"), "data.intent_id")
        or order_id
        or checkout_id
        or payment_id,
        contact=_contact(d),
        amount=c.amount(c.require(d, "amount", base="data"), "data.amount"),
        currency=currency,
        succeeded=not failed,
        occurred_at=at,
        order_external_id=order_id,
        checkout_external_id=checkout_id,
        decline_code=c.text(d.get("decline_code"), "data.decline_code", max_len=100),
        failure_code=c.text(d.get("code"), "data.code", max_len=100),
        failure_message=c.text(d.get("message"), "data.message", max_len=500),
        payment_method=c.text(d.get("method"), "data.method", max_len=64),
        is_test=bool(c.flag(d.get("test"), "data.test")),
    )


def _shipment(kind: str, d: dict[str, Any], at: datetime) -> Fact:
    raw = c.req_text(d.get("status"), "data.status", max_len=32).lower()
    try:
        status = ShipmentStatus(raw)
    except ValueError:
        allowed = ", ".join(s.value for s in ShipmentStatus)
        raise c.malformed("data.status", f"must be one of {allowed}") from None
    return ShipmentObserved(
        external_id=c.req_ident(d.get("shipment_id"), "data.shipment_id"),
        order_external_id=c.req_ident(d.get("order_id"), "data.order_id"),
        status=status,
        occurred_at=at,
        carrier=c.text(d.get("carrier"), "data.carrier", max_len=100),
        tracking_number=c.text(d.get("tracking_number"), "data.tracking_number", max_len=100),
        tracking_url=c.url(d.get("tracking_url"), "data.tracking_url", strict=True),
        location=c.text(d.get("location"), "data.location", max_len=200),
        estimated_delivery_at=c.opt_timestamp(
            d.get("estimated_delivery_at"), "data.estimated_delivery_at"
        ),
    )


_HANDLERS: dict[str, Callable[[str, dict[str, Any], datetime], Fact]] = {
    "checkout.updated": _checkout,
    "order.created": _order,
    "order.updated": _order,
    "order.paid": _order,
    "order.cancelled": _order,
    "payment.failed": _payment,
    "payment.succeeded": _payment,
    "shipment.updated": _shipment,
}


def _contact(d: dict[str, Any]) -> Contact:
    locale = c.text(d.get("locale"), "data.locale", max_len=35)
    if locale is not None and geo.locale_for(None, locale) is None:
        raise c.malformed("data.locale", "must be a BCP-47 language tag such as de-DE")
    zone = c.text(d.get("timezone"), "data.timezone", max_len=64)
    if zone is not None:
        zone = geo.canonical_timezone(zone)
        if zone is None:
            raise c.malformed("data.timezone", "must be an IANA time zone such as Europe/Berlin")
    orders = d.get("orders_count")
    return c.contact(
        email=c.email(d.get("email"), "data.email", strict=True),
        phone=c.phone(d.get("phone"), "data.phone"),
        first_name=c.text(d.get("first_name"), "data.first_name", max_len=200),
        last_name=c.text(d.get("last_name"), "data.last_name", max_len=200),
        locale_hint=locale,
        country=c.country(d.get("country"), "data.country", strict=True),
        region=c.region(d.get("region"), "data.region"),
        timezone=zone,
        accepts_email_marketing=c.flag(d.get("accepts_marketing"), "data.accepts_marketing"),
        accepts_sms_marketing=c.flag(d.get("accepts_sms_marketing"), "data.accepts_sms_marketing"),
        customer_ref=c.ident(d.get("customer_id"), "data.customer_id"),
        orders_count=None if orders is None else c.count(orders, "data.orders_count"),
    )


def _items(d: dict[str, Any]) -> tuple[LineItem, ...]:
    items = []
    for i, raw in enumerate(c.array(d.get("items"), "data.items")):
        path = f"data.items[{i}]"
        line = c.obj(raw, path)
        items.append(
            LineItem(
                name=c.req_text(line.get("name"), f"{path}.name", max_len=500),
                quantity=c.count(line.get("quantity"), f"{path}.quantity", minimum=1),
                unit_price=c.amount(c.require(line, "price", base=path), f"{path}.price"),
                sku=c.text(line.get("sku"), f"{path}.sku", max_len=255),
                product_id=c.ident(line.get("product_id"), f"{path}.product_id"),
                variant_id=c.ident(line.get("variant_id"), f"{path}.variant_id"),
                image_url=c.url(line.get("image_url"), f"{path}.image_url", strict=True),
                url=c.url(line.get("url"), f"{path}.url", strict=True),
            )
        )
    return tuple(items)
