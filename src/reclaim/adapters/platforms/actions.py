"""Calls to the stores' platforms: cancelling an unpaid order whose hold ran out (SPEC S7),
creating the coupons Reclaim issues (SPEC S6: "pushed to the store through its API where a
connector can, or exported").

Cancelling an order:

* Shopify: ``POST {platform_api_url}/admin/api/2024-10/orders/{id}/cancel.json`` with the
  app's ``X-Shopify-Access-Token`` (needs the ``write_orders`` scope).
* WooCommerce: ``PUT {platform_api_url}/wp-json/wc/v3/orders/{id}`` ``{"status": "cancelled"}``
  with the REST API key as HTTP Basic (``platform_api_token`` = ``ck_…:cs_…``).
* Custom sites (and Stripe-only stores): an outgoing webhook to the store's ``webhook_url``,
  ``{"type": "order.cancel", "order_id": …, "reason": "hold_expired"}``, signed like every
  Reclaim webhook (``X-Reclaim-Signature``).

Creating a coupon (single use, its expiry and minimum order; the platform's id is returned):

* Shopify: the Admin GraphQL API (``discountCodeBasicCreate``, or
  ``discountCodeFreeShippingCreate``; ``write_discounts`` scope); a code Shopify already has
  ("TAKEN": an earlier try that got through) is looked up by ``codeDiscountNodeByCode``.
* WooCommerce: ``POST /wp-json/wc/v3/coupons``; a code it already has is looked up.
* Stripe (``platform_api_token`` = a secret or restricted key ``sk_…``/``rk_…``,
  ``platform_api_url`` only to point elsewhere than ``https://api.stripe.com``): a coupon
  (``duration=once``, ``max_redemptions=1``, ``redeem_by``) and its promotion code, whose
  ``promo_…`` id is how a Checkout Session names it later; both with an ``Idempotency-Key``.
  Stripe codes are letters and digits only: the code is pushed without its dashes. Stripe
  coupons cannot waive shipping: a free-shipping coupon is refused (permanent).
* Custom sites: a signed webhook ``{"type": "coupon.create", "coupon": {…}}`` to
  ``webhook_url``, its delivery id ``coupon-<store>-<code>`` so the site can drop a repeat.

A store without what its platform needs gets ``DeliveryError(permanent=True, code=None)``:
the action is skipped, with the reason, for the operator; a coupon is then left to the
merchant to import (``reclaim coupons export``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from reclaim.adapters.channels.webhook import WebhookSender
from reclaim.domain.incentives import normalise_code
from reclaim.domain.messages import OutgoingWebhook
from reclaim.domain.money import amount_text, plain, to_minor
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError

SHOPIFY_API = "2024-10"
STRIPE_API = "https://api.stripe.com"
STRIPE_VERSION = "2024-06-20"  # the request and answer shapes this module is written for

_SHOPIFY_CREATE = """
mutation reclaimCoupon($d: %(input)s!) {
  %(mutation)s(%(argument)s: $d) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}"""
_SHOPIFY_BY_CODE = """
query reclaimCouponByCode($code: String!) { codeDiscountNodeByCode(code: $code) { id } }"""


class HttpPlatformClient:
    """One per process, shared by its worker threads (httpx clients are thread-safe)."""

    def __init__(self, *, timeout: float = 15.0) -> None:
        # Made on first use: most processes never call a platform, and TLS setup costs ~40 ms.
        self._timeout = timeout
        self._client: httpx.Client | None = None
        self._hooks: WebhookSender | None = None
        self._lock = threading.Lock()

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
        return self._client

    @property
    def _webhooks(self) -> WebhookSender:
        if self._hooks is None:
            with self._lock:
                if self._hooks is None:
                    self._hooks = WebhookSender(timeout=self._timeout)
        return self._hooks

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._hooks is not None:
            self._hooks.close()

    def cancel_order(self, store: Store, order_external_id: str, *, now: datetime) -> None:
        s = store.settings
        order = quote(order_external_id, safe="")
        if store.platform == "shopify":
            base, token = _api_access(store)
            r = self._call(
                "shopify",
                "POST",
                f"{base}/admin/api/{SHOPIFY_API}/orders/{order}/cancel.json",
                headers={"X-Shopify-Access-Token": token},
                json={"reason": "declined", "email": True},
                ok=(422,),
            )
            if r.status_code == 422 and b"cancel" not in r.content.lower():
                raise DeliveryError("shopify answered 422", permanent=True, code=422)
            return  # a 422 naming the cancellation: already cancelled, the outcome wanted
        if store.platform == "woocommerce":
            base, token = _api_access(store)
            key, _, secret = token.partition(":")
            self._call(
                "woocommerce",
                "PUT",
                f"{base}/wp-json/wc/v3/orders/{order}",
                auth=(key, secret),
                json={"status": "cancelled"},
            )
            return
        self._site_webhook(store).send(
            OutgoingWebhook(
                url=s.webhook_url or "",
                secret=s.webhook_signing_secret or "",
                payload={
                    "type": "order.cancel",
                    "order_id": order_external_id,
                    "reason": "hold_expired",
                },
            ),
            now=now,
        )

    # -- coupons ----------------------------------------------------------------------------

    def create_coupon(self, store: Store, coupon: Coupon, *, now: datetime) -> str | None:
        if store.platform in ("shopify", "woocommerce"):
            _amounts_in_store_currency(store, coupon)
        if store.platform == "shopify":
            return self._shopify_coupon(store, coupon)
        if store.platform == "woocommerce":
            return self._woo_coupon(store, coupon)
        if store.platform == "stripe":
            return self._stripe_coupon(store, coupon)
        s = store.settings
        self._site_webhook(store).send(
            OutgoingWebhook(
                url=s.webhook_url or "",
                secret=s.webhook_signing_secret or "",
                payload={"type": "coupon.create", "coupon": coupon.to_json()},
            ),
            now=now,
            delivery_id=f"coupon-{store.id}-{coupon.code}",
        )
        return None

    def _shopify_coupon(self, store: Store, coupon: Coupon) -> str:
        base, token = _api_access(store)
        url = f"{base}/admin/api/{SHOPIFY_API}/graphql.json"
        headers = {"X-Shopify-Access-Token": token}
        fields: dict[str, Any] = {
            "title": f"Reclaim {coupon.code}",
            "code": coupon.code,
            "startsAt": _iso(coupon.created_at),
            "endsAt": _iso(coupon.expires_at),
            "customerSelection": {"all": True},
            "usageLimit": 1,
            "appliesOncePerCustomer": True,
        }
        if coupon.min_order is not None:
            fields["minimumRequirement"] = {
                "subtotal": {
                    "greaterThanOrEqualToSubtotal": amount_text(coupon.min_order, coupon.currency)
                }
            }
        if coupon.kind == "free_shipping":
            names = ("DiscountCodeFreeShippingInput", "discountCodeFreeShippingCreate")
            argument = "freeShippingCodeDiscount"
            fields["destination"] = {"all": True}
        else:
            names = ("DiscountCodeBasicInput", "discountCodeBasicCreate")
            argument = "basicCodeDiscount"
            value: dict[str, Any] = (
                {"percentage": float(coupon.value / 100)}
                if coupon.kind == "percent"
                else {
                    "discountAmount": {
                        "amount": amount_text(coupon.value, coupon.currency),
                        "appliesOnEachItem": False,
                    }
                }
            )
            fields["customerGets"] = {"value": value, "items": {"all": True}}
        query = _SHOPIFY_CREATE % {"input": names[0], "mutation": names[1], "argument": argument}
        data = self._shopify_graphql(url, headers, query, {"d": fields})
        made = data.get(names[1]) or {}
        errors = made.get("userErrors") or []
        if any(isinstance(e, dict) and e.get("code") == "TAKEN" for e in errors):
            found = self._shopify_graphql(url, headers, _SHOPIFY_BY_CODE, {"code": coupon.code})
            node = found.get("codeDiscountNodeByCode") or {}
            if isinstance(node.get("id"), str):
                return str(node["id"])  # an earlier try got through
        if errors:
            said = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
            raise DeliveryError(
                f"shopify refused the coupon: {said[:300]}", permanent=True, code=422
            )
        node = made.get("codeDiscountNode") or {}
        if not isinstance(node.get("id"), str):
            raise DeliveryError("shopify answered without the discount's id", permanent=False)
        return str(node["id"])

    def _shopify_graphql(
        self, url: str, headers: dict[str, str], query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        body = _json(
            self._call(
                "shopify",
                "POST",
                url,
                headers=headers,
                json={"query": query, "variables": variables},
            ),
            "shopify",
        )
        errors = body.get("errors")
        if errors:
            throttled = any(
                isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED"
                for e in (errors if isinstance(errors, list) else [])
            )
            raise DeliveryError(
                "shopify: throttled" if throttled else f"shopify: {str(errors)[:300]}",
                permanent=not throttled,
                code=None if throttled else 400,
            )
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    def _woo_coupon(self, store: Store, coupon: Coupon) -> str:
        base, token = _api_access(store)
        key, _, secret = token.partition(":")
        url = f"{base}/wp-json/wc/v3/coupons"
        fields: dict[str, Any] = {
            "code": coupon.code,
            "discount_type": "percent" if coupon.kind == "percent" else "fixed_cart",
            "amount": "0" if coupon.kind == "free_shipping" else plain(coupon.value),
            "free_shipping": coupon.kind == "free_shipping",
            "usage_limit": 1,
            "usage_limit_per_user": 1,
            "date_expires_gmt": coupon.expires_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "description": f"Reclaim: recovery coupon of case {coupon.case_id}",
        }
        if coupon.min_order is not None:
            fields["minimum_amount"] = amount_text(coupon.min_order, coupon.currency)
        r = self._call("woocommerce", "POST", url, auth=(key, secret), json=fields, ok=(400,))
        body = _json(r, "woocommerce")
        if r.status_code == 400:
            if body.get("code") != "woocommerce_rest_coupon_code_already_exists":
                said = str(body.get("message") or body.get("code") or "")[:300]
                raise DeliveryError(
                    f"woocommerce refused the coupon: {said}", permanent=True, code=400
                )
            found = self._call(
                "woocommerce", "GET", url, auth=(key, secret), params={"code": coupon.code}
            )
            try:
                listed = found.json() if found.content else []
            except ValueError as exc:
                raise DeliveryError("woocommerce answered with no JSON", permanent=False) from exc
            if isinstance(listed, list) and listed and isinstance(listed[0], dict):
                body = listed[0]  # an earlier try got through
        if body.get("id") is None:
            raise DeliveryError("woocommerce answered without the coupon's id", permanent=False)
        return str(body["id"])

    def _stripe_coupon(self, store: Store, coupon: Coupon) -> str:
        if coupon.kind == "free_shipping":
            raise DeliveryError(
                "Stripe coupons cannot waive shipping: use a percent or fixed incentive on this "
                "store's flows",
                permanent=True,
                code=400,
            )
        s = store.settings
        if not s.platform_api_token:
            raise DeliveryError(
                "no Stripe API key set (reclaim store set ID --platform-api-token rk_…)",
                permanent=True,
            )
        base = (s.platform_api_url or STRIPE_API).rstrip("/")
        code = normalise_code(coupon.code)  # Stripe codes are letters and digits only
        expires = int(coupon.expires_at.timestamp())
        made: dict[str, Any] = {
            "duration": "once",
            "max_redemptions": 1,
            "redeem_by": expires,
            "name": f"Reclaim {code}"[:40],
            "metadata[reclaim_case]": coupon.case_id,
        }
        if coupon.kind == "percent":
            made["percent_off"] = plain(coupon.value)
        else:
            made["amount_off"] = to_minor(coupon.value, coupon.currency)
            made["currency"] = coupon.currency.lower()
        token = s.platform_api_token
        created = self._stripe(
            base, token, "POST", "/v1/coupons", made, key=f"reclaim-coupon-{store.id}-{code}"
        )
        promo: dict[str, Any] = {
            "coupon": created.get("id"),
            "code": code,
            "max_redemptions": 1,
            "expires_at": expires,
            "metadata[reclaim_case]": coupon.case_id,
        }
        if coupon.min_order is not None:
            promo["restrictions[minimum_amount]"] = to_minor(coupon.min_order, coupon.currency)
            promo["restrictions[minimum_amount_currency]"] = coupon.currency.lower()
        try:
            answer = self._stripe(
                base,
                token,
                "POST",
                "/v1/promotion_codes",
                promo,
                key=f"reclaim-promo-{store.id}-{code}",
            )
        except _StripeExists:
            found = {"code": code, "limit": 1}
            listed = self._stripe(base, token, "GET", "/v1/promotion_codes", found, key=None)
            rows = listed.get("data") or []
            answer = rows[0] if rows and isinstance(rows[0], dict) else {}
        if not isinstance(answer.get("id"), str):
            raise DeliveryError("stripe answered without the promotion code's id", permanent=False)
        return str(answer["id"])

    def _stripe(
        self,
        base: str,
        token: str,
        method: str,
        path: str,
        fields: dict[str, Any],
        *,
        key: str | None,
    ) -> dict[str, Any]:
        """One Stripe call (form-encoded, pinned API version); a 400 is a refusal, or
        :class:`_StripeExists` when Stripe already has the object."""
        headers = {"Authorization": f"Bearer {token}", "Stripe-Version": STRIPE_VERSION}
        if key is not None:
            headers["Idempotency-Key"] = key
        if method == "GET":
            r = self._call("stripe", "GET", base + path, headers=headers, params=fields)
        else:
            r = self._call("stripe", "POST", base + path, headers=headers, data=fields, ok=(400,))
        body = _json(r, "stripe")
        if r.status_code == 400:
            found = body.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            said = str(error.get("message") or "")
            if error.get("code") == "resource_already_exists" or "already exists" in said:
                raise _StripeExists(said)
            raise DeliveryError(
                f"stripe refused the coupon: {said[:300]}", permanent=True, code=400
            )
        return body

    # -- shared -----------------------------------------------------------------------------

    def _call(
        self, platform: str, method: str, url: str, *, ok: tuple[int, ...] = (), **kwargs: Any
    ) -> httpx.Response:
        """One HTTP call; a 2xx (or a status in ``ok``) is returned, anything else raises:
        408, 429 and 5xx as transient, the rest as permanent, network errors as transient."""
        try:
            r = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{platform}: {type(exc).__name__}", permanent=False) from exc
        if r.status_code < 300 or r.status_code in ok:
            return r
        transient = r.status_code in (408, 429) or r.status_code >= 500
        raise DeliveryError(
            f"{platform} answered {r.status_code}", permanent=not transient, code=r.status_code
        )

    def _site_webhook(self, store: Store) -> WebhookSender:
        if not store.settings.webhook_url:
            raise DeliveryError(
                "no webhook URL to tell the site (reclaim store set ID --webhook-url …)",
                permanent=True,
            )
        return self._webhooks


class _StripeExists(DeliveryError):
    """Stripe already has this promotion code (an earlier try got through); anywhere else a
    refusal."""

    def __init__(self, message: str) -> None:
        super().__init__(f"stripe refused the coupon: {message[:300]}", permanent=True, code=400)


def _amounts_in_store_currency(store: Store, coupon: Coupon) -> None:
    """Shopify and WooCommerce take a coupon's amounts (a fixed discount, a minimum order) in
    the shop's currency: one in another currency cannot be made as the email states it."""
    money = coupon.kind == "fixed" or coupon.min_order is not None
    if money and coupon.currency.upper() != store.currency.upper():
        raise DeliveryError(
            f"{store.platform} takes coupon amounts in the shop's currency ({store.currency}), "
            f"this coupon's are in {coupon.currency}: use a percent incentive without a minimum "
            "order for carts in other currencies",
            permanent=True,
            code=400,
        )


def _api_access(store: Store) -> tuple[str, str]:
    s = store.settings
    if not s.platform_api_url or not s.platform_api_token:
        raise DeliveryError(
            f"no platform API access set for {store.platform} "
            "(reclaim store set ID --platform-api-url … --platform-api-token …)",
            permanent=True,
        )
    return s.platform_api_url.rstrip("/"), s.platform_api_token


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(r: httpx.Response, platform: str) -> dict[str, Any]:
    try:
        body = r.json() if r.content else {}
    except ValueError as exc:
        raise DeliveryError(
            f"{platform} answered {r.status_code} with no JSON", permanent=False
        ) from exc
    return body if isinstance(body, dict) else {}
