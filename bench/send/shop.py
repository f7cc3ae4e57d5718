"""The sending workload: a store and its flow, markets, customers' carts, and the runtime.

Every template locale and its currencies and time zones; one to three items with images and
tracked product links per cart; markets chosen so that no step waits for quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bench.harness.sink import SinkProcess
from bench.ingest.customers import SECRET
from reclaim.adapters.flows import default_flow
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.flows import flow_to_data
from reclaim.domain.stores import StoreSettings
from reclaim.services.flows import set_flow
from reclaim.services.stores import add_store

DOMAIN = "nordwolle.example"
PUBLIC_URL = "https://reclaim.nordwolle.example"
HELO = "reclaim.nordwolle.example"  # what ChannelSenders says in EHLO (the public URL's host)
KIND = "abandoned_checkout"
T_SEND = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # part 1's clock: midday in Europe and Asia
T_CLAIM = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # part 3's clock
FAR = datetime(2099, 1, 1, tzinfo=UTC)  # a burst's steps wait here until they are released
BATCH = 100  # run_due_steps' default claim batch (the worker's)

# -- customers, carts, markets ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Market:
    country: str
    locale: str
    currency: str
    timezone: str
    mail: str


# Every template locale (en, de, fr, es, zh-CN, ja) and the currencies they are shown in.
MARKETS = (
    Market("DE", "de-DE", "EUR", "Europe/Berlin", "example.de"),
    Market("AT", "de-AT", "EUR", "Europe/Vienna", "example.at"),
    Market("FR", "fr-FR", "EUR", "Europe/Paris", "example.fr"),
    Market("ES", "es-ES", "EUR", "Europe/Madrid", "example.es"),
    Market("MX", "es-MX", "MXN", "America/Mexico_City", "example.mx"),
    Market("GB", "en-GB", "GBP", "Europe/London", "example.co.uk"),
    Market("US", "en-US", "USD", "America/New_York", "example.com"),
    Market("US", "en-US", "USD", "America/Los_Angeles", "example.com"),
    Market("JP", "ja-JP", "JPY", "Asia/Tokyo", "example.jp"),
    Market("CN", "zh-CN", "CNY", "Asia/Shanghai", "example.cn"),
    Market("AU", "en-AU", "AUD", "Australia/Sydney", "example.com.au"),
)
RATES = {"EUR": 1, "GBP": 0.85, "USD": 1.08, "MXN": 18.5, "JPY": 165, "CNY": 7.8, "AUD": 1.63}
# name, sku, price in EUR, slug
PRODUCTS = (
    ("Merino-Pullover M / Anthrazit", "MP-01", 89.90, "merino-pullover"),
    ("Wollsocken (2er-Pack) 39-42", "WS-02", 14.50, "wollsocken"),
    ("Lambswool Throw, Grey", "LT-03", 68.00, "lambswool-throw"),
    ("Alpaka-Mütze Natur", "AM-04", 34.90, "alpaka-muetze"),
    ("Cashmere Scarf, Camel", "CS-05", 129.00, "cashmere-scarf"),
    ("Felted Slippers 42", "FS-06", 59.00, "felted-slippers"),
    ("Wool Blanket King / Ecru", "WB-07", 189.00, "wool-blanket"),
    ("Knitting Kit Starter", "KK-08", 29.90, "knitting-kit"),
)


def awake(at: datetime, hours: float = 0.0) -> tuple[Market, ...]:
    """The markets where ``at`` … ``at + hours`` is daytime (08:00–21:00 local time), so no
    step waits for the end of the email quiet hours (22:00–07:00) during the measurement."""
    found = []
    for m in MARKETS:
        tz = ZoneInfo(m.timezone)
        start, end = at.astimezone(tz), (at + timedelta(hours=hours)).astimezone(tz)
        if start.hour >= 8 and (end.hour < 21 and end.date() == start.date()):
            found.append(m)
    return tuple(found) or MARKETS[:1]


def price(eur: float, currency: str) -> Decimal:
    value = eur * RATES[currency]
    if currency == "JPY":
        return Decimal(int(round(value, -1)))
    return Decimal(f"{value:.2f}")


def cart(cid: int, currency: str) -> tuple[list[dict[str, Any]], Decimal]:
    """One to three lines of case ``cid``'s cart (as ``ItemsJSON`` stores them) and its total."""
    count = (1, 1, 2, 2, 3)[cid % 5]
    lines, total = [], Decimal(0)
    for k in range(count):
        name, sku, eur, slug = PRODUCTS[(cid * 3 + k * 5) % len(PRODUCTS)]
        quantity = 1 + (cid + k) % 3 // 2
        unit = price(eur, currency)
        total += unit * quantity
        lines.append(
            {
                "name": name,
                "quantity": quantity,
                "unit_price": str(unit),
                "sku": sku,
                "product_id": str(8_123_456_000 + (cid * 3 + k * 5) % len(PRODUCTS)),
                "image_url": f"https://cdn.{DOMAIN}/products/{slug}-800x800.jpg",
                "url": f"https://{DOMAIN}/products/{slug}?variant={sku}",
            }
        )
    return lines, total + price(4.90, currency)


# -- a store, its flow, and the runtime --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shop:
    store_id: str
    flow_id: int


def runtime(url: str, sink: SinkProcess | None, **settings: Any) -> Runtime:
    rt = bootstrap(
        Settings(
            database_url=url,
            smtp_url=sink.url if sink else None,
            public_url=PUBLIC_URL,
            **settings,
        )
    )
    init_database(rt)
    rt.links()  # reads the secret key once, outside any timing
    return rt


def new_shop(rt: Runtime, *, now: datetime) -> Shop:
    """A store as a merchant sets one up, and the default abandoned-checkout flow (1 h, 24 h,
    72 h) without a holdout share, as the end-to-end tests install it."""
    store = add_store(
        uow=rt.uow(),
        name="Nordwolle",
        platform="shopify",
        currency="EUR",
        timezone="Europe/Berlin",
        domain=DOMAIN,
        webhook_secret=SECRET,
        settings=StoreSettings(
            postal_address="Nordwolle GmbH, Wollgasse 7, 20095 Hamburg, Deutschland",
            sender_email=f"hallo@{DOMAIN}",
            sender_name="Nordwolle",
            support_email=f"hilfe@{DOMAIN}",
            logo_url=f"https://cdn.{DOMAIN}/logo.png",
            extra_domains=(f"cdn.{DOMAIN}",),
        ),
        now=now - timedelta(days=30),
    )
    flow = replace(default_flow(KIND), holdout=0.0)
    source = yaml.safe_dump(flow_to_data(flow), sort_keys=False)
    set_flow(
        uow=rt.uow(), store_id=store.id, source=source, flow=flow, now=now - timedelta(days=30)
    )
    with rt.uow() as uow:
        version = uow.flows.active(store.id, KIND)
    assert version is not None
    return Shop(store_id=store.id, flow_id=version.id)
