"""Shopify: what its webhooks look like, and when the demo's Shopify store sends them.

Payloads follow the Admin REST resources (``checkouts``, ``orders``, API version 2024-07): the
shop's own money (``total_price``) next to the customer's presentment money, ``customer_locale``,
``client_details.user_agent``, the checkout ``token`` that orders carry as ``checkout_token``.
Shopify sends ``checkouts/create|update`` at every checkout step and ``orders/create``,
``orders/paid``, ``orders/cancelled``; a declined card inside checkout sends nothing at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reclaim.sim import payloads as pl
from reclaim.sim.model import Cart, CheckoutSnap, OrderSnap, Snap
from reclaim.sim.people import Actor
from reclaim.sim.storefronts import SECOND, Checkout, Order, Storefront
from reclaim.sim.world import StoreSpec

SHOP_ID = 71234567


def shopify_headers(
    store: StoreSpec, topic: str, webhook_id: str, event_id: str, at: datetime
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": f"{store.key}-{SHOP_ID}.myshopify.com",
        "X-Shopify-API-Version": "2024-07",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": pl.utc_iso(at),
    }


def _shopify_customer(actor: Actor, *, contact: bool) -> dict[str, Any] | None:
    if not contact:
        return None
    state = "subscribed" if actor.accepts_email else "not_subscribed"
    return {
        "id": actor.platform_customer_id or None,
        "email": actor.email,
        "first_name": actor.first_name,
        "last_name": actor.last_name,
        "orders_count": actor.orders_before,
        "state": "enabled" if actor.orders_before else "disabled",
        "verified_email": True,
        "tax_exempt": False,
        "phone": actor.phone,
        "currency": actor.currency,
        "email_marketing_consent": {"state": state, "opt_in_level": "single_opt_in"},
        "sms_marketing_consent": (
            {
                "state": "subscribed" if actor.accepts_sms else "not_subscribed",
                "opt_in_level": "single_opt_in",
            }
            if actor.phone
            else None
        ),
    }


def _shopify_address(actor: Actor) -> dict[str, Any]:
    return {
        "first_name": actor.first_name,
        "last_name": actor.last_name,
        "address1": "1 Example Street",
        "address2": None,
        "city": "Example City",
        "province_code": actor.region.code,
        "country_code": actor.country.code,
        "zip": "00000",
        "phone": actor.phone,
    }


def _shopify_lines(store: StoreSpec, cart: Cart) -> list[dict[str, Any]]:
    return [
        {
            "key": f"{line.product.variant_id}:{pl.tag(line.product.sku)[:8]}",
            "product_id": line.product.product_id,
            "variant_id": line.product.variant_id,
            "title": line.product.name,
            "presentment_title": line.product.name,
            "variant_title": None,
            "quantity": line.quantity,
            "sku": line.product.sku,
            "vendor": store.name,
            "price": pl.money(line.unit_price, cart.currency),
            "line_price": pl.money(line.total, cart.currency),
            "requires_shipping": True,
            "taxable": True,
            "gift_card": False,
            "fulfillment_service": "manual",
            "grams": 300,
            "price_set": {
                "shop_money": {
                    "amount": pl.money(
                        pl.convert(line.unit_price, cart.currency, store.currency), store.currency
                    ),
                    "currency_code": store.currency,
                },
                "presentment_money": {
                    "amount": pl.money(line.unit_price, cart.currency),
                    "currency_code": cart.currency,
                },
            },
        }
        for line in cart.lines
    ]


def _shopify_shipping(cart: Cart) -> list[dict[str, Any]]:
    return [
        {
            "code": "Standard",
            "title": "Standard International",
            "source": "shopify",
            "price": pl.money(cart.shipping, cart.currency),
            "tax_lines": [],
        }
    ]


def shopify_checkout(store: StoreSpec, s: CheckoutSnap) -> dict[str, Any]:
    a = s.actor
    shipped = s.stage in ("shipping", "payment")
    address = _shopify_address(a) if shipped else None
    return {
        "id": int(s.native_id),
        "token": s.checkout_id,
        "cart_token": pl.tag("cart", s.checkout_id)[:32],
        "email": a.email if s.contact else None,
        "gateway": None,
        "buyer_accepts_marketing": bool(s.contact and a.accepts_email),
        "buyer_accepts_sms_marketing": bool(s.contact and a.accepts_sms),
        "created_at": pl.local_iso(s.created_at, store.timezone),
        "updated_at": pl.local_iso(s.updated_at, store.timezone),
        "completed_at": pl.local_iso(s.completed_at, store.timezone) if s.completed_at else None,
        "closed_at": None,
        "landing_site": "/",
        "note": None,
        "note_attributes": [],
        "referring_site": "",
        "taxes_included": True,
        "currency": store.currency,
        "presentment_currency": s.cart.currency,
        "customer_locale": a.locale,
        "phone": a.phone if s.contact and shipped else None,
        "name": f"#{s.native_id}",
        "source_name": "web",
        "abandoned_checkout_url": (
            f"https://{store.domain}/{SHOP_ID}/checkouts/ac/{s.checkout_id}/recover"
            f"?key={pl.tag('key', s.checkout_id)[:16]}"
        ),
        "client_details": {
            "accept_language": f"{a.locale},{a.country.language};q=0.9",
            "browser_ip": pl.ip(a),
            "user_agent": a.user_agent,
        },
        "discount_codes": [],
        "line_items": _shopify_lines(store, s.cart),
        "shipping_lines": _shopify_shipping(s.cart) if shipped else [],
        "shipping_address": address,
        "billing_address": address,
        "customer": _shopify_customer(a, contact=s.contact),
        "subtotal_price": pl.money(s.cart.subtotal, s.cart.currency),
        "total_line_items_price": pl.money(s.cart.subtotal, s.cart.currency),
        "total_discounts": "0.00",
        "total_tax": "0.00",
        "total_price": pl.money(s.total, s.cart.currency),
        "total_duties": None,
    }


SHOPIFY_GATEWAYS = {
    "card": "shopify_payments",
    "boleto": "Boleto Bancário",
    "bank_transfer": "Bank Deposit",
    "konbini": "Konbini",
    "bogus": "bogus",
}


def shopify_order(store: StoreSpec, o: OrderSnap) -> dict[str, Any]:
    a = o.actor
    financial = {"paid": "paid", "pending": "pending", "cancelled": "voided"}[o.status]
    shop_total = pl.convert(o.total, o.cart.currency, store.currency)
    order_token = pl.tag("order", o.order_id)[:32]
    return {
        "id": int(o.order_id),
        "admin_graphql_api_id": f"gid://shopify/Order/{o.order_id}",
        "name": o.number,
        "order_number": int(o.number.lstrip("#")),
        "number": int(o.number.lstrip("#")) - 1000,
        "email": a.email,
        "contact_email": a.email,
        "phone": None,
        "created_at": pl.local_iso(o.created_at, store.timezone),
        "updated_at": pl.local_iso(o.updated_at, store.timezone),
        "processed_at": pl.local_iso(o.created_at, store.timezone),
        "cancelled_at": pl.local_iso(o.cancelled_at, store.timezone) if o.cancelled_at else None,
        "cancel_reason": "customer" if o.cancelled_at else None,
        "closed_at": None,
        "confirmed": True,
        "financial_status": financial,
        "fulfillment_status": None,
        "currency": store.currency,
        "presentment_currency": o.cart.currency,
        "subtotal_price": pl.money(
            pl.convert(o.cart.subtotal, o.cart.currency, store.currency), store.currency
        ),
        "total_tax": "0.00",
        "total_discounts": pl.money(
            pl.convert(o.cart.discount, o.cart.currency, store.currency), store.currency
        ),
        "discount_codes": [
            {
                "code": code,
                "amount": pl.money(o.cart.discount, o.cart.currency),
                "type": "percentage",
            }
            for code in o.cart.codes
        ],
        "total_price": pl.money(shop_total, store.currency),
        "total_price_set": {
            "shop_money": {
                "amount": pl.money(shop_total, store.currency),
                "currency_code": store.currency,
            },
            "presentment_money": {
                "amount": pl.money(o.total, o.cart.currency),
                "currency_code": o.cart.currency,
            },
        },
        "checkout_token": o.checkout_id,
        "cart_token": pl.tag("cart", o.checkout_id)[:32] if o.checkout_id else None,
        "token": order_token,
        "gateway": SHOPIFY_GATEWAYS[o.method],
        "payment_gateway_names": [SHOPIFY_GATEWAYS[o.method]],
        "order_status_url": (
            f"https://{store.domain}/{SHOP_ID}/orders/{order_token}/authenticate"
            f"?key={pl.tag('status', o.order_id)[:16]}"
        ),
        "test": o.test_flag,
        "customer_locale": a.locale,
        "browser_ip": pl.ip(a),
        "client_details": {"browser_ip": pl.ip(a), "user_agent": a.user_agent},
        "source_name": "web",
        "tags": "",
        "note": None,
        "line_items": [
            {**line, "id": 14_100_000_000 + i}
            for i, line in enumerate(_shopify_lines(store, o.cart))
        ],
        "shipping_lines": _shopify_shipping(o.cart),
        "shipping_address": _shopify_address(a),
        "billing_address": _shopify_address(a),
        "customer": _shopify_customer(a, contact=True),
    }


class Shopify(Storefront):
    flags_test_checkouts = False  # only the staff's test address tells
    platform = "shopify"

    def new_checkout(self, actor: Actor, cart: Cart, at: datetime, **kw: Any) -> Checkout:
        native = 35_870_274_000_000 + self.next_id()
        return Checkout(self.spec.key, self._hex(32), str(native), actor, cart, at, at, **kw)

    def _send(
        self, at: datetime, topic: str, payload: dict[str, Any], facts: tuple[Snap, ...]
    ) -> None:
        headers = shopify_headers(self.spec, topic, self._uuid(), str(self.rng.getrandbits(40)), at)
        self.out.emit(self.spec.key, at, topic, pl.dumps(payload), headers, facts)

    def checkout_changed(self, co: Checkout, *, first: bool) -> None:
        s = co.snap()
        topic = "checkouts/create" if first else "checkouts/update"
        self._send(co.updated_at, topic, shopify_checkout(self.spec, s), (s,))

    def order_id(self, co: Checkout, n: int) -> str:
        return str(5_987_654_000_000 + n)

    def marks_tests(self, method: str) -> bool:
        return method == "bogus"  # Shopify's ``test`` flag: orders through the Bogus Gateway

    def _order_event(self, order: Order, topic: str) -> None:
        s = order.snap(self.spec.key)
        self._send(order.updated_at, topic, shopify_order(self.spec, s), (s,))

    def pay(self, co: Checkout, at: datetime) -> None:
        method = "bogus" if co.test else "card"
        order = self._order(co, at, "paid", method)
        co.order, co.completed_at, co.updated_at = order, at, at
        if self.rng.random() < 0.5:  # Shopify often, not always, updates the checkout too
            self.checkout_changed(co, first=False)
        order.updated_at = at + SECOND
        self._order_event(order, "orders/create")
        order.updated_at = at + 3 * SECOND
        self._order_event(order, "orders/paid")

    def pay_later(self, co: Checkout, at: datetime, method: str) -> Order:
        order = self._order(co, at, "pending", method)
        co.order, co.completed_at, co.updated_at = order, at, at
        if self.rng.random() < 0.5:
            self.checkout_changed(co, first=False)
        order.updated_at = at + SECOND
        self._order_event(order, "orders/create")
        return order

    def order_paid(self, order: Order, at: datetime) -> None:
        order.status, order.paid_at, order.updated_at = "paid", at, at
        self._order_event(order, "orders/paid")

    def order_cancelled(self, order: Order, at: datetime) -> None:
        order.status, order.cancelled_at, order.updated_at = "cancelled", at, at
        self._order_event(order, "orders/cancelled")
