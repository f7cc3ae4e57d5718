"""Stripe events: failed / succeeded PaymentIntents, expired and completed Checkout Sessions.

Signature: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...][,v0=...]`` where each ``v1`` is
hex(HMAC-SHA256(secret, f"{t}.{body}")); any matching ``v1`` passes, and ``t`` must lie within
``tolerance`` seconds (default 300) of ``now``. The topic is the event's ``type`` and the
duplicate key its ``id`` (``evt_...``), both read from the body.

Conventions:

- a PaymentIntent is linked to the purchase through its ``metadata``: ``order_id`` (the
  platform's order id, as the WooCommerce Stripe gateway already sets it) and/or
  ``checkout_id`` (the checkout's external id);
- the attempt id (``PaymentObserved.external_id``) of a failure is the failed charge
  (``last_payment_error.charge``), else ``"<pi id>:<event id>"``: the PI's ``latest_charge``
  can be a *previous* attempt's charge when the latest failure created none (3-D Secure);
  a success uses ``latest_charge`` (or the legacy ``charges.data[0].id``);
- the contact's country is the billing address's, else the card's issuing country;
- a ``checkout.session.expired`` of a ``setup``-mode session (no money) yields no facts;
- a ``checkout.session.completed`` completes its session (and, through ``recovered_from``,
  the expired session whose recovery link made it), and names the promotion codes
  used (``discounts[].promotion_code``: an id, or an expanded object with its ``code``) so
  Reclaim's own coupons are tracked as redeemed (SPEC S6); one whose payment is still pending
  (``payment_status: unpaid``, a delayed method) completes it only with its
  ``checkout.session.async_payment_succeeded``;
  Stripe gives one name field, split at the first space into first / last name.
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
    Fact,
    LineItem,
    ParsedDelivery,
    PaymentObserved,
)
from reclaim.errors import SignatureError

SIGNATURE_HEADER = "Stripe-Signature"
DEFAULT_TOLERANCE_S = 300
PAYMENT_TYPES = frozenset({"payment_intent.payment_failed", "payment_intent.succeeded"})
SESSION_EXPIRED = "checkout.session.expired"
SESSION_COMPLETED = "checkout.session.completed"
SESSION_PAID_LATER = "checkout.session.async_payment_succeeded"  # a delayed method paid
SESSION_TYPES = frozenset({SESSION_EXPIRED, SESSION_COMPLETED, SESSION_PAID_LATER})


class StripeConnector:
    source = "stripe"

    def verify(
        self,
        *,
        headers: Mapping[str, str],
        body: bytes,
        secret: str,
        now: datetime,
        tolerance: int = DEFAULT_TOLERANCE_S,
    ) -> None:
        key = c.require_secret(secret)
        raw = c.header(headers, SIGNATURE_HEADER)
        if raw is None:
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        stamp: str | None = None
        candidates: list[str] = []
        for part in raw.split(",")[:50]:
            name, _, value = part.strip().partition("=")
            if name == "t":
                stamp = value.strip()
            elif name == "v1":
                candidates.append(value.strip().lower())
        if stamp is None or not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise SignatureError(f"{SIGNATURE_HEADER} has no valid timestamp (t=)")
        if not candidates:
            raise SignatureError(f"{SIGNATURE_HEADER} has no v1 signature")
        expected = c.hmac_sha256(key, stamp.encode("ascii") + b"." + bytes(body)).hex()
        if not any(c.same(expected, candidate) for candidate in candidates):
            raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")
        if abs(now.timestamp() - int(stamp)) > tolerance:
            raise SignatureError(
                f"{SIGNATURE_HEADER} timestamp is outside the tolerance of {tolerance} s"
            )

    def topic(self, headers: Mapping[str, str]) -> str:
        return ""  # the event type is in the body

    def event_id(self, headers: Mapping[str, str]) -> str | None:
        return None  # the event id is in the body: see ParsedDelivery.event_id

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
        event = c.load_object(body)
        kind = c.req_text(event.get("type"), "type", max_len=100)
        event_id = c.req_ident(event.get("id"), "id")
        if kind not in PAYMENT_TYPES and kind not in SESSION_TYPES:
            return ParsedDelivery(topic=kind, event_id=event_id)
        created = c.epoch(c.require(event, "created"), "created")
        live = c.flag(event.get("livemode"), "livemode")
        data = c.obj(c.require(event, "data.object"), "data.object")
        if kind in SESSION_TYPES:
            session = parse_session(
                data, at=created, livemode=live, completed=kind != SESSION_EXPIRED
            )
            facts: tuple[Fact, ...] = () if session is None else (session,)
        else:
            facts = (
                parse_payment_intent(
                    data,
                    event_id=event_id,
                    occurred_at=created,
                    succeeded=kind == "payment_intent.succeeded",
                    livemode=live,
                ),
            )
        return ParsedDelivery(topic=kind, facts=facts, event_id=event_id)


_PI = "data.object"


def parse_payment_intent(
    pi: dict[str, Any],
    *,
    event_id: str,
    occurred_at: datetime,
    succeeded: bool,
    livemode: bool | None,
) -> PaymentObserved:
    pi_id = c.req_ident(pi.get("id"), f"{_PI}.id")
    currency = c.currency(c.require(pi, "currency", base=_PI), f"{_PI}.currency")
    amount = c.minor_amount(c.require(pi, "amount", base=_PI), currency, f"{_PI}.amount")
    error = c.opt_obj(pi, "last_payment_error", _PI) or {}
    err = f"{_PI}.last_payment_error"
    method = c.opt_obj(error, "payment_method", err)
    method_path = f"{err}.payment_method"
    if method is None and isinstance(pi.get("payment_method"), dict):
        method, method_path = pi["payment_method"], f"{_PI}.payment_method"
    method = method or {}
    billing = c.opt_obj(method, "billing_details", method_path) or {}
    address = c.opt_obj(billing, "address", f"{method_path}.billing_details") or {}
    card = c.opt_obj(method, "card", method_path) or {}
    first, last = c.split_name(c.text(billing.get("name"), f"{method_path}.billing_details.name"))
    bd = f"{method_path}.billing_details"
    country = c.country(address.get("country"), f"{bd}.address.country") or c.country(
        card.get("country"), f"{method_path}.card.country"
    )
    contact = c.contact(
        email=c.email(pi.get("receipt_email"), f"{_PI}.receipt_email")
        or c.email(billing.get("email"), f"{bd}.email"),
        phone=c.phone(billing.get("phone"), f"{bd}.phone"),
        first_name=first,
        last_name=last,
        country=country,
        region=c.region(address.get("state"), f"{bd}.address.state"),
        customer_ref=_ref(pi.get("customer"), f"{_PI}.customer"),
    )
    if succeeded:
        charge = _ref(pi.get("latest_charge"), f"{_PI}.latest_charge") or _legacy_charge(pi)
    else:
        charge = c.ident(error.get("charge"), f"{err}.charge")
    metadata = c.opt_obj(pi, "metadata", _PI) or {}
    method_type = c.text(method.get("type"), f"{method_path}.type", max_len=64)
    if method_type is None:
        types = c.array(pi.get("payment_method_types"), f"{_PI}.payment_method_types")
        if len(types) == 1:
            method_type = c.text(types[0], f"{_PI}.payment_method_types[0]", max_len=64)
    live = livemode if livemode is not None else c.flag(pi.get("livemode"), f"{_PI}.livemode")
    decline = code = message = None
    if not succeeded:
        decline = c.text(error.get("decline_code"), f"{err}.decline_code", max_len=100)
        code = c.text(error.get("code"), f"{err}.code", max_len=100)
        message = c.text(error.get("message"), f"{err}.message", max_len=500)
    return PaymentObserved(
        external_id=charge or f"{pi_id}:{event_id}",
        intent_id=pi_id,
        contact=contact,
        amount=amount,
        currency=currency,
        succeeded=succeeded,
        occurred_at=occurred_at,
        order_external_id=c.ident(metadata.get("order_id"), f"{_PI}.metadata.order_id"),
        checkout_external_id=c.ident(metadata.get("checkout_id"), f"{_PI}.metadata.checkout_id"),
        decline_code=decline,
        failure_code=code,
        failure_message=message,
        payment_method=method_type,
        is_test=live is False,
    )


def parse_session(
    s: dict[str, Any], *, at: datetime, livemode: bool | None, completed: bool = False
) -> CheckoutObserved | None:
    """An expired session (the platform's own "abandoned"), or a completed one at ``at``. A
    session completed with its payment still pending (``payment_status: unpaid``: a delayed
    method) is not completed yet: the PaymentIntent's success will say when it is."""
    paid = completed and s.get("payment_status") != "unpaid"
    if s.get("mode") == "setup":
        return None
    currency = c.currency(c.require(s, "currency", base=_PI), f"{_PI}.currency")
    details = c.opt_obj(s, "customer_details", _PI) or {}
    cd = f"{_PI}.customer_details"
    address = c.opt_obj(details, "address", cd) or {}
    first, last = c.split_name(c.text(details.get("name"), f"{cd}.name"))
    locale = c.text(s.get("locale"), f"{_PI}.locale", max_len=35)
    promotions = c.text(c.dig(s, "consent.promotions"), f"{_PI}.consent.promotions", max_len=20)
    contact = c.contact(
        email=c.email(details.get("email"), f"{cd}.email")
        or c.email(s.get("customer_email"), f"{_PI}.customer_email"),
        phone=c.phone(details.get("phone"), f"{cd}.phone"),
        first_name=first,
        last_name=last,
        locale_hint=None if locale == "auto" else locale,
        country=c.country(address.get("country"), f"{cd}.address.country"),
        region=c.region(address.get("state"), f"{cd}.address.state"),
        # Checkout's promotions box is an opt-in: "opt_out" is the box left unticked, no
        # refusal (the customer's country decides, as for Shopify's "not_subscribed").
        accepts_email_marketing=True if promotions == "opt_in" else None,
        customer_ref=_ref(s.get("customer"), f"{_PI}.customer"),
    )
    shipping = c.dig(s, "shipping_cost.amount_total")
    quote = None
    if shipping is not None:
        quote = c.minor_amount(shipping, currency, f"{_PI}.shipping_cost.amount_total")
    live = livemode if livemode is not None else c.flag(s.get("livemode"), f"{_PI}.livemode")
    codes, refs = _discounts(s)
    return CheckoutObserved(
        external_id=c.req_ident(s.get("id"), f"{_PI}.id"),
        contact=contact,
        currency=currency,
        total=c.minor_amount(
            c.require(s, "amount_total", base=_PI), currency, f"{_PI}.amount_total"
        ),
        created_at=c.epoch(c.require(s, "created", base=_PI), f"{_PI}.created"),
        updated_at=at,
        items=_session_items(s, currency),
        recovery_url=c.url(
            c.dig(s, "after_expiration.recovery.url"), f"{_PI}.after_expiration.recovery.url"
        ),
        expired_at=None if completed else at,
        completed_at=at if paid else None,
        is_test=live is False,
        shipping_quote=quote,
        charges=_session_charges(s, currency),
        discount_codes=codes,
        discount_refs=refs,
        recovered_from=c.ident(s.get("recovered_from"), f"{_PI}.recovered_from"),
    )


def _session_items(s: dict[str, Any], currency: str) -> tuple[LineItem, ...]:
    """Only present when the endpoint expands ``line_items``; otherwise empty."""
    lines = c.opt_obj(s, "line_items", _PI)
    if lines is None:
        return ()
    items = []
    base = f"{_PI}.line_items.data"
    for i, raw in enumerate(c.array(lines.get("data"), base)):
        path = f"{base}[{i}]"
        line = c.obj(raw, path)
        quantity = c.count(line.get("quantity"), f"{path}.quantity", minimum=1)
        price = c.opt_obj(line, "price", path) or {}
        unit = price.get("unit_amount")
        if unit is not None:
            unit_price = c.minor_amount(unit, currency, f"{path}.price.unit_amount")
        else:
            line_total = c.minor_amount(
                c.require(line, "amount_total", base=path), currency, f"{path}.amount_total"
            )
            unit_price = c.amount(line_total / Decimal(quantity), f"{path}.amount_total")
        items.append(
            LineItem(
                name=c.req_text(line.get("description"), f"{path}.description", max_len=500),
                quantity=quantity,
                unit_price=unit_price,
                product_id=_ref(price.get("product"), f"{path}.price.product"),
                variant_id=c.ident(price.get("id"), f"{path}.price.id"),
            )
        )
    return tuple(items)


def _session_charges(s: dict[str, Any], currency: str) -> Charges | None:
    """Shipping, discount and tax of ``total_details`` (shipping from ``shipping_cost``
    where the details are not sent). Stripe does not say whether the tax is in the prices:
    it is added where ``amount_total`` is the subtotal less the discount plus shipping and
    tax, included where it is that without the tax, and left unnamed (the message's "other
    charges") where neither adds up."""
    details = c.opt_obj(s, "total_details", _PI) or {}
    base = f"{_PI}.total_details"

    def minor(key: str, base_obj: dict[str, Any], path: str) -> Decimal | None:
        value = base_obj.get(key)
        return None if value is None else c.minor_amount(value, currency, f"{path}.{key}")

    discount = minor("amount_discount", details, base)
    shipping = minor("amount_shipping", details, base)
    if shipping is None:
        cost = c.opt_obj(s, "shipping_cost", _PI) or {}
        shipping = minor("amount_total", cost, f"{_PI}.shipping_cost")
    tax = minor("amount_tax", details, base)
    subtotal, total = minor("amount_subtotal", s, _PI), minor("amount_total", s, _PI)
    included = False
    if tax and subtotal is not None and total is not None:
        before_tax = subtotal - (discount or 0) + (shipping or 0)
        if before_tax == total:
            included = True
        elif before_tax + tax != total:
            tax = None
    if not (discount or shipping or tax):
        return None
    return Charges(
        shipping=shipping or None, discount=discount or None, tax=tax or None, tax_included=included
    )


def _discounts(s: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The promotion codes of ``discounts`` (API 2025-01-27 on): codes where expanded, ids."""
    codes: list[str] = []
    refs: list[str] = []
    base = f"{_PI}.discounts"
    for i, raw in enumerate(c.array(s.get("discounts"), base, max_len=50)):
        entry = c.obj(raw, f"{base}[{i}]")
        promo = entry.get("promotion_code")
        path = f"{base}[{i}].promotion_code"
        if isinstance(promo, dict):
            code = c.text(promo.get("code"), f"{path}.code", max_len=64)
            if code is not None:
                codes.append(code)
        ref = _ref(promo, path)
        if ref is not None:
            refs.append(ref)
    return tuple(codes), tuple(refs)


def _ref(value: Any, path: str) -> str | None:
    """A Stripe reference: an id string, or an expanded object carrying ``id``."""
    if isinstance(value, dict):
        return c.ident(value.get("id"), f"{path}.id")
    return c.ident(value, path)


def _legacy_charge(pi: dict[str, Any]) -> str | None:
    """API versions before 2022-11-15 list charges instead of ``latest_charge``."""
    data = c.dig(pi, "charges.data")
    if isinstance(data, list) and data and isinstance(data[0], dict):
        return c.ident(data[0].get("id"), f"{_PI}.charges.data[0].id")
    return None
