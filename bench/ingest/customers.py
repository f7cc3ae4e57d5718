"""The Shopify workload's people and catalogue: customers, markets, products and carts.

Everything is derived from a number, so a customer, a cart or a checkout token is the same
every time it is asked for (the seeded history and the deliveries that touch it agree).
"""

from __future__ import annotations

import functools
import hashlib
import random
from dataclasses import dataclass
from typing import Any

import orjson

SECRET = "whsec_bench_5f2c9a7e1d4b8c3a6e0f"
SHOP = "nordwolle.myshopify.com"

# -- realistic Shopify payloads ------------------------------------------------------------------

FIRST = [
    "Lena",
    "Jonas",
    "Camille",
    "Hugo",
    "Oliver",
    "Amelia",
    "Haruto",
    "Yui",
    "Lucas",
    "Beatriz",
    "Emma",
    "Noah",
    "Sofía",
    "Mateo",
    "Giulia",
    "Marco",
    "Anna",
    "Lars",
]
LAST = [
    "Müller",
    "Schmidt",
    "Dubois",
    "Lefèvre",
    "Bennett",
    "Clarke",
    "Sato",
    "Suzuki",
    "Silva",
    "Oliveira",
    "Johnson",
    "Miller",
    "García",
    "López",
    "Rossi",
    "Bianchi",
    "Nilsson",
    "Berg",
]
ASCII = str.maketrans("üèíéóáçãöä", "ueieoacaoa")
# country, province code, city, presentment currency, customer locale, mail domain, phone prefix
MARKETS = [
    ("DE", "BY", "München", "EUR", "de", "example.de", "+49 151 "),
    ("FR", "IDF", "Paris", "EUR", "fr", "example.fr", "+33 6 "),
    ("GB", "ENG", "Manchester", "GBP", "en-GB", "example.co.uk", "+44 7700 "),
    ("US", "CA", "San Francisco", "USD", "en", "example.com", "+1 415 "),
    ("JP", "JP-13", "Shibuya-ku", "JPY", "ja", "example.jp", "+81 90-"),
    ("BR", "SP", "São Paulo", "BRL", "pt-BR", "example.com.br", "+55 11 9"),
    ("IT", "MI", "Milano", "EUR", "it", "example.it", "+39 347 "),
    ("SE", "AB", "Stockholm", "SEK", "sv", "example.se", "+46 70 "),
]
PRODUCTS = [
    (8123456789000 + k, 45010203040000 + k, title, variant, f"{sku}-{k:03d}", price, grams)
    for k, (title, variant, sku, price, grams) in enumerate(
        [
            ("Merino-Pullover", "M / Anthrazit", "MP", 8990, 450),
            ("Wollsocken (2er-Pack)", "39-42", "WS", 1450, 185),
            ("Lambswool Throw", "Grey", "LT", 6800, 900),
            ("Alpaka-Mütze", "Natur", "AM", 3490, 120),
            ("Cashmere Scarf", "Camel", "CS", 12900, 200),
            ("Felted Slippers", "42", "FS", 5900, 380),
            ("Wool Blanket", "King / Ecru", "WB", 18900, 2100),
            ("Knitting Kit", "Starter", "KK", 2990, 300),
        ]
        * 4  # 32 variants: distinct ids and SKUs, a realistic catalogue slice
    )
]
UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)


@dataclass(frozen=True, slots=True)
class Customer:
    index: int
    id: int
    first: str
    last: str
    email: str
    phone: str
    market: tuple[str, str, str, str, str, str, str]


def customer(index: int) -> Customer:
    first = FIRST[index % len(FIRST)]
    last = LAST[(index // len(FIRST)) % len(LAST)]
    market = MARKETS[(index * 7) % len(MARKETS)]
    local = f"{first}.{last}.{index}".lower().translate(ASCII)
    return Customer(
        index=index,
        id=7712345000000 + index,
        first=first,
        last=last,
        email=f"{local}@{market[5]}",
        phone=f"{market[6]}{1000000 + index % 9000000}",
        market=market,
    )


def fmt_money(minor: int, currency: str) -> str:
    """Shopify sends amounts as strings with the currency's decimals (JPY has none)."""
    if currency == "JPY":
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}"


def _item_set(seed: int) -> list[tuple[Any, ...]]:
    rng = random.Random(seed)
    chosen = rng.sample(PRODUCTS, rng.choice((1, 1, 2, 2, 3)))
    return [(*p, rng.choice((1, 1, 1, 2))) for p in chosen]


ITEM_SETS = [_item_set(k) for k in range(1009)]  # carts: 1 to 3 lines, of 32 variants


def pick_items(seed: int) -> list[tuple[Any, ...]]:
    """The cart numbered ``seed`` (products, prices and quantities), the same every time."""
    return ITEM_SETS[seed % len(ITEM_SETS)]


@functools.cache
def items_json(seed: int, currency: str) -> str:
    """The cart as the ``items`` column stores it (``ItemsJSON``)."""
    return orjson.dumps(
        [
            {
                "name": p[2],
                "quantity": p[7],
                "unit_price": fmt_money(p[5], currency),
                "sku": p[4],
                "product_id": str(p[0]),
                "variant_id": str(p[1]),
            }
            for p in pick_items(seed)
        ]
    ).decode()


def checkout_token(seed: str) -> str:
    return hashlib.blake2b(seed.encode(), digest_size=16).hexdigest()
