"""Stripe: its events (API version 2024-06-20), and the demo's Stripe Checkout store.

The store has no orders: Stripe sends nothing until a PaymentIntent fails or succeeds (linked
to the session by ``metadata.checkout_id``) or the Checkout Session expires 24 h after it was
opened (Stripe's default), without line items. Test mode (``livemode: false``) marks tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from reclaim.sim import payloads as pl
from reclaim.sim.behaviour import Decline
from reclaim.sim.model import Cart, CheckoutSnap, PaymentSnap, Snap
from reclaim.sim.people import Actor
from reclaim.sim.platform_api import PlatformApi
from reclaim.sim.storefronts import SECOND, Checkout, Storefront
from reclaim.sim.world import StoreSpec

STRIPE_SESSION_LIFETIME = timedelta(hours=24)  # Stripe's default ``expires_at``
STRIPE_API_VERSION = "2024-06-20"


def stripe_headers() -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }


def stripe_event(
    *, event_id: str, kind: str, at: datetime, live: bool, obj: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": STRIPE_API_VERSION,
        "created": pl.epoch(at),
        "data": {"object": obj},
        "livemode": live,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def _billing(actor: Actor) -> dict[str, Any]:
    return {
        "address": {
            "city": None,
            "country": actor.country.code,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": actor.region.code,
        },
        "email": actor.email,
        "name": f"{actor.first_name} {actor.last_name}" if actor.first_name else None,
        "phone": actor.phone,
    }


def stripe_payment_intent(
    p: PaymentSnap,
    *,
    created: datetime,
    charge: str | None,
    method_id: str,
    store: StoreSpec,
) -> dict[str, Any]:
    live = not p.test_flag
    error = None
    if not p.succeeded:
        error = {
            "charge": charge,
            "code": p.error_code,
            "decline_code": p.decline_code,
            "doc_url": f"https://docs.stripe.com/error-codes/{p.error_code}",
            "message": p.message,
            "payment_method": {
                "id": method_id,
                "object": "payment_method",
                "billing_details": _billing(p.actor),
                "card": {
                    "brand": "visa",
                    "country": p.actor.country.code,
                    "exp_month": 8,
                    "exp_year": 2028,
                    "funding": "credit",
                    "last4": "4242",
                },
                "created": pl.epoch(created),
                "customer": None,
                "livemode": live,
                "type": "card",
            },
            "type": "card_error",
        }
    return {
        "id": p.intent_id,
        "object": "payment_intent",
        "amount": pl.minor(p.amount, p.currency),
        "amount_capturable": 0,
        "amount_received": pl.minor(p.amount, p.currency) if p.succeeded else 0,
        "capture_method": "automatic_async",
        "client_secret": f"{p.intent_id}_secret_{pl.tag('secret', p.intent_id)[:24]}",
        "confirmation_method": "automatic",
        "created": pl.epoch(created),
        "currency": p.currency.lower(),
        "customer": None,
        "description": None,
        "last_payment_error": error,
        "latest_charge": charge,
        "livemode": live,
        "metadata": {"checkout_id": p.checkout_id, "site": store.domain},
        "payment_method": method_id if p.succeeded else None,
        "payment_method_types": ["card"],
        "receipt_email": p.actor.email if p.succeeded else None,
        "status": "succeeded" if p.succeeded else "requires_payment_method",
    }


def stripe_session(
    store: StoreSpec,
    s: CheckoutSnap,
    *,
    status: str,
    expires_at: datetime,
    payment_intent: str | None,
) -> dict[str, Any]:
    a = s.actor
    live = not s.test_flag
    details = None
    if s.contact:
        details = {**_billing(a), "tax_exempt": "none", "tax_ids": []}
    return {
        "id": s.checkout_id,
        "object": "checkout.session",
        "after_expiration": {
            "recovery": {
                "allow_promotion_codes": True,
                "enabled": True,
                "expires_at": pl.epoch(expires_at + timedelta(days=30)),
                "url": f"https://buy.stripe.com/r/{'live' if live else 'test'}_"
                f"{pl.tag('recover', s.checkout_id)[:24]}",
            }
        },
        "allow_promotion_codes": None,
        "amount_subtotal": pl.minor(s.cart.subtotal, s.cart.currency),
        "amount_total": pl.minor(s.cart.total, s.cart.currency),
        "client_reference_id": None,
        "consent": {"promotions": "opt_in" if a.accepts_email else "opt_out"}
        if s.contact
        else None,
        "consent_collection": {"promotions": "auto", "terms_of_service": "none"},
        "created": pl.epoch(s.created_at),
        "currency": s.cart.currency.lower(),
        "customer": None,
        "customer_creation": "if_required",
        "customer_details": details,
        "customer_email": None,
        "expires_at": pl.epoch(expires_at),
        "livemode": live,
        "locale": a.locale if a.locale in ("ja", "de", "fr", "es", "pt-BR", "zh") else "auto",
        "metadata": {},
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_method_types": ["card"],
        "payment_status": "paid" if status == "complete" else "unpaid",
        "recovered_from": None,
        "shipping_cost": {
            "amount_subtotal": pl.minor(s.cart.shipping, s.cart.currency),
            "amount_tax": 0,
            "amount_total": pl.minor(s.cart.shipping, s.cart.currency),
        },
        "status": status,
        "success_url": f"https://{store.domain}/thanks",
        "url": None,
    }


class Stripe(Storefront):
    platform = "stripe"
    supports_pay_later = False  # card only
    # The store's Stripe, for the promotion codes a customer enters (reclaim.sim.platform_api);
    # None: no code entered is known, as on a Stripe the coupons were never created on.
    promotions: PlatformApi | None = None

    def new_checkout(self, actor: Actor, cart: Cart, at: datetime, **kw: Any) -> Checkout:
        self.next_id()
        prefix = "cs_test_" if kw.get("test") else "cs_live_"
        co = Checkout(self.spec.key, prefix + self._b62(40), "", actor, cart, at, at, **kw)
        co.expires_at = at + STRIPE_SESSION_LIFETIME
        return co

    def _send(
        self,
        at: datetime,
        event_id: str,
        kind: str,
        obj: dict[str, Any],
        facts: tuple[Snap, ...],
        *,
        live: bool,
    ) -> None:
        payload = stripe_event(event_id=event_id, kind=kind, at=at, live=live, obj=obj)
        self.out.emit(self.spec.key, at, kind, pl.dumps(payload), stripe_headers(), facts)

    def _intent(self, co: Checkout) -> str:
        if co.intent_id is None:
            co.intent_id = "pi_3" + self._b62(24)
        return co.intent_id

    def decline(self, co: Checkout, at: datetime, decline: Decline) -> None:
        intent = self._intent(co)
        event_id = "evt_3" + self._b62(24)
        # A failed 3-D Secure authentication creates no charge.
        charge = (
            None if decline.decline_code == "authentication_required" else "ch_3" + self._b62(24)
        )
        payment = PaymentSnap(
            store=self.spec.key,
            attempt_id=charge or f"{intent}:{event_id}",
            intent_id=intent,
            order_id=None,
            checkout_id=co.checkout_id,
            actor=co.actor,
            amount=co.cart.total,
            currency=co.cart.currency,
            succeeded=False,
            occurred_at=at,
            decline_code=None if decline.error_code == "processing_error" else decline.decline_code,
            error_code=decline.error_code,
            message=decline.message,
            test_flag=co.test,
        )
        obj = stripe_payment_intent(
            payment,
            created=co.created_at,
            charge=charge,
            method_id="pm_1" + self._b62(24),
            store=self.spec,
        )
        self._send(at, event_id, "payment_intent.payment_failed", obj, (payment,), live=not co.test)

    def pay(self, co: Checkout, at: datetime) -> None:
        intent = self._intent(co)
        charge = "ch_3" + self._b62(24)
        payment = PaymentSnap(
            store=self.spec.key,
            attempt_id=charge,
            intent_id=intent,
            order_id=None,
            checkout_id=co.checkout_id,
            actor=co.actor,
            amount=co.cart.total,
            currency=co.cart.currency,
            succeeded=True,
            occurred_at=at,
            test_flag=co.test,
        )
        obj = stripe_payment_intent(
            payment,
            created=co.created_at,
            charge=charge,
            method_id="pm_1" + self._b62(24),
            store=self.spec,
        )
        co.completed_at = co.updated_at = at
        self._send(
            at,
            "evt_3" + self._b62(24),
            "payment_intent.succeeded",
            obj,
            (payment,),
            live=not co.test,
        )
        assert co.expires_at is not None
        session = stripe_session(
            self.spec,
            co.snap(),
            status="complete",
            expires_at=co.expires_at,
            payment_intent=intent,
        )
        session["discounts"] = (
            self.promotions.discounts(co.cart.codes) if self.promotions and co.cart.codes else []
        )
        # The session completes its checkout a second after the payment (Reclaim follows the
        # payment; the session names the promotion codes used, by id).
        self._send(
            at + SECOND,
            "evt_1" + self._b62(24),
            "checkout.session.completed",
            session,
            (co.snap(updated_at=at + SECOND),),
            live=not co.test,
        )

    def can_resume(self, co: Checkout, at: datetime) -> bool:
        return co.completed_at is None and co.expires_at is not None and at < co.expires_at

    def finish(self, co: Checkout) -> None:
        if co.completed_at is not None or co.expires_at is None:
            return
        at = co.expires_at
        snap = co.snap(updated_at=at, expired_at=at)
        session = stripe_session(
            self.spec, snap, status="expired", expires_at=at, payment_intent=co.intent_id
        )
        self._send(
            at,
            "evt_1" + self._b62(24),
            "checkout.session.expired",
            session,
            (snap,),
            live=not co.test,
        )
