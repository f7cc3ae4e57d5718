"""The people who shop: customers, bots and the merchants' staff testing their own shops.

Contact details are synthetic: e-mail addresses only use the domains RFC 2606 reserves
(``example.com``, ``example.net``, ``example.org``); phone numbers follow each country's
format and use the ranges set aside for fiction where a regulator publishes one (US/CA
555-01xx, UK 07700 900xxx, FR 06 39 98 xx xx), otherwise random digits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from reclaim.sim.world import COUNTRIES, COUNTRY, STORES, Country, Region, StoreSpec, ascii_name

# Fictional number ranges where a regulator publishes one; random digits elsewhere.
_PHONE_PATTERNS = {
    "US": "+1 {area} 555-01{d2}",
    "CA": "+1 {area} 555-01{d2}",
    "GB": "+44 7700 900{d3}",
    "FR": "+33 6 39 98 {d2} {d2b}",
    "DE": "+49 151 {d4}{d4b}",
    "ES": "+34 6{d2} {d3} {d3b}",
    "IT": "+39 3{d2} {d3} {d4}",
    "NL": "+31 6 {d4}{d4b}",
    "JP": "+81 90-{d4}-{d4b}",
    "CN": "+86 139 {d4} {d4b}",
    "BR": "+55 11 9{d4}-{d4b}",
    "AU": "+61 4{d2} {d3} {d3b}",
    "MX": "+52 55 {d4} {d4b}",
}
_AREAS = ("212", "415", "312", "206", "305", "303", "512", "416", "604")


def fake_phone(rng: random.Random, country: str) -> str:
    def digits(n: int) -> str:
        return "".join(str(rng.randrange(10)) for _ in range(n))

    return _PHONE_PATTERNS[country].format(
        area=rng.choice(_AREAS),
        d2=digits(2),
        d2b=digits(2),
        d3=digits(3),
        d3b=digits(3),
        d4=digits(4),
        d4b=digits(4),
    )


BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
)
#: Crawlers and scripted clients that reach checkouts (card testers, scrapers, link previews).
BOTS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "python-requests/2.32.3",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.0.0 Safari/537.36",
    "curl/8.7.1",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
)
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")


@dataclass(frozen=True, slots=True)
class Actor:
    """Someone who shops: a customer, a bot, or one of the merchant's staff testing."""

    index: int
    kind: str  # customer | bot | staff
    store: str
    country: Country
    region: Region
    first_name: str | None
    last_name: str | None
    email: str
    phone: str | None
    accepts_email: bool
    accepts_sms: bool
    user_agent: str
    orders_before: int  # earlier orders at this store
    platform_customer_id: int = field(default=0)

    @property
    def key(self) -> str:
        """Reclaim's customer key: the lower-cased address (every actor here has one)."""
        return self.email.lower()

    @property
    def is_bot(self) -> bool:
        return self.kind == "bot"

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def locale(self) -> str:
        return self.country.locale

    @property
    def currency(self) -> str:
        return self.country.currency

    @property
    def timezone(self) -> str:
        return self.region.timezone


def pick_country(rng: random.Random) -> Country:
    return rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES], k=1)[0]


def pick_store(rng: random.Random) -> StoreSpec:
    return rng.choices(STORES, weights=[s.weight for s in STORES], k=1)[0]


def make_customer(rng: random.Random, index: int) -> Actor:
    country = pick_country(rng)
    region = rng.choices(country.regions, weights=[r.weight for r in country.regions], k=1)[0]
    first, first_ascii = rng.choice(country.first_names)
    last, last_ascii = rng.choice(country.last_names)
    local = f"{first_ascii}.{ascii_name(last_ascii)}.{index:04d}"
    store = pick_store(rng)
    has_phone = rng.random() < country.phone_share
    accepts_email = rng.random() < country.email_consent
    return Actor(
        index=index,
        kind="customer",
        store=store.key,
        country=country,
        region=region,
        first_name=first,
        last_name=last,
        email=f"{local}@{rng.choice(EMAIL_DOMAINS)}",
        phone=fake_phone(rng, country.code) if has_phone else None,
        accepts_email=accepts_email,
        accepts_sms=has_phone and rng.random() < 0.3,
        user_agent=rng.choice(BROWSERS),
        orders_before=rng.choice((0, 0, 0, 1, 2, 5)),
        platform_customer_id=7_700_000_000 + index,
    )


def make_bot(rng: random.Random, index: int, store: StoreSpec) -> Actor:
    country = pick_country(rng)
    tag = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))
    return Actor(
        index=index,
        kind="bot",
        store=store.key,
        country=country,
        region=country.regions[0],
        first_name=None,
        last_name=None,
        email=f"{tag}@{rng.choice(EMAIL_DOMAINS)}",
        phone=None,
        accepts_email=False,
        accepts_sms=False,
        user_agent=rng.choice(BOTS),
        orders_before=0,
    )


def make_staff(rng: random.Random, index: int, store: StoreSpec) -> Actor:
    """The merchant testing the shop: addresses at the store's declared test domain."""
    country = COUNTRY["DE"] if store.currency == "EUR" else COUNTRY["US"]
    return Actor(
        index=index,
        kind="staff",
        store=store.key,
        country=country,
        region=country.regions[0],
        first_name="Test",
        last_name="Order",
        email=f"staff+{index:04d}@{store.test_domain}",
        phone=None,
        accepts_email=False,
        accepts_sms=False,
        user_agent=rng.choice(BROWSERS),
        orders_before=0,
    )
