"""WooCommerce: its order webhooks (WP REST API v3 shape), and the demo's block-checkout store.

The cart is a ``checkout-draft`` order (Reclaim's checkout ``wc-draft-<id>``) and the same id
becomes the order. A declined card makes it ``failed`` (Reclaim derives the failed attempt);
bank transfer and boleto are ``on-hold``; a PayPal redirect the shopper closes leaves a
``pending`` order that "Hold stock" cancels after 60 minutes. WooCommerce has no test flag.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from reclaim.sim import payloads as pl
from reclaim.sim.behaviour import Decline
from reclaim.sim.model import Cart, PaymentSnap, Snap
from reclaim.sim.people import Actor
from reclaim.sim.storefronts import Checkout, Order, Outbox, Storefront
from reclaim.sim.world import StoreSpec

WOO_HOLD_STOCK = timedelta(minutes=60)  # WooCommerce's default "Hold stock (minutes)"
# 10.6 or later: the block checkout's orders (created_via "store-api", as sent here) are
# cancelled after the hold-stock time too; before 10.6, wc_cancel_unpaid_orders cancelled
# only created_via "checkout" (woocommerce issue #51271, fixed by PR #58262).
WOO_VERSION = "10.6.0"


def woo_headers(store: StoreSpec, topic: str, webhook_id: int, delivery_id: str) -> dict[str, str]:
    resource, _, event = topic.partition(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": f"WooCommerce/{WOO_VERSION} Hookshot (WordPress/6.5.4)",
        "X-WC-Webhook-Source": f"https://{store.domain}/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-ID": str(webhook_id),
        "X-WC-Webhook-Delivery-ID": delivery_id,
    }


WOO_METHODS = {
    "card": ("stripe", "Credit Card (Stripe)"),
    "paypal": ("ppcp-gateway", "PayPal"),
    "bank_transfer": ("bacs", "Direct bank transfer"),
    "boleto": ("woo-mercado-pago-ticket", "Boleto Bancário"),
    "konbini": ("komoju_konbini", "Konbini"),
}
WOO_STATUS = {
    "pending": "pending",
    "failed": "failed",
    "paid": "processing",
    "cancelled": "cancelled",
}


def _woo_party(actor: Actor, *, contact: bool, shipped: bool) -> dict[str, Any]:
    return {
        "first_name": actor.first_name or "",
        "last_name": actor.last_name or "",
        "company": "",
        "address_1": "1 Example Street" if shipped else "",
        "address_2": "",
        "city": "Example City" if shipped else "",
        "state": (actor.region.code or "") if shipped else "",
        "postcode": "00000" if shipped else "",
        "country": actor.country.code if shipped else "",
        "email": actor.email if contact else "",
        "phone": (actor.phone or "") if contact and shipped else "",
    }


def woo_order(
    store: StoreSpec,
    *,
    native_id: str,
    actor: Actor,
    cart: Cart,
    status: str,
    created_at: datetime,
    updated_at: datetime,
    contact: bool = True,
    stage: str = "payment",
    method: str | None = None,
    paid_at: datetime | None = None,
) -> dict[str, Any]:
    """One order as WooCommerce's REST API v3 serialises it (``status`` is Woo's own)."""
    shipped = stage in ("shipping", "payment")
    key = f"wc_order_{pl.tag('woo', native_id)[:13]}"
    gateway, title = WOO_METHODS.get(method or "", ("", ""))
    shipping = cart.shipping if shipped else Decimal(0)
    total = cart.subtotal + shipping - cart.discount
    zone = store.timezone
    party = _woo_party(actor, contact=contact, shipped=shipped)
    return {
        "id": int(native_id),
        "parent_id": 0,
        "status": status,
        "currency": cart.currency,
        "version": WOO_VERSION,
        "prices_include_tax": True,
        "date_created": pl.naive(created_at, zone),
        "date_modified": pl.naive(updated_at, zone),
        "discount_total": pl.money(cart.discount, cart.currency),
        "shipping_total": pl.money(shipping, cart.currency),
        "total": pl.money(total, cart.currency),
        "total_tax": "0.00",
        "customer_id": actor.index if actor.orders_before else 0,
        "order_key": key,
        "billing": party,
        "shipping": {k: v for k, v in party.items() if k != "email"},
        "payment_method": gateway,
        "payment_method_title": title,
        "transaction_id": "",
        "customer_ip_address": pl.ip(actor),
        "customer_user_agent": actor.user_agent,
        "created_via": "store-api",
        "customer_note": "",
        "date_completed": None,
        "date_paid": pl.naive(paid_at, zone) if paid_at else None,
        "cart_hash": pl.tag("hash", native_id)[:32],
        "number": native_id,
        "meta_data": [
            {"id": int(native_id) * 10, "key": "wpml_language", "value": actor.country.language}
        ],
        "line_items": [
            {
                "id": int(native_id) * 100 + i,
                "name": line.product.name,
                "product_id": line.product.product_id,
                "variation_id": 0,
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": pl.money(line.total, cart.currency),
                "subtotal_tax": "0.00",
                "total": pl.money(line.total, cart.currency),
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": [],
                "sku": line.product.sku,
                "price": pl.number(line.unit_price, cart.currency),
                "image": {
                    "id": str(line.product.product_id + 1000),
                    "src": store.image_url(line.product),
                },
                "parent_name": None,
            }
            for i, line in enumerate(cart.lines)
        ],
        "shipping_lines": (
            [
                {
                    "id": int(native_id) * 100 + 99,
                    "method_title": "International shipping",
                    "method_id": "flat_rate",
                    "total": pl.money(shipping, cart.currency),
                    "total_tax": "0.00",
                }
            ]
            if shipped
            else []
        ),
        "fee_lines": [],
        "coupon_lines": [
            {
                "id": int(native_id) * 100 + 98,
                "code": code.lower(),
                "discount": pl.money(cart.discount, cart.currency),
            }
            for code in cart.codes
        ],
        "refunds": [],
        "payment_url": (
            f"https://{store.domain}/checkout/order-pay/{native_id}/?pay_for_order=true&key={key}"
        ),
        "is_editable": status in ("pending", "failed", "checkout-draft"),
        "needs_payment": status in ("pending", "failed", "on-hold"),
        "needs_processing": True,
        "date_created_gmt": pl.naive(created_at),
        "date_modified_gmt": pl.naive(updated_at),
        "date_completed_gmt": None,
        "date_paid_gmt": pl.naive(paid_at) if paid_at else None,
        "currency_symbol": cart.currency,
    }


def woo_status(order: Order) -> str:
    """Woo's status for an order: unpaid transfers and vouchers wait ``on-hold``."""
    if order.status == "pending" and order.method in ("bank_transfer", "boleto", "konbini"):
        return "on-hold"
    return WOO_STATUS[order.status]


def woo_failed_attempt_id(native_id: str, at: datetime) -> tuple[str, str]:
    """(attempt id, intent id) Reclaim derives from a ``failed`` order (its connector doc)."""
    return f"wc-order-{native_id}-failed-{pl.naive(at)}", f"wc-order-{native_id}"


class WooCommerce(Storefront):
    flags_test_checkouts = False  # only the staff's test address tells
    platform = "woocommerce"
    WEBHOOK_IDS: ClassVar[dict[str, int]] = {"order.created": 11, "order.updated": 12}

    def __init__(self, spec: StoreSpec, out: Outbox, rng: random.Random) -> None:
        super().__init__(spec, out, rng)
        self._checkouts: dict[str, Checkout] = {}

    def new_checkout(self, actor: Actor, cart: Cart, at: datetime, **kw: Any) -> Checkout:
        native = str(4700 + self.next_id())
        return Checkout(self.spec.key, f"wc-draft-{native}", native, actor, cart, at, at, **kw)

    def marks_tests(self, method: str) -> bool:
        return False  # WooCommerce has no test flag on orders

    def order_id(self, co: Checkout, n: int) -> str:
        self._checkouts[co.native_id] = co
        return co.native_id  # the draft's id becomes the order's

    def _send(
        self, at: datetime, topic: str, payload: dict[str, Any], facts: tuple[Snap, ...]
    ) -> None:
        headers = woo_headers(self.spec, topic, self.WEBHOOK_IDS[topic], self._hex(40))
        self.out.emit(self.spec.key, at, topic, pl.dumps(payload), headers, facts)

    def checkout_changed(self, co: Checkout, *, first: bool) -> None:
        s = co.snap()
        payload = woo_order(
            self.spec,
            native_id=co.native_id,
            actor=co.actor,
            cart=co.cart,
            status="checkout-draft",
            created_at=co.created_at,
            updated_at=co.updated_at,
            contact=co.contact,
            stage=co.stage,
        )
        self._send(co.updated_at, "order.updated", payload, (s,))

    def _order_event(
        self, co: Checkout, order: Order, topic: str, extra: tuple[Snap, ...] = ()
    ) -> None:
        s = order.snap(self.spec.key)
        payload = woo_order(
            self.spec,
            native_id=co.native_id,
            actor=co.actor,
            cart=co.cart,
            status=woo_status(order),
            created_at=order.created_at,
            updated_at=order.updated_at,
            method=order.method,
            paid_at=order.paid_at,
        )
        self._send(order.updated_at, topic, payload, (s, *extra))

    def decline(self, co: Checkout, at: datetime, decline: Decline) -> None:
        first = co.order is None
        if first:
            co.order = self._order(co, at, "failed", "card")
            co.completed_at = at
        assert co.order is not None
        co.order.status, co.order.updated_at = "failed", at
        attempt, intent = woo_failed_attempt_id(co.native_id, at)
        payment = PaymentSnap(
            store=self.spec.key,
            attempt_id=attempt,
            intent_id=intent,
            order_id=co.order.order_id,
            checkout_id=None,
            actor=co.actor,
            amount=co.cart.total,
            currency=co.cart.currency,
            succeeded=False,
            occurred_at=at,
            decline_code=None,
            error_code="failed",
            test_flag=co.test,
        )
        self._order_event(co, co.order, "order.created" if first else "order.updated", (payment,))

    def pay(self, co: Checkout, at: datetime) -> None:
        if co.order is None:
            co.order = self._order(co, at, "paid", "card")
            co.completed_at = at
            self._order_event(co, co.order, "order.created")
            return
        co.order.status, co.order.paid_at, co.order.updated_at = "paid", at, at
        self._order_event(co, co.order, "order.updated")

    def pay_later(self, co: Checkout, at: datetime, method: str) -> Order:
        co.order = self._order(co, at, "pending", method)
        co.completed_at = at
        self._order_event(co, co.order, "order.created")
        return co.order

    def order_paid(self, order: Order, at: datetime) -> None:
        order.status, order.paid_at, order.updated_at = "paid", at, at
        self._order_event(self._checkouts[order.order_id], order, "order.updated")

    def order_cancelled(self, order: Order, at: datetime) -> None:
        order.status, order.cancelled_at, order.updated_at = "cancelled", at, at
        self._order_event(self._checkouts[order.order_id], order, "order.updated")

    def walk_away(self, co: Checkout, at: datetime) -> None:
        """On the payment step without a declined card, half chose PayPal and closed it: the
        order stays ``pending`` until "hold stock" cancels it."""
        super().walk_away(co, at)
        if co.stage == "payment" and co.order is None and self.rng.random() < 0.5:
            order = self.pay_later(co, at, "paypal")
            self.order_cancelled(order, at + WOO_HOLD_STOCK)
