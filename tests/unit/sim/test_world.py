"""The simulated world: prices, rates, and people whose details are plausible and safe."""

from __future__ import annotations

import random
import re
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from reclaim.adapters import geo
from reclaim.domain.stores import validate_store
from reclaim.sim.people import EMAIL_DOMAINS, make_bot, make_customer, make_staff
from reclaim.sim.world import COUNTRIES, RATES, STORE, STORES, local_price, to_eur


@pytest.mark.parametrize(
    ("eur", "currency", "local"),
    [
        ("89.90", "EUR", "89.90"),
        ("89.90", "USD", "96.99"),  # 97.092 -> 97 -> 96.99
        ("89.90", "JPY", "14700"),  # 14 743.6 yen, to the hundred
        ("5.90", "JPY", "970"),  # 967.6 yen, to the ten
        ("24.90", "BRL", "144.99"),
        ("3.00", "GBP", "2.55"),  # under 5: no .99 price point
    ],
)
def test_local_price_points(eur: str, currency: str, local: str) -> None:
    assert local_price(Decimal(eur), currency) == Decimal(local)


def test_fixed_rates_convert_back_to_euros() -> None:
    assert to_eur(Decimal("108.00"), "USD") == Decimal("100.00")
    assert to_eur(Decimal("16400"), "JPY") == Decimal("100.00")
    assert set(RATES) == {c.currency for c in COUNTRIES} | {"EUR"}


def test_countries_are_consistent_with_reclaims_own_geography() -> None:
    codes = {c.code for c in COUNTRIES}
    assert codes >= {"US", "GB", "DE", "FR", "ES", "JP", "CN", "BR", "AU"}
    for c in COUNTRIES:
        for r in c.regions:
            ZoneInfo(r.timezone)
            assert geo.timezone_for(c.code, r.code) == r.timezone, (c.code, r.code)
            assert geo.locale_for(c.code, c.locale, r.code) == c.locale


def test_stores_are_valid_reclaim_stores_with_images_on_their_domain() -> None:
    assert sorted(s.platform for s in STORES) == ["custom", "shopify", "stripe", "woocommerce"]
    for s in STORES:
        validate_store(
            name=s.name,
            platform=s.platform,
            currency=s.currency,
            timezone=s.timezone,
            domain=s.domain,
            webhook_secret="x" * 16,
        )
        assert s.domain.endswith(".example")
        for p in s.catalogue:
            assert s.image_url(p).startswith(f"https://{s.domain}/")


def test_customers_spread_over_countries_with_safe_contact_details() -> None:
    rng = random.Random(5)
    people = [make_customer(rng, i) for i in range(1, 4001)]
    assert len({p.email for p in people}) == len(people)
    for p in people:
        assert p.email.rsplit("@", 1)[1] in EMAIL_DOMAINS
        assert p.email.isascii() and p.email == p.email.lower()
        assert p.currency == p.country.currency and p.locale == p.country.locale
        if p.phone:
            assert re.fullmatch(r"\+\d[\d \-]{7,}", p.phone), p.phone
            if p.country.code in ("US", "CA"):
                assert " 555-01" in p.phone
        assert p.accepts_sms <= bool(p.phone)
    total = sum(c.weight for c in COUNTRIES)
    counts = Counter(p.country.code for p in people)
    for c in COUNTRIES:
        assert counts[c.code] / len(people) == pytest.approx(c.weight / total, abs=0.025)
    stores = Counter(p.store for p in people)
    for s in STORES:
        assert stores[s.key] / len(people) == pytest.approx(s.weight, abs=0.03)
    assert any(not p.first_name.isascii() for p in people if p.first_name)  # 陽翔, Lefèvre …


def test_bots_and_staff_are_recognisable_as_such() -> None:
    rng = random.Random(6)
    bot = make_bot(rng, 1, STORE["shopify"])
    staff = make_staff(rng, 2, STORE["woocommerce"])
    assert bot.is_bot and not bot.is_staff
    assert staff.is_staff and staff.email.endswith("@" + STORE["woocommerce"].test_domain)
