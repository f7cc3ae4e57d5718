"""The demo's simulated Stripe, driven by Reclaim's real platform client over HTTP: coupons
and promotion codes are created once, a repeat finds the code Stripe has, a completed
session names the code by id, and a wrong key is refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from reclaim.adapters.platforms.actions import HttpPlatformClient
from reclaim.domain.steps import Coupon
from reclaim.domain.stores import Store, StoreSettings
from reclaim.errors import DeliveryError
from reclaim.sim.stripe_api import StripeApi

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def api() -> Iterator[StripeApi]:
    with StripeApi("rk_test_1") as server:
        yield server


def store(api: StripeApi, token: str = "rk_test_1") -> Store:
    return Store(
        id="st_1",
        name="Shop",
        platform="stripe",
        currency="EUR",
        timezone="Europe/Paris",
        domain="shop.example",
        webhook_secret="whsec_1",
        activated_at=T0,
        settings_json=StoreSettings(platform_api_url=api.url, platform_api_token=token).to_json(),
    )


def coupon(code: str = "7KQ3MX9TPA", kind: str = "percent") -> Coupon:
    return Coupon(
        store_id="st_1",
        case_id=3,
        code=code,
        kind=kind,
        value=Decimal("1E+1"),  # as the database gives it back
        currency="EUR",
        min_order=Decimal("50"),
        expires_at=T0 + timedelta(hours=48),
        created_at=T0,
    )


def test_a_coupon_is_made_once_and_named_by_id_at_checkout(api: StripeApi) -> None:
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


def test_a_wrong_key_and_a_dashed_code_are_refused(api: StripeApi) -> None:
    client = HttpPlatformClient()
    try:
        with pytest.raises(DeliveryError) as wrong:
            client.create_coupon(store(api, token="rk_test_2"), coupon(), now=T0)
        assert wrong.value.permanent and wrong.value.code == 401
        ref = client.create_coupon(store(api), coupon("7KQ3-MX9T-PA"), now=T0)
    finally:
        client.close()
    assert ref is not None and api.discounts(("7KQ3MX9TPA",))[0]["promotion_code"] == ref
