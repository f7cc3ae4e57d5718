"""WooCommerce webhooks: orders as the WP REST API v3 serialises them.

Signature: ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(secret, raw body)); topic in
``X-WC-Webhook-Topic``. ``X-WC-Webhook-Delivery-ID`` is a hash of webhook id and time, not an
event id, so :meth:`WooCommerceConnector.event_id` is ``None`` and duplicates are caught by the
body digest, per topic. WooCommerce sends the order's *current* state, not the state at the
event (the same bytes as ``order.created`` and ``order.updated`` are two deliveries).

When a webhook is saved, WooCommerce POSTs an unsigned form body ``webhook_id=NN`` with no
``X-WC-*`` headers; it is accepted as topic ``ping`` with no facts (it carries no data).

Status mapping (``status``):

- ``pending``, ``on-hold``: order, PENDING;
- ``failed``: order, FAILED, plus a failed :class:`PaymentObserved`;
- ``processing``, ``completed``: order, PAID, ``paid_at`` = date paid, else completed, else
  modified;
- ``cancelled``, ``trash``: order, PENDING, ``cancelled_at`` = date modified;
- ``refunded``: order, REFUNDED, ``paid_at`` kept from ``date_paid_gmt``;
- ``checkout-draft``: a :class:`CheckoutObserved` ``wc-draft-<id>`` (a block-checkout cart);
- any other (plugin) status: PAID when ``date_paid_gmt`` is set, otherwise malformed.

``order.deleted`` bodies are only ``{"id": N}`` (the order was moved to the trash): with no
date, currency or total there is no valid :class:`OrderObserved` to build, and no fact type
says "deleted", so such a delivery yields no facts. A full order body on ``order.deleted`` (a
filtered payload) is read as cancelled at its modification time.
Orders placed through the block checkout (``created_via == "store-api"``) link back to their
``wc-draft-<id>`` checkout.

Marketing consent (docs/consent.md): WooCommerce itself records none. Consent plugins keep
their checkbox in the order's ``meta_data`` (:data:`CONSENT_META`), and a store may name its own
checkout field's meta key (the ``consent_meta_key`` setting, passed to :meth:`parse`). A
ticked box is an opt-in; an unticked one is no statement (``None``: the law of the
customer's country decides), never a refusal; only a value that says so (``unsubscribed``,
``opt-out`` …) is one.

Money as the shop shows it: a line is its ``subtotal`` (before order discounts), with its
``subtotal_tax`` where ``prices_include_tax``; the order's shipping, discount and fee lines
likewise, and ``total_tax`` as the tax (included or added), in :class:`Charges`.
"""

from __future__ import annotations

import re
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
    OrderDeleted,
    OrderObserved,
    ParsedDelivery,
    PaymentObserved,
)

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored"})
PING = re.compile(rb"\s*webhook_id=\d{1,20}\s*")

STATUS = {
    "pending": FinancialStatus.PENDING,
    "on-hold": FinancialStatus.PENDING,
    "failed": FinancialStatus.FAILED,
    "processing": FinancialStatus.PAID,
    "completed": FinancialStatus.PAID,
    "cancelled": FinancialStatus.PENDING,
    "trash": FinancialStatus.PENDING,
    "refunded": FinancialStatus.REFUNDED,
}
_CANCELLED = frozenset({"cancelled", "trash"})
DRAFT = "checkout-draft"

# Order meta that consent plugins write at checkout, as each writes it:
# - Mailchimp for WordPress (MC4WP), its WooCommerce checkbox: ``_mc4wp_optin``, "1" when
#   ticked, "" when not (``update_post_meta(..., $this->checkbox_was_checked())``);
# - Mailchimp for WooCommerce: ``mailchimp_woocommerce_is_subscribed``, 1 or 0 (the classic
#   checkout's posted box), true or false (the block checkout's).
# MailPoet and AutomateWoo keep their checkout opt-in in their own subscriber tables, not on
# the order: an order webhook cannot carry it.
CONSENT_META = ("_mc4wp_optin", "mailchimp_woocommerce_is_subscribed")
_YES = frozenset({"1", "yes", "y", "true", "on", "subscribed", "opt-in", "opt_in", "optin"})
_NO = frozenset(
    {"unsubscribed", "opt-out", "opt_out", "optout", "opted_out", "declined", "refused"}
)
_META_READ = 500  # meta entries looked at (a plugin may add thousands)


def is_ping(body: bytes) -> bool:
    return isinstance(body, bytes) and PING.fullmatch(body) is not None


class WooCommerceConnector:
    source = "woocommerce"

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> None:
        if c.header(headers, SIGNATURE_HEADER) is None and is_ping(body):
            return  # WooCommerce never signs its creation ping; it carries nothing to trust
        c.verify_base64_hmac(
            headers=headers, body=body, secret=secret, header_name=SIGNATURE_HEADER
        )

    def topic(self, headers: Mapping[str, str]) -> str:
        return (c.header(headers, "X-WC-Webhook-Topic") or "").lower()

    def event_id(self, headers: Mapping[str, str]) -> str | None:
        return None  # X-WC-Webhook-Delivery-ID changes on every send: not a duplicate key

    def shop(self, headers: Mapping[str, str]) -> str | None:
        return None

    def parse(
        self,
        *,
        topic: str,
        headers: Mapping[str, str],
        body: bytes,
        consent_meta_key: str | None = None,
    ) -> ParsedDelivery:
        """``consent_meta_key``: the store's own checkout field holding marketing consent."""
        topic = (topic or self.topic(headers)).lower()
        if is_ping(body) and topic in {"", "ping"}:
            return ParsedDelivery(topic="ping")
        if not topic or topic == "ping":
            raise c.malformed("", "missing X-WC-Webhook-Topic header")
        if topic not in ORDER_TOPICS:
            return ParsedDelivery(topic=topic)
        facts = parse_order(c.load_object(body), topic=topic, consent_meta_key=consent_meta_key)
        return ParsedDelivery(topic=topic, facts=facts)


def parse_order(
    p: dict[str, Any], *, topic: str, consent_meta_key: str | None = None
) -> tuple[Fact, ...]:
    if isinstance(p.get("order"), dict):
        raise c.malformed(
            "order", "is a legacy API payload; set the webhook's API version to WP REST API v3"
        )
    order_id = c.req_ident(p.get("id"), "id")
    if topic == "order.deleted" and p.get("status") is None:
        return (OrderDeleted(external_id=order_id),)  # only {"id": N}: it can't be paid now
    raw_status = c.req_text(p.get("status"), "status", max_len=64).lower()
    raw_status = raw_status.removeprefix("wc-")
    created_at = c.timestamp(
        c.require(p, "date_created_gmt"), "date_created_gmt", naive_is_utc=True
    )
    updated_at = c.timestamp(
        c.require(p, "date_modified_gmt"), "date_modified_gmt", naive_is_utc=True
    )
    contact = _contact(p, consent_meta_key)
    currency = c.currency(c.require(p, "currency"), "currency")
    total = c.amount(c.require(p, "total"), "total")
    included = bool(c.flag(p.get("prices_include_tax"), "prices_include_tax"))
    items = _items(p, included=included)
    user_agent = c.text(p.get("customer_user_agent"), "customer_user_agent", max_len=1000)
    payment_url = c.url(p.get("payment_url"), "payment_url")

    if raw_status == DRAFT and topic == "order.deleted":
        return ()  # a cart thrown away by the shop itself: nothing to recover
    if raw_status == DRAFT:
        shipping = p.get("shipping_total")
        return (
            CheckoutObserved(
                external_id=f"wc-draft-{order_id}",
                contact=contact,
                currency=currency,
                total=total,
                created_at=created_at,
                updated_at=updated_at,
                items=items,
                recovery_url=payment_url,
                user_agent=user_agent,
                shipping_quote=None if shipping is None else c.amount(shipping, "shipping_total"),
                charges=_charges(p, included=included),
            ),
        )

    date_paid = c.opt_timestamp(p.get("date_paid_gmt"), "date_paid_gmt", naive_is_utc=True)
    date_completed = c.opt_timestamp(
        p.get("date_completed_gmt"), "date_completed_gmt", naive_is_utc=True
    )
    status = STATUS.get(raw_status)
    if status is None:
        if date_paid is None:
            raise c.malformed("status", f"has unknown value {raw_status!r} and no date_paid_gmt")
        status = FinancialStatus.PAID
    paid_at = None
    if status is FinancialStatus.PAID:
        paid_at = date_paid or date_completed or updated_at
    elif status is FinancialStatus.REFUNDED:
        paid_at = date_paid
    cancelled_at = updated_at if raw_status in _CANCELLED or topic == "order.deleted" else None
    method = c.text(p.get("payment_method"), "payment_method", max_len=100)
    created_via = c.text(p.get("created_via"), "created_via", max_len=64)
    order = OrderObserved(
        external_id=order_id,
        contact=contact,
        currency=currency,
        total=total,
        created_at=created_at,
        updated_at=updated_at,
        financial_status=status,
        items=items,
        checkout_external_id=f"wc-draft-{order_id}" if created_via == "store-api" else None,
        paid_at=paid_at,
        cancelled_at=cancelled_at,
        payment_method=method,
        user_agent=user_agent,
        order_number=c.ident(p.get("number"), "number"),
        payment_url=payment_url,
        discount_codes=c.codes(p.get("coupon_lines"), "coupon_lines", key="code"),
        charges=_charges(p, included=included),
        payment_title=c.text(p.get("payment_method_title"), "payment_method_title", max_len=200),
    )
    if status is not FinancialStatus.FAILED:
        return (order,)
    failed = PaymentObserved(
        external_id=f"wc-order-{order_id}-failed-{updated_at:%Y-%m-%dT%H:%M:%S}",
        intent_id=f"wc-order-{order_id}",
        contact=contact,
        amount=total,
        currency=currency,
        succeeded=False,
        occurred_at=updated_at,
        order_external_id=order_id,
        failure_code="failed",
        payment_method=method,
    )
    return (order, failed)


def _contact(p: dict[str, Any], consent_meta_key: str | None = None) -> Contact:
    billing = c.opt_obj(p, "billing") or {}
    shipping = c.opt_obj(p, "shipping") or {}
    country = c.country(billing.get("country"), "billing.country")
    region = c.region(billing.get("state"), "billing.state")
    if country is None:
        country = c.country(shipping.get("country"), "shipping.country")
        region = c.region(shipping.get("state"), "shipping.state")
    customer_id = c.ident(p.get("customer_id"), "customer_id")
    return c.contact(
        email=c.email(billing.get("email"), "billing.email"),
        phone=c.phone(billing.get("phone"), "billing.phone")
        or c.phone(shipping.get("phone"), "shipping.phone"),
        first_name=c.text(billing.get("first_name"), "billing.first_name", max_len=200),
        last_name=c.text(billing.get("last_name"), "billing.last_name", max_len=200),
        locale_hint=_language_meta(p),
        country=country,
        region=region,
        customer_ref=None if customer_id in {None, "0"} else customer_id,
        accepts_email_marketing=email_consent(p, consent_meta_key),
    )


def email_consent(p: dict[str, Any], consent_meta_key: str | None = None) -> bool | None:
    """The customer's marketing consent as the order's meta states it: the store's own field
    first, then the plugins' (:data:`CONSENT_META`); the first that says yes or no decides."""
    meta = _meta(p)
    keys = ((consent_meta_key,) if consent_meta_key else ()) + CONSENT_META
    for key in keys:
        said = _said(meta.get(key))
        if said is not None:
            return said
    return None


def _said(value: Any) -> bool | None:
    """A checkbox's value: True (ticked), False (an explicit opt-out), None (unticked, empty,
    anything else: no statement)."""
    if isinstance(value, bool):
        return True if value else None
    if isinstance(value, int | float):
        return True if value == 1 else None
    if not isinstance(value, str):
        return None
    word = value.strip().lower()
    if word in _YES:
        return True
    return False if word in _NO else None


def _meta(p: dict[str, Any]) -> dict[str, Any]:
    """The order's ``meta_data`` as key -> value (the first of a repeated key)."""
    found: dict[str, Any] = {}
    meta = p.get("meta_data")
    if not isinstance(meta, list):
        return found
    for entry in meta[:_META_READ]:
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            found.setdefault(entry["key"], entry.get("value"))
    return found


def _language_meta(p: dict[str, Any]) -> str | None:
    """WPML stores the language the order was placed in as ``wpml_language`` meta."""
    meta = p.get("meta_data")
    if not isinstance(meta, list):
        return None
    for entry in meta[:500]:
        if isinstance(entry, dict) and entry.get("key") == "wpml_language":
            value = entry.get("value")
            if not isinstance(value, str):
                return None
            return value.strip()[:35] or None
    return None


def _charges(p: dict[str, Any], *, included: bool) -> Charges | None:
    """Shipping, discount, fees and tax as the order states them, in the lines' convention
    (with tax where the shop's prices include it); ``None`` when it states none of them."""

    def money(key: str, base: dict[str, Any] = p, path: str = "") -> Decimal | None:
        value = base.get(key)
        return None if value in (None, "") else _signed(value, f"{path}{key}")

    def gross(net: Decimal | None, tax: Decimal | None) -> Decimal | None:
        if net is None or not included:
            return net
        return net + (tax or 0)

    shipping = gross(money("shipping_total"), money("shipping_tax"))
    discount = gross(money("discount_total"), money("discount_tax"))
    tax = money("total_tax")
    fees = None
    for i, raw in enumerate(c.array(p.get("fee_lines"), "fee_lines")):
        line = c.obj(raw, f"fee_lines[{i}]")
        path = f"fee_lines[{i}]."
        amount = gross(money("total", line, path), money("total_tax", line, path))
        fees = (fees or Decimal(0)) + (amount or 0)
    if fees is not None and fees < 0:  # a negative fee is a discount by another name
        discount, fees = (discount or Decimal(0)) - fees, None
    if all(x is None for x in (shipping, discount, tax, fees)):
        return None
    return Charges(
        shipping=shipping,
        discount=discount,
        fees=fees,
        tax=tax,
        tax_included=included,
    )


def _signed(value: Any, path: str) -> Decimal:
    """An amount that may be negative (a fee line used as a discount)."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return -c.amount(value.strip()[1:], path)
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return -c.amount(-value, path)
    return c.amount(value, path)


def _items(p: dict[str, Any], *, included: bool) -> tuple[LineItem, ...]:
    """The lines as the shop shows them: ``subtotal`` (before order discounts), with its
    ``subtotal_tax`` where prices include tax. Without a subtotal, ``price`` (or ``total``)
    per unit, as older payloads carry."""
    items = []
    for i, raw in enumerate(c.array(p.get("line_items"), "line_items")):
        path = f"line_items[{i}]"
        line = c.obj(raw, path)
        quantity = c.count(line.get("quantity"), f"{path}.quantity", minimum=1)
        line_total = None
        if line.get("subtotal") not in (None, ""):
            line_total = c.amount(line["subtotal"], f"{path}.subtotal")
            tax = line.get("subtotal_tax")
            if included and tax not in (None, ""):
                line_total += c.amount(tax, f"{path}.subtotal_tax")
            price = c.amount(line_total / quantity, f"{path}.subtotal")
        elif line.get("price") is not None:
            price = c.amount(line["price"], f"{path}.price")
        else:
            price = c.amount(
                c.amount(c.require(line, "total", base=path), f"{path}.total") / quantity,
                f"{path}.total",
            )
        product = c.ident(line.get("product_id"), f"{path}.product_id")
        variation = c.ident(line.get("variation_id"), f"{path}.variation_id")
        image = c.opt_obj(line, "image", path) or {}
        items.append(
            LineItem(
                name=c.req_text(line.get("name"), f"{path}.name", max_len=500),
                quantity=quantity,
                unit_price=price,
                sku=c.text(line.get("sku"), f"{path}.sku", max_len=255),
                product_id=None if product == "0" else product,
                variant_id=None if variation == "0" else variation,
                image_url=c.url(image.get("src"), f"{path}.image.src"),
                line_total=line_total,
            )
        )
    return tuple(items)
