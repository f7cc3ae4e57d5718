"""Platform connectors: one per webhook source, each pure (no I/O, time passed in).

``connector_for(source)`` gives the connector for ``"shopify"``, ``"woocommerce"``,
``"stripe"`` or ``"generic"``; each implements
:class:`reclaim.services.ports.PlatformConnector`.
"""

from __future__ import annotations

from reclaim.adapters.platforms.generic import GenericConnector
from reclaim.adapters.platforms.shopify import ShopifyConnector
from reclaim.adapters.platforms.stripe import StripeConnector
from reclaim.adapters.platforms.woocommerce import WooCommerceConnector
from reclaim.errors import NotFound

Connector = ShopifyConnector | WooCommerceConnector | StripeConnector | GenericConnector

_CONNECTORS: dict[str, Connector] = {
    "shopify": ShopifyConnector(),
    "woocommerce": WooCommerceConnector(),
    "stripe": StripeConnector(),
    "generic": GenericConnector(),
}
SOURCES: tuple[str, ...] = tuple(_CONNECTORS)


def connector_for(source: str) -> Connector:
    """The connector for ``source``; :class:`~reclaim.errors.NotFound` for any other name."""
    connector = _CONNECTORS.get(source) if isinstance(source, str) else None
    if connector is None:
        raise NotFound(f"unknown source {source!r}; expected one of {', '.join(SOURCES)}")
    return connector


__all__ = [
    "SOURCES",
    "Connector",
    "GenericConnector",
    "ShopifyConnector",
    "StripeConnector",
    "WooCommerceConnector",
    "connector_for",
]
