"""What Reclaim can do on a store's platform with the access it was given (SPEC S6, S7).

A message may only state what Reclaim did or will do (issue 14): "we will cancel your order"
only where Reclaim has a way to cancel it, a coupon code only where the code will work at the
store's checkout. These predicates read the store's settings only; they must agree with what
the platform adapter (``adapters/platforms/actions.py``) needs to make each call.
"""

from __future__ import annotations

from reclaim.domain.stores import Platform, Store

_API_PLATFORMS = (Platform.SHOPIFY, Platform.WOOCOMMERCE)


def can_cancel_orders(store: Store) -> bool:
    """Whether Reclaim can cancel an unpaid order on the store's platform: Shopify and
    WooCommerce through their API (URL and token set); custom sites and Stripe-only stores
    through a signed ``order.cancel`` webhook to the store's ``webhook_url``."""
    s = store.settings
    if store.platform in _API_PLATFORMS:
        return bool(s.platform_api_url and s.platform_api_token)
    return bool(s.webhook_url)


def can_create_coupons(store: Store) -> bool:
    """Whether Reclaim can create its coupons on the store's platform: Shopify and WooCommerce
    with API URL and token, Stripe with a key, custom sites with a ``webhook_url``."""
    s = store.settings
    if store.platform in _API_PLATFORMS:
        return bool(s.platform_api_url and s.platform_api_token)
    if store.platform == Platform.STRIPE:
        return bool(s.platform_api_token)
    return bool(s.webhook_url)


def codes_work(store: Store) -> bool:
    """Whether a coupon code Reclaim issues will work at the store's checkout by the time the
    customer types it: Reclaim creates it there before its message goes, or the operator
    imports Reclaim's codes themselves (``coupons_imported``)."""
    return can_create_coupons(store) or store.settings.coupons_imported
