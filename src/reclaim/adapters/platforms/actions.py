"""Calls to the stores' platforms: cancelling an unpaid order whose hold ran out.

* Shopify: ``POST {platform_api_url}/admin/api/2024-10/orders/{id}/cancel.json`` with the
  app's ``X-Shopify-Access-Token`` (needs the ``write_orders`` scope).
* WooCommerce: ``PUT {platform_api_url}/wp-json/wc/v3/orders/{id}`` ``{"status": "cancelled"}``
  with the REST API key as HTTP Basic (``platform_api_token`` = ``ck_…:cs_…``).
* Custom sites (and Stripe-only stores): an outgoing webhook to the store's ``webhook_url``,
  ``{"type": "order.cancel", "order_id": …, "reason": "hold_expired"}``, signed like every
  Reclaim webhook (``X-Reclaim-Signature``).

A store without what its platform needs gets ``DeliveryError(permanent=True, code=None)``:
the action is skipped, with the reason, for the operator.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

import httpx

from reclaim.adapters.channels.webhook import WebhookSender
from reclaim.domain.messages import OutgoingWebhook
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError

SHOPIFY_API = "2024-10"


class HttpPlatformClient:
    def __init__(self, *, timeout: float = 15.0) -> None:
        # Made on first use: most processes never call a platform, and TLS setup costs ~40 ms.
        self._timeout = timeout
        self._client: httpx.Client | None = None
        self._hooks: WebhookSender | None = None

    @property
    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout, follow_redirects=False)
        return self._client

    @property
    def _webhooks(self) -> WebhookSender:
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
        if store.platform in ("shopify", "woocommerce"):
            if not s.platform_api_url or not s.platform_api_token:
                raise DeliveryError(
                    f"no platform API access set for {store.platform} "
                    "(reclaim store set ID --platform-api-url … --platform-api-token …)",
                    permanent=True,
                )
            base = s.platform_api_url.rstrip("/")
            try:
                if store.platform == "shopify":
                    r = self._http.post(
                        f"{base}/admin/api/{SHOPIFY_API}/orders/{order}/cancel.json",
                        headers={"X-Shopify-Access-Token": s.platform_api_token},
                        json={"reason": "declined", "email": True},
                    )
                else:
                    key, _, secret = s.platform_api_token.partition(":")
                    r = self._http.put(
                        f"{base}/wp-json/wc/v3/orders/{order}",
                        auth=(key, secret),
                        json={"status": "cancelled"},
                    )
            except httpx.HTTPError as exc:
                raise DeliveryError(
                    f"{store.platform}: {type(exc).__name__}", permanent=False
                ) from exc
            if r.status_code < 300:
                return
            if (
                store.platform == "shopify"
                and r.status_code == 422
                and b"cancel" in r.content.lower()
            ):
                return  # already cancelled: the outcome wanted
            transient = r.status_code in (408, 429) or r.status_code >= 500
            raise DeliveryError(
                f"{store.platform} answered {r.status_code}",
                permanent=not transient,
                code=r.status_code,
            )
        if not s.webhook_url:
            raise DeliveryError(
                "no webhook URL to tell the site (reclaim store set ID --webhook-url …)",
                permanent=True,
            )
        self._webhooks.send(
            OutgoingWebhook(
                url=s.webhook_url,
                secret=s.webhook_signing_secret or "",
                payload={
                    "type": "order.cancel",
                    "order_id": order_external_id,
                    "reason": "hold_expired",
                },
            ),
            now=now,
        )
