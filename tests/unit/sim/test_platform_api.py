"""The demo's simulated platform APIs, driven by Reclaim's real platform client over HTTP:
coupons (Stripe promotion codes, Shopify discount codes, WooCommerce coupons) are created
once, a repeat finds the code the platform has, a completed Stripe session names the code by
id, orders are cancelled, and a wrong key is refused."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from helpers import coupon_object, store_object
from reclaim.adapters.platforms.actions import HttpPlatformClient
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store
from reclaim.errors import DeliveryError
from reclaim.sim.platform_api import PlatformApi

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[PlatformApi]:
    with PlatformApi(
        {"stripe": "rk_test_1", "shopify": "shpat_1", "woocommerce": "ck_1:cs_1"}
    ) as server:
        yield server


def store(api: PlatformApi, token: str = "rk_test_1", platform: str = "stripe") -> Store:
    return store_object(platform, api.url, token)


def coupon(code: str = "7KQ3MX9TPA") -> Coupon:
    # As the database gives the value back (``1E+1``), with a minimum order.
    return coupon_object(code=code, case_id=3, value=Decimal("1E+1"), min_order=Decimal(50))


def test_a_coupon_is_made_once_and_named_by_id_at_checkout(api: PlatformApi) -> None:
    client = HttpPlatformClient()
    try:
        ref = client.create_coupon(store(api), coupon(), now=T0)
        assert ref is not None and ref.startswith("promo_")
        # A retry (the first answer lost): the same id, no second promotion code.
        assert client.create_coupon(store(api), coupon(), now=T0) == ref
        other = client.create_coupon(store(api), coupon("XH4RT8BNW2"), now=T0)
    finally:
        client.close()
    assert other != ref and api.promotion_codes == 2
    [named] = api.discounts(("7kq3-mx9t-pa",))  # as a customer might type it
    assert named["promotion_code"] == ref and named["coupon"].startswith("co_")
    assert api.discounts(("NOT-OURS",)) == []


def test_a_wrong_key_and_a_dashed_code_are_refused(api: PlatformApi) -> None:
    client = HttpPlatformClient()
    try:
        with pytest.raises(DeliveryError) as wrong:
            client.create_coupon(store(api, token="rk_test_2"), coupon(), now=T0)
        assert wrong.value.permanent and wrong.value.code == 401
        ref = client.create_coupon(store(api), coupon("7KQ3-MX9T-PA"), now=T0)
    finally:
        client.close()
    assert ref is not None and api.discounts(("7KQ3MX9TPA",))[0]["promotion_code"] == ref


@pytest.mark.parametrize(
    ("platform", "token"), [("shopify", "shpat_1"), ("woocommerce", "ck_1:cs_1")]
)
def test_shopify_and_woocommerce_make_a_code_once_and_cancel_orders(
    api: PlatformApi, platform: str, token: str
) -> None:
    shop = store(api, token=token, platform=platform)
    grouped = replace(coupon("7KQ3-MX9T-PA"), min_order=None)
    client = HttpPlatformClient()
    try:
        ref = client.create_coupon(shop, grouped, now=T0)
        assert ref is not None
        assert client.create_coupon(shop, grouped, now=T0) == ref  # a repeat: looked up
        client.cancel_order(shop, "o-77", now=T0)
        with pytest.raises(DeliveryError) as wrong:
            client.create_coupon(store(api, token="nope:x", platform=platform), grouped, now=T0)
    finally:
        client.close()
    assert api.coupons_created[platform] == 1 and api.cancelled == [(platform, "o-77")]
    assert wrong.value.permanent and wrong.value.code == 401
