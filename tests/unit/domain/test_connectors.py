"""What Reclaim can do on a store's platform with the access it was given (issue 14), and the
store setting that says the operator imports Reclaim's coupon codes."""

from __future__ import annotations

import pytest

from helpers import store_with
from reclaim.domain.connectors import can_cancel_orders, can_create_coupons, codes_work
from reclaim.domain.stores import StoreSettings, validate_settings
from reclaim.errors import InvalidInput

API = {"platform_api_url": "https://shop.myshopify.com", "platform_api_token": "t"}
HOOK = {"webhook_url": "https://site.example/hooks"}


store = store_with


@pytest.mark.parametrize(
    ("platform", "settings", "cancel", "coupons"),
    [
        ("shopify", {}, False, False),
        ("shopify", {"platform_api_token": "t"}, False, False),  # no URL: no API
        ("shopify", API, True, True),
        ("shopify", HOOK, False, False),  # Shopify is not told through a webhook
        ("woocommerce", API, True, True),
        ("woocommerce", {}, False, False),
        ("stripe", {"platform_api_token": "rk_1"}, False, True),  # Stripe has no orders
        ("stripe", HOOK, True, False),
        ("custom", HOOK, True, True),
        ("custom", {}, False, False),
    ],
)
def test_what_reclaim_can_do_follows_the_access_it_was_given(
    platform: str, settings: dict[str, str], cancel: bool, coupons: bool
) -> None:
    shop = store(platform, **settings)
    assert can_cancel_orders(shop) is cancel
    assert can_create_coupons(shop) is coupons
    assert codes_work(shop) is coupons
    assert codes_work(store(platform, coupons_imported=True, **settings)) is True


def test_the_import_setting_round_trips_and_is_kept_only_when_set() -> None:
    assert "coupons_imported" not in StoreSettings().to_json()
    on = StoreSettings(coupons_imported=True)
    assert on.to_json()["coupons_imported"] is True
    assert StoreSettings.from_json(on.to_json()).coupons_imported is True
    assert StoreSettings.from_json({"coupons_imported": "yes"}).coupons_imported is False
    validate_settings(on)
    with pytest.raises(InvalidInput) as bad:
        validate_settings(StoreSettings(coupons_imported="yes"))  # type: ignore[arg-type]
    assert bad.value.field == "coupons-imported"
