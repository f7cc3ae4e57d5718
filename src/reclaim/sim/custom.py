"""The custom site: Reclaim's generic events API (``docs/events-api.md``).

It creates the order first (``order.created``, status ``pending``), then charges the card
(``payment.failed`` / ``payment.succeeded`` + ``order.paid``), sending related events as one
batch; its staff's test orders carry ``test: true``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reclaim.sim import payloads as pl
from reclaim.sim.behaviour import Decline
from reclaim.sim.model import Cart, CheckoutSnap, OrderSnap, PaymentSnap, Snap
from reclaim.sim.people import Actor
from reclaim.sim.storefronts import SECOND, Checkout, Order, Storefront
from reclaim.sim.world import StoreSpec


def generic_headers(store: StoreSpec) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"KumoShop/2.3 (+https://{store.domain})",
    }


def _generic_contact(actor: Actor, *, contact: bool) -> dict[str, Any]:
    if not contact:
        return {"locale": actor.locale}
    data: dict[str, Any] = {
        "email": actor.email,
        "first_name": actor.first_name,
        "last_name": actor.last_name,
        "locale": actor.locale,
        "country": actor.country.code,
        "region": actor.region.code,
        "timezone": actor.timezone,
        "accepts_marketing": actor.accepts_email,
        "orders_count": actor.orders_before,
        "customer_id": f"cu-{actor.index:05d}",
    }
    if actor.phone:
        data["phone"] = actor.phone
        data["accepts_sms_marketing"] = actor.accepts_sms
    return {k: v for k, v in data.items() if v is not None}


def _generic_items(store: StoreSpec, cart: Cart) -> list[dict[str, Any]]:
    return [
        {
            "sku": line.product.sku,
            "product_id": str(line.product.product_id),
            "name": line.product.name,
            "quantity": line.quantity,
            "price": pl.money(line.unit_price, cart.currency),
            "image_url": store.image_url(line.product),
            "url": store.product_url(line.product),
        }
        for line in cart.lines
    ]


def generic_checkout(store: StoreSpec, s: CheckoutSnap, event_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "checkout_id": s.checkout_id,
        **_generic_contact(s.actor, contact=s.contact),
        "currency": s.cart.currency,
        "total": pl.money(s.total, s.cart.currency),
        "items": _generic_items(store, s.cart),
        "recovery_url": f"https://{store.domain}/cart/{s.checkout_id}/restore",
        "user_agent": s.actor.user_agent,
        "created_at": pl.utc_iso(s.created_at),
    }
    if s.stage in ("shipping", "payment"):
        data["shipping_quote"] = pl.money(s.cart.shipping, s.cart.currency)
    if s.completed_at:
        data["completed_at"] = pl.utc_iso(s.completed_at)
        data["order_id"] = s.order_id
    if s.test_flag:
        data["test"] = True
    return {
        "id": event_id,
        "type": "checkout.updated",
        "occurred_at": pl.utc_iso(s.updated_at),
        "data": data,
    }


def generic_order(store: StoreSpec, o: OrderSnap, kind: str, event_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "order_id": o.order_id,
        "order_number": o.number,
        "checkout_id": o.checkout_id,
        "status": o.status,
        **_generic_contact(o.actor, contact=True),
        "currency": o.cart.currency,
        "total": pl.money(o.total, o.cart.currency),
        "items": _generic_items(store, o.cart),
        "payment_method": o.method,
        "payment_url": f"https://{store.domain}/orders/{o.order_id}/pay",
        "user_agent": o.actor.user_agent,
        "created_at": pl.utc_iso(o.created_at),
    }
    if o.cart.codes:
        data["coupon_codes"] = list(o.cart.codes)
    if o.paid_at:
        data["paid_at"] = pl.utc_iso(o.paid_at)
    if o.cancelled_at:
        data["cancelled_at"] = pl.utc_iso(o.cancelled_at)
    if o.test_flag:
        data["test"] = True
    return {"id": event_id, "type": kind, "occurred_at": pl.utc_iso(o.updated_at), "data": data}


def generic_payment(p: PaymentSnap, event_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "payment_id": p.attempt_id,
        "order_id": p.order_id,
        "amount": pl.money(p.amount, p.currency),
        "currency": p.currency,
        "method": "card",
        **_generic_contact(p.actor, contact=True),
    }
    if not p.succeeded:
        data["code"] = p.error_code
        if p.decline_code:
            data["decline_code"] = p.decline_code
        data["message"] = p.message
    if p.test_flag:
        data["test"] = True
    kind = "payment.succeeded" if p.succeeded else "payment.failed"
    return {"id": event_id, "type": kind, "occurred_at": pl.utc_iso(p.occurred_at), "data": data}


class Custom(Storefront):
    """A custom site on the generic events API: it creates the order, then charges it."""

    platform = "custom"

    def new_checkout(self, actor: Actor, cart: Cart, at: datetime, **kw: Any) -> Checkout:
        cid = f"c-{10000 + self.next_id()}"
        return Checkout(self.spec.key, cid, cid, actor, cart, at, at, **kw)

    def order_id(self, co: Checkout, n: int) -> str:
        return f"o-{20000 + n}"

    def _event_id(self) -> str:
        return f"kc-{self.next_id():06d}"

    def _send(self, at: datetime, events: list[dict[str, Any]], facts: tuple[Snap, ...]) -> None:
        body = pl.dumps(events[0] if len(events) == 1 else events)
        topic = events[0]["type"] if len(events) == 1 else "batch"
        headers = generic_headers(self.spec)
        self.out.emit(self.spec.key, at, topic, body, headers, facts, events=len(events))

    def checkout_changed(self, co: Checkout, *, first: bool) -> None:
        s = co.snap()
        self._send(co.updated_at, [generic_checkout(self.spec, s, self._event_id())], (s,))

    def _payment(
        self, co: Checkout, order: Order, at: datetime, decline: Decline | None
    ) -> PaymentSnap:
        return PaymentSnap(
            store=self.spec.key,
            attempt_id=f"pay-{30000 + self.next_id()}",
            intent_id=order.order_id,
            order_id=order.order_id,
            checkout_id=None,
            actor=co.actor,
            amount=order.cart.total,
            currency=order.cart.currency,
            succeeded=decline is None,
            occurred_at=at,
            decline_code=None
            if decline is None or decline.error_code == "processing_error"
            else decline.decline_code,
            error_code=decline.error_code if decline else None,
            message=decline.message if decline else None,
            test_flag=co.test,
        )

    def decline(self, co: Checkout, at: datetime, decline: Decline) -> None:
        events: list[dict[str, Any]] = []
        facts: list[Snap] = []
        if co.order is None:
            co.order = self._order(co, at - SECOND, "pending", "card")
            co.completed_at = co.order.created_at
            snap = co.order.snap(self.spec.key)
            events.append(generic_order(self.spec, snap, "order.created", self._event_id()))
            facts.append(snap)
        payment = self._payment(co, co.order, at, decline)
        events.append(generic_payment(payment, self._event_id()))
        facts.append(payment)
        self._send(at, events, tuple(facts))

    def pay(self, co: Checkout, at: datetime) -> None:
        if co.order is not None:
            payment = self._payment(co, co.order, at, None)
            order = co.order
            order.status, order.paid_at, order.updated_at = "paid", at, at
            snap = order.snap(self.spec.key)
            self._send(
                at,
                [
                    generic_payment(payment, self._event_id()),
                    generic_order(self.spec, snap, "order.paid", self._event_id()),
                ],
                (payment, snap),
            )
            return
        co.order = self._order(co, at, "paid", "card")
        self._complete(co, at, "order.created")

    def _complete(self, co: Checkout, at: datetime, kind: str) -> None:
        assert co.order is not None
        co.completed_at = co.updated_at = at
        checkout, order = co.snap(), co.order.snap(self.spec.key)
        self._send(
            at,
            [
                generic_checkout(self.spec, checkout, self._event_id()),
                generic_order(self.spec, order, kind, self._event_id()),
            ],
            (checkout, order),
        )

    def pay_later(self, co: Checkout, at: datetime, method: str) -> Order:
        co.order = self._order(co, at, "pending", method)
        self._complete(co, at, "order.created")
        return co.order

    def order_paid(self, order: Order, at: datetime) -> None:
        order.status, order.paid_at, order.updated_at = "paid", at, at
        snap = order.snap(self.spec.key)
        self._send(at, [generic_order(self.spec, snap, "order.paid", self._event_id())], (snap,))

    def order_cancelled(self, order: Order, at: datetime) -> None:
        order.status, order.cancelled_at, order.updated_at = "cancelled", at, at
        snap = order.snap(self.spec.key)
        self._send(
            at, [generic_order(self.spec, snap, "order.cancelled", self._event_id())], (snap,)
        )
