"""The store platforms: their webhooks understood (:class:`PlatformConnector`), their APIs
called (:class:`PlatformClient`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from reclaim.domain.events import ParsedDelivery
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store


class PlatformConnector(Protocol):
    """Understands one platform's webhooks.

    ``verify`` raises :class:`reclaim.errors.SignatureError`; ``parse`` raises
    :class:`reclaim.errors.MalformedPayload` with a reason a person can act on. Both are pure:
    no I/O, time passed in.
    """

    source: str

    def verify(
        self, *, headers: Mapping[str, str], body: bytes, secret: str, now: datetime
    ) -> None: ...

    def topic(self, headers: Mapping[str, str]) -> str: ...

    def event_id(self, headers: Mapping[str, str]) -> str | None: ...

    def shop(self, headers: Mapping[str, str]) -> str | None:
        """The platform's name for the shop a delivery comes from, where the platform signs
        every shop's deliveries with one app secret (Shopify); else ``None``."""
        ...

    def parse(
        self,
        *,
        topic: str,
        headers: Mapping[str, str],
        body: bytes,
        consent_meta_key: str | None = None,
    ) -> ParsedDelivery:
        """The delivery's facts. ``consent_meta_key``: the store's own checkout field that
        holds marketing consent (WooCommerce order meta; the other platforms ignore it)."""
        ...


class PlatformClient(Protocol):
    """Calls a store's platform (adapters/platforms/actions.py); raises ``DeliveryError``."""

    def cancel_order(self, store: Store, order_external_id: str, *, now: datetime) -> None: ...
    def create_coupon(self, store: Store, coupon: Coupon, *, now: datetime) -> str | None:
        """Create ``coupon`` on the store's platform; its id there (None where the platform
        gives none). Raises ``DeliveryError``: ``permanent`` with ``code=None`` when the store
        has no connector for it (the coupon is left to the merchant to import)."""
        ...

    def close(self) -> None: ...
