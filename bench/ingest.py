"""Ingestion benchmark: webhooks accepted over HTTP, and events processed from the inbox.

Two measurements, each against something measured in the same run:

1. **HTTP accept** — a real uvicorn server (a separate process) serves ``create_app(rt)`` plus
   one route of this benchmark, ``POST /_bench/floor/{store_id}``, that only inserts the raw
   body into the same ``inbox`` table through the same engine and unit of work (one INSERT,
   one COMMIT, in the threadpool like the real handler). A separate client process (``C``
   concurrent keep-alive connections; a minimal asyncio HTTP/1.1 client by default, because
   on a 2-core box httpx costs more CPU per request than the floor does; ``--client httpx``
   to compare) posts signed Shopify ``checkouts/update`` webhooks, every one a new delivery,
   to the floor and to the real webhook route in alternation (floor, real, floor, real, …),
   after a warm-up of each. Reported: the median deliveries/s of each and the ratio
   real / floor (goal: at least 70 %).
2. **Processing** — with 10k and then 1M cases (and their checkouts and orders) already stored,
   fresh Shopify deliveries touching new and existing customers are accepted into the inbox
   and processed with :func:`reclaim.services.ingest.process_inbox`, then the cases they make
   due are opened with :func:`reclaim.services.detection.detect_due`. Reported: µs per event,
   µs per case opened, and the ratio of the largest store to the smallest (goal: about 1.0,
   the cost per event stays flat).

Numbers only, no pass/fail exit code: this prints figures and ratios (team rule: no timed
assertions). Usage::

    .venv/bin/python bench/ingest.py                       # both databases, 10k and 1M
                                                           # (~25 min on a 2-core box)
    .venv/bin/python bench/ingest.py --quick               # smoke run, well under a minute
    .venv/bin/python bench/ingest.py --db sqlite --requests 3000 --concurrency 32

PostgreSQL: ``--pg`` (or ``RECLAIM_BENCH_PG``) names a server database to connect to; the
benchmark creates its own databases ``reclaim_bench_*`` there and drops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import hashlib
import hmac
import importlib.metadata
import importlib.util
import json
import multiprocessing as mp
import operator
import os
import platform
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import insert, text

from reclaim.adapters.db.tables import inbox
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.stores import StoreSettings
from reclaim.services import detection, ingest
from reclaim.services.stores import add_store

# a wide table in a log file too; a terminal keeps its own width
console = Console(width=None if sys.stdout.isatty() else 150)

PG_DEFAULT = os.environ.get("RECLAIM_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "whsec_bench_5f2c9a7e1d4b8c3a6e0f"
SHOP = "nordwolle.myshopify.com"
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the processing part's clock; data lies before it
GOAL_RATIO = 0.70
FLOOR_PATH = "/_bench/floor/{store_id}"

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


def shopify_time(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def checkout_token(seed: str) -> str:
    return hashlib.blake2b(seed.encode(), digest_size=16).hexdigest()


def checkout_payload(
    *,
    token: str,
    number: int,
    cust: Customer,
    items: list[tuple[Any, ...]],
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """A ``checkouts/update`` body shaped like Shopify's (REST Checkout resource)."""
    country, province, city, currency, locale, _, _ = cust.market
    lines = []
    subtotal = 0
    for product_id, variant_id, title, variant, sku, price, grams, qty in items:
        subtotal += price * qty
        lines.append(
            {
                "key": f"{variant_id}:{token[:8]}",
                "fulfillment_service": "manual",
                "gift_card": False,
                "grams": grams,
                "presentment_title": title,
                "presentment_variant_title": variant,
                "product_id": product_id,
                "quantity": qty,
                "requires_shipping": True,
                "sku": sku,
                "taxable": True,
                "title": title,
                "variant_id": variant_id,
                "variant_title": variant,
                "variant_price": fmt_money(price, currency),
                "vendor": "Nordwolle",
                "line_price": fmt_money(price * qty, currency),
                "price": fmt_money(price, currency),
                "applied_discounts": [],
                "tax_lines": [
                    {
                        "price": fmt_money(price * qty * 19 // 119, currency),
                        "rate": 0.19,
                        "title": "VAT",
                    }
                ],
            }
        )
    shipping = 490 if currency != "JPY" else 2500
    address = {
        "first_name": cust.first,
        "last_name": cust.last,
        "address1": f"{10 + cust.index % 80} Main Street",
        "address2": None,
        "city": city,
        "province": province,
        "province_code": province,
        "country": country,
        "country_code": country,
        "zip": f"{10000 + cust.index % 89999}",
        "phone": cust.phone,
        "company": None,
        "name": f"{cust.first} {cust.last}",
    }
    return {
        "id": 35870274300000 + number,
        "token": token,
        "cart_token": base64.b64encode(token.encode()[:24]).decode(),
        "email": cust.email,
        "gateway": None,
        "buyer_accepts_marketing": cust.index % 3 == 0,
        "buyer_accepts_sms_marketing": False,
        "sms_marketing_phone": None,
        "created_at": shopify_time(created_at),
        "updated_at": shopify_time(updated_at),
        "completed_at": None,
        "closed_at": None,
        "landing_site": "/products/merino-pullover",
        "note": None,
        "note_attributes": [],
        "referring_site": "https://www.google.com/",
        "taxes_included": True,
        "total_weight": sum(i[6] * i[7] for i in items),
        "currency": currency,
        "presentment_currency": currency,
        "customer_locale": locale,
        "phone": None,
        "name": f"#{35870274300000 + number}",
        "source_name": "web",
        "source_identifier": None,
        "source_url": None,
        "device_id": None,
        "location_id": None,
        "user_id": None,
        "abandoned_checkout_url": (
            f"https://{SHOP}/71234567/checkouts/ac/{token}/recover?key={token[-16:]}"
        ),
        "client_details": {
            "accept_language": f"{locale},en;q=0.6",
            "browser_ip": f"93.184.{cust.index % 250}.{number % 250}",
            "user_agent": UA,
        },
        "discount_codes": [],
        "line_items": lines,
        "shipping_lines": [
            {
                "code": "Standard",
                "price": fmt_money(shipping, currency),
                "source": "shopify",
                "title": "Standard",
                "tax_lines": [],
            }
        ],
        "shipping_address": address,
        "billing_address": {k: v for k, v in address.items() if k not in ("company", "name")},
        "customer": {
            "id": cust.id,
            "email": cust.email,
            "accepts_marketing": cust.index % 3 == 0,
            "created_at": shopify_time(created_at - timedelta(days=200)),
            "updated_at": shopify_time(updated_at),
            "first_name": cust.first,
            "last_name": cust.last,
            "orders_count": cust.index % 4,
            "state": "enabled",
            "total_spent": fmt_money(subtotal * (cust.index % 4), currency),
            "verified_email": True,
            "tax_exempt": False,
            "tags": "",
            "currency": currency,
            "phone": None,
            "email_marketing_consent": {
                "state": "subscribed" if cust.index % 3 == 0 else "not_subscribed",
                "opt_in_level": "single_opt_in",
                "consent_updated_at": None,
            },
            "sms_marketing_consent": None,
        },
        "subtotal_price": fmt_money(subtotal, currency),
        "total_discounts": "0.00",
        "total_line_items_price": fmt_money(subtotal, currency),
        "total_price": fmt_money(subtotal + shipping, currency),
        "total_tax": fmt_money(subtotal * 19 // 119, currency),
        "total_duties": None,
    }


def order_payload(
    *,
    order_id: int,
    cust: Customer,
    items: list[tuple[Any, ...]],
    checkout: str | None,
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """An ``orders/paid`` body shaped like Shopify's (REST Order resource)."""
    country, province, city, currency, locale, _, _ = cust.market
    subtotal = sum(i[5] * i[7] for i in items)
    total = fmt_money(subtotal + 490, currency)
    money = {"amount": total, "currency_code": currency}
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "buyer_accepts_marketing": cust.index % 3 == 0,
        "cancelled_at": None,
        "checkout_token": checkout,
        "client_details": {"user_agent": UA},
        "contact_email": cust.email,
        "created_at": shopify_time(created_at),
        "currency": currency,
        "customer_locale": locale,
        "email": cust.email,
        "financial_status": "paid",
        "name": f"#{order_id % 100000}",
        "order_number": order_id % 100000,
        "order_status_url": f"https://{SHOP}/71234567/orders/{order_id:x}/authenticate?key=ab12",
        "payment_gateway_names": ["shopify_payments"],
        "phone": cust.phone,
        "presentment_currency": currency,
        "processed_at": shopify_time(created_at),
        "test": False,
        "total_price": total,
        "total_price_set": {"shop_money": money, "presentment_money": money},
        "updated_at": shopify_time(updated_at),
        "billing_address": {
            "first_name": cust.first,
            "last_name": cust.last,
            "city": city,
            "province_code": province,
            "country_code": country,
        },
        "shipping_address": None,
        "customer": {
            "id": cust.id,
            "email": cust.email,
            "first_name": cust.first,
            "last_name": cust.last,
            "orders_count": 1 + cust.index % 4,
            "phone": None,
        },
        "line_items": [
            {
                "id": order_id * 10 + n,
                "title": p[2],
                "quantity": p[7],
                "price": fmt_money(p[5], currency),
                "product_id": p[0],
                "variant_id": p[1],
                "sku": p[4],
            }
            for n, p in enumerate(items)
        ],
        "shipping_lines": [
            {"code": "Standard", "price": fmt_money(490, currency), "title": "Standard"}
        ],
    }


def signed(body: bytes, topic: str, delivery: str, at: datetime) -> dict[str, str]:
    mac = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": mac,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Api-Version": "2025-01",
        "X-Shopify-Webhook-Id": delivery,
        "X-Shopify-Event-Id": f"evt-{delivery}",
        "X-Shopify-Triggered-At": at.isoformat(),
    }


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def http_delivery(tag: str, k: int) -> tuple[bytes, dict[str, str]]:
    """Delivery ``k`` of HTTP run ``tag``: a new checkout of a new customer, every time."""
    n = int(checkout_token(f"n-{tag}-{k}")[:12], 16) % 10**9  # spreads customers
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=k % 600)
    token = checkout_token(f"http-{tag}-{k}")
    body = dumps(
        checkout_payload(
            token=token,
            number=n,
            cust=customer(50_000_000 + n),
            items=pick_items(n),
            created_at=at - timedelta(minutes=4),
            updated_at=at,
        )
    )
    return body, signed(body, "checkouts/update", f"{tag}-{k}-{token[:12]}", at)


# -- HTTP part: server and client processes ------------------------------------------------------


def add_floor_route(app: Any, rt: Runtime) -> None:
    """The floor: keep the raw body with the least work the same server can do."""

    def keep(store_id: str, body: bytes) -> int:
        with rt.uow() as uow:
            delivery_id = uow.execute(
                insert(inbox)
                .values(
                    store_id=store_id,
                    source="bench",
                    topic="floor",
                    digest=hashlib.sha256(body).hexdigest(),
                    headers={},
                    body=body,
                    received_at=rt.clock(),
                    status="ignored",
                    attempts=0,
                    duplicates=0,
                )
                .returning(inbox.c.id)
            ).scalar_one()
            uow.commit()
        return int(delivery_id)

    @app.post(FLOOR_PATH, include_in_schema=False)
    async def floor(request: Request, store_id: str) -> JSONResponse:
        body = await request.body()
        delivery_id = await run_in_threadpool(keep, store_id, body)
        return JSONResponse({"status": "accepted", "delivery_id": delivery_id})


def serve(url: str, port: int) -> None:
    """Entry point of the server process (spawned): the real app plus the floor route."""
    import logging

    import uvicorn

    from reclaim.entrypoints.api import create_app

    logging.basicConfig(level=logging.WARNING)
    rt = bootstrap(Settings(database_url=url, rate_limit_enabled=False))
    app = create_app(rt)
    add_floor_route(app, rt)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pg_sessions(url: str) -> int:
    """Sessions opened so far on the database of ``url`` (PostgreSQL 14+)."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    return int(row[0]) if row else 0


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Tally:
    """What one load run saw: answers by kind, latencies, the first failures."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.failures: list[str] = []

    def answer(self, started: float, code: int, data: bytes) -> None:
        self.latencies.append(time.perf_counter() - started)
        answer = orjson.loads(data).get("status") if 200 <= code < 300 else None
        if answer == "accepted":
            self.statuses["accepted"] += 1
        else:
            self.statuses[f"{code} {answer or ''}".strip()] += 1
            if len(self.failures) < 3:
                self.failures.append(f"{code} {data[:160].decode(errors='replace')}")

    def error(self, exc: Exception) -> None:
        self.statuses[type(exc).__name__] += 1
        if len(self.failures) < 3:
            self.failures.append(f"{type(exc).__name__}: {exc}")


async def raw_load(
    host: str, port: int, requests: list[bytes], concurrency: int, tally: Tally
) -> float:
    """HTTP/1.1 keep-alive over asyncio streams, one connection per request in flight.

    A load generator that leaves the CPU to the server: on a 2-core box httpx itself costs
    more CPU per request than the floor endpoint does (see ``--client httpx``).
    """
    conns = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    cursor = 0

    async def worker(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        nonlocal cursor
        reader, writer = conn
        while cursor < len(requests):
            k = cursor
            cursor += 1
            started = time.perf_counter()
            try:
                writer.write(requests[k])
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                code, length, close = int(lines[0].split()[1]), 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection":
                        close = value.strip().lower() == b"close"
                data = await reader.readexactly(length)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                tally.error(exc)
                close = True
            else:
                tally.answer(started, code, data)
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    return time.perf_counter() - t0


async def httpx_load(
    base: str,
    path: str,
    deliveries: list[tuple[bytes, dict[str, str]]],
    concurrency: int,
    tally: Tally,
) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120.0) as client:
        # open the keep-alive connections first, outside the timing
        await asyncio.gather(*(client.get("/healthz") for _ in range(concurrency)))
        cursor = 0

        async def worker() -> None:
            nonlocal cursor
            while cursor < len(deliveries):
                k = cursor
                cursor += 1
                body, headers = deliveries[k]
                started = time.perf_counter()
                try:
                    r = await client.post(path, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    tally.error(exc)
                else:
                    tally.answer(started, r.status_code, r.content)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - t0


_PREPARED: dict[str, Any] = {}


def client_prepare(spec: dict[str, Any]) -> None:
    """In the client process: build and sign the run's deliveries, before any clock starts."""
    n, path, host, port = spec["n"], spec["path"], spec["host"], spec["port"]
    deliveries = [http_delivery(spec["tag"], k) for k in range(n)]
    _PREPARED.clear()
    _PREPARED.update(spec, deliveries=deliveries)
    if spec["client"] != "httpx":
        _PREPARED["requests"] = [
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Length: {len(body)}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "\r\n"
            ).encode("latin-1")
            + body
            for body, headers in deliveries
        ]


def client_go() -> dict[str, Any]:
    """In the client process: post the prepared deliveries, ``concurrency`` at a time."""
    spec = _PREPARED
    n, concurrency, host, port = spec["n"], spec["concurrency"], spec["host"], spec["port"]
    tally = Tally()
    cpu0 = time.process_time()
    if spec["client"] == "httpx":
        base = f"http://{host}:{port}"
        load = httpx_load(base, spec["path"], spec["deliveries"], concurrency, tally)
    else:
        load = raw_load(host, port, spec["requests"], concurrency, tally)
    elapsed = asyncio.run(load)
    cpu = time.process_time() - cpu0
    lat = sorted(tally.latencies)
    return {
        "n": n,
        "ok": tally.statuses["accepted"],
        "statuses": dict(tally.statuses),
        "failures": tally.failures,
        "elapsed": elapsed,
        "rate": n / elapsed,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else float("nan"),
        "p99_ms": 1000 * lat[int(len(lat) * 0.99)] if lat else float("nan"),
        "client_cpu": cpu,
    }


@dataclass
class HttpRun:
    endpoint: str
    rate: float
    n: int
    ok: int
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float  # per request
    client_cpu_ms: float
    pg_sessions: int  # PostgreSQL sessions opened during the run (pool overflow churn)
    machine_busy: float  # 0..1 of all cores
    rest_cores: float  # CPU used meanwhile by the rest of the box: PostgreSQL, anything else
    statuses: dict[str, int]
    failures: list[str]


@dataclass
class HttpResult:
    db: str
    requests: int
    concurrency: int
    runs: list[HttpRun] = field(default_factory=list)

    def median(self, endpoint: str, attr: str = "rate") -> float:
        return statistics.median(getattr(r, attr) for r in self.runs if r.endpoint == endpoint)

    @property
    def ratio(self) -> float:
        return self.median("real") / self.median("floor")

    @property
    def failures(self) -> int:
        return sum(r.n - r.ok for r in self.runs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, proc: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.is_alive():
            raise RuntimeError("the benchmark server exited during start-up")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the benchmark server did not become ready")


def bench_http(
    db: str, url: str, *, requests: int, concurrency: int, rounds: int, client_kind: str
) -> HttpResult:
    rt = bootstrap(Settings(database_url=url))
    init_database(rt)
    store = new_store(rt, activated=datetime.now(UTC) - timedelta(days=1))
    rt.close()
    ctx = mp.get_context("spawn")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = ctx.Process(target=serve, args=(url, port), daemon=True)
    server.start()
    result = HttpResult(db=db, requests=requests, concurrency=concurrency)
    pg = db == "postgresql"
    paths = {
        "floor": FLOOR_PATH.format(store_id=store),
        "real": f"/webhooks/shopify/{store}",
    }
    try:
        wait_ready(base, server)
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as client:
            common = {"host": "127.0.0.1", "port": port, "concurrency": concurrency,
                      "client": client_kind}  # fmt: skip
            warm = min(requests, max(300, requests // 5))
            for endpoint in ("floor", "real"):
                spec = {**common, "path": paths[endpoint], "n": warm, "tag": f"warm-{endpoint}"}
                client.submit(client_prepare, spec).result()
                out = client.submit(client_go).result()
                if out["ok"] != warm:
                    console.print(f"[red]warm-up {endpoint}: {out['statuses']} {out['failures']}")
            if pg:  # the statistics autovacuum keeps for a table that has been filling a while
                with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
                    conn.execute("ANALYZE inbox")
            plan = [(r, e) for r in range(rounds) for e in ("floor", "real")]
            for r, endpoint in plan:
                # the same bodies go to both endpoints of a round (tag without the endpoint)
                spec = {**common, "path": paths[endpoint], "n": requests, "tag": f"run{r}"}
                client.submit(client_prepare, spec).result()
                sessions0 = pg_sessions(url) if pg else 0
                s0, m0 = cpu_seconds(server.pid), machine_busy()
                out = client.submit(client_go).result()
                s1, m1 = cpu_seconds(server.pid), machine_busy()
                sessions = pg_sessions(url) - sessions0 if pg else 0
                tick = os.sysconf("SC_CLK_TCK")
                rest = (m1[0] - m0[0]) / tick - (s1 - s0) - out["client_cpu"]
                run = HttpRun(
                    endpoint=endpoint,
                    rate=out["rate"],
                    n=out["n"],
                    ok=out["ok"],
                    p50_ms=out["p50_ms"],
                    p99_ms=out["p99_ms"],
                    server_cpu_ms=1000 * (s1 - s0) / requests,
                    client_cpu_ms=1000 * out["client_cpu"] / requests,
                    pg_sessions=sessions,
                    machine_busy=(m1[0] - m0[0]) / max(1, m1[1] - m0[1]),
                    rest_cores=max(0.0, rest / out["elapsed"]),
                    statuses=out["statuses"],
                    failures=out["failures"],
                )
                result.runs.append(run)
                note = "" if run.ok == run.n else f"  [red]{run.n - run.ok} failed: {run.failures}"
                console.print(
                    f"  {db:10} {endpoint:5} round {r + 1}/{rounds}: {run.rate:8.0f} deliveries/s"
                    f"  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
                    f"  CPU ms/req: server {run.server_cpu_ms:.2f} client {run.client_cpu_ms:.2f}"
                    f"  box {run.machine_busy:.0%}, rest of box {run.rest_cores:.2f} cores"
                    + (f", {run.pg_sessions} PostgreSQL sessions opened" if pg else "")
                    + note
                )
    finally:
        server.terminate()
        server.join(10)
        if server.is_alive():
            server.kill()
    return result


# -- processing part: seeding, accepting, processing -------------------------------------------


def new_store(rt: Runtime, *, activated: datetime) -> str:
    return add_store(
        uow=rt.uow(),
        name="Nordwolle",
        platform="shopify",
        currency="EUR",
        timezone="Europe/Berlin",
        domain=SHOP,
        webhook_secret=SECRET,
        settings=StoreSettings(),
        now=activated,
    ).id


CASE_COLS = [
    "store_id",
    "kind",
    "subject_id",
    "customer_key",
    "email",
    "phone",
    "contact",
    "value",
    "currency",
    "items",
    "reason",
    "reason_code",
    "occurred_at",
    "created_at",
    "updated_at",
    "checkout_external_id",
    "order_external_id",
    "intent_id",
    "recovery_url",
    "expires_at",
    "status",
    "closed_at",
    "close_reason",
    "recovered_order_external_id",
    "recovered_value",
    "attribution",
    "merged_from",
]
CHECKOUT_COLS = [
    "store_id",
    "external_id",
    "customer_key",
    "email",
    "phone",
    "contact",
    "currency",
    "total",
    "items",
    "created_at",
    "updated_at",
    "version_tag",
    "state",
    "completed_at",
    "order_external_id",
    "recovery_url",
    "expired_at",
    "user_agent",
    "is_test",
    "shipping_quote",
    "abandon_due_at",
    "ignore_reason",
]
ORDER_COLS = [
    "store_id",
    "external_id",
    "customer_key",
    "email",
    "phone",
    "contact",
    "currency",
    "total",
    "items",
    "created_at",
    "updated_at",
    "version_tag",
    "financial_status",
    "checkout_external_id",
    "paid_at",
    "cancelled_at",
    "payment_method",
    "user_agent",
    "is_test",
    "order_number",
    "payment_url",
    "watch",
    "pending_due_at",
]
SCALE = 10_000  # Amount: integer 1/10,000 of a major unit
OPEN, RECOVERED, CANCELLED, EXPIRED = "open", "recovered", "cancelled", "expired"


def case_status(i: int) -> str:
    """10 % open, 30 % recovered, 20 % cancelled, 40 % expired: a store that has run a while.

    Open ones are cases ``20k`` (abandoned checkouts) and ``20k + 3`` (pending orders), so no
    customer has two open cases.
    """
    r = i % 20
    if r in (0, 3):
        return OPEN
    if 4 <= r < 10:
        return RECOVERED
    if 10 <= r < 14:
        return CANCELLED
    return EXPIRED


def is_checkout_case(i: int) -> bool:
    return i % 4 != 3  # three abandoned checkouts for one pending order


def seeded_order_id(i: int) -> int:
    return 5_000_000_000_000 + i


def seeded_occurred(i: int) -> datetime:
    """When stored case ``i``'s opportunity arose: open ones within their 30-day life."""
    status = case_status(i)
    span = 25 * 86400 if status == OPEN else 330 * 86400
    occurred = T0 - timedelta(seconds=3600 + (i * 7919) % span)
    if status == EXPIRED:  # expired cases are older than their 30-day life
        occurred -= timedelta(days=31)
    return occurred


def sqlite_time(at: datetime) -> str:
    """How SQLAlchemy's SQLite dialect stores ``UTCDateTime``: naive UTC with microseconds."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def seed_rows(
    store_id: str, start: int, stop: int, *, dialect: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The stored history for cases ``start..stop``, as (table, raw column values).

    Case ``i`` belongs to customer ``i // 2``; abandoned checkouts keep their checkout row,
    pending orders their order row, recovered checkouts the paid order that recovered them.
    Values are what the column types store for ``dialect`` (JSON text, integer amounts;
    aware datetimes for PostgreSQL, naive-UTC text for SQLite; booleans 0/1 on SQLite).
    """
    sqlite = dialect == "sqlite"
    no = 0 if sqlite else False
    for i in range(start, stop):
        cust = customer(i // 2)
        country, region, _, currency, locale, _, _ = cust.market
        status = case_status(i)
        occurred = seeded_occurred(i)
        created = occurred + timedelta(minutes=30)
        expires = created + timedelta(days=30)
        items = pick_items(i)
        value = sum(p[5] * p[7] for p in items) + 490
        factor = SCALE if currency == "JPY" else SCALE // 100
        cart = items_json(i % len(ITEM_SETS), currency)
        contact = orjson.dumps(
            {
                "email": cust.email,
                "phone": cust.phone,
                "first_name": cust.first,
                "last_name": cust.last,
                "locale": locale,
                "country": country,
                "region": region,
                "accepts_email_marketing": cust.index % 3 == 0,
                "customer_ref": str(cust.id),
            }
        ).decode()
        common = {
            "store_id": store_id,
            "customer_key": cust.email,
            "email": cust.email,
            "phone": cust.phone,
            "contact": contact,
            "currency": currency,
            "items": cart,
        }
        closed = (
            None
            if status == OPEN
            else (expires if status == EXPIRED else created + timedelta(hours=20))
        )
        started = occurred - timedelta(minutes=12)
        if sqlite:
            occurred, created, expires, started = (
                sqlite_time(t) for t in (occurred, created, expires, started)
            )
            closed = None if closed is None else sqlite_time(closed)
        token = checkout_token(f"seed-{i}")
        order_id = str(seeded_order_id(i))
        recovered_by = order_id if status == RECOVERED else None
        if is_checkout_case(i):
            yield (
                "checkouts",
                {
                    **common,
                    "external_id": token,
                    "total": value * factor,
                    "created_at": started,
                    "updated_at": occurred,
                    "version_tag": "0" + token[:16],
                    "state": "completed" if status == RECOVERED else "abandoned",
                    "completed_at": closed if status == RECOVERED else None,
                    "order_external_id": recovered_by,
                    "recovery_url": f"https://{SHOP}/71234567/checkouts/ac/{token}/recover",
                    "expired_at": None,
                    "user_agent": UA,
                    "is_test": no,
                    "shipping_quote": 490 * factor,
                    "abandon_due_at": None,
                    "ignore_reason": None,
                },
            )
        if not is_checkout_case(i) or status == RECOVERED:
            paid = status == RECOVERED
            yield (
                "orders",
                {
                    **common,
                    "external_id": order_id,
                    "total": value * factor,
                    "created_at": closed if paid and is_checkout_case(i) else occurred,
                    "updated_at": closed or occurred,
                    "version_tag": ("2" if paid else "0") + token[:16],
                    "financial_status": "paid"
                    if paid
                    else ("voided" if status == CANCELLED else "pending"),
                    "checkout_external_id": token if is_checkout_case(i) else None,
                    "paid_at": closed if paid else None,
                    "cancelled_at": closed if status == CANCELLED else None,
                    "payment_method": "shopify_payments" if paid else "bank_transfer",
                    "user_agent": UA,
                    "is_test": no,
                    "order_number": f"#{1000 + i}",
                    "payment_url": f"https://{SHOP}/71234567/orders/{order_id}/authenticate",
                    "watch": "done" if paid else "detected",
                    "pending_due_at": None,
                },
            )
        kind = "abandoned_checkout" if is_checkout_case(i) else "pending_order"
        close_reason = {
            OPEN: None,
            RECOVERED: "checkout_completed" if kind == "abandoned_checkout" else "order_paid",
            CANCELLED: "superseded" if kind == "abandoned_checkout" else "order_cancelled",
            EXPIRED: "ttl",
        }[status]
        yield (
            "cases",
            {
                **common,
                "kind": kind,
                "subject_id": token if is_checkout_case(i) else order_id,
                "value": value * factor,
                "reason": "checkout_abandoned" if is_checkout_case(i) else "awaiting_payment",
                "reason_code": None if is_checkout_case(i) else "bank_transfer",
                "occurred_at": occurred,
                "created_at": created,
                "updated_at": closed,
                "checkout_external_id": token if is_checkout_case(i) else None,
                "order_external_id": None if is_checkout_case(i) else order_id,
                "intent_id": None,
                "recovery_url": f"https://{SHOP}/71234567/checkouts/ac/{token}/recover",
                "expires_at": expires,
                "status": status,
                "closed_at": closed,
                "close_reason": close_reason,
                "recovered_order_external_id": recovered_by,
                "recovered_value": value * factor if status == RECOVERED else None,
                "attribution": "organic" if status == RECOVERED else None,
                "merged_from": "[]",
            },
        )


COLUMNS = {"cases": CASE_COLS, "checkouts": CHECKOUT_COLS, "orders": ORDER_COLS}
ROW = {table: operator.itemgetter(*cols) for table, cols in COLUMNS.items()}


def secondary_indexes(rt: Runtime) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes on the seeded tables."""
    tables = tuple(COLUMNS)
    with rt.engine.connect() as conn:
        if rt.engine.dialect.name == "sqlite":
            rows = conn.execute(
                text(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                    f"AND sql IS NOT NULL AND tbl_name IN {tables} "
                    "AND sql NOT LIKE 'CREATE UNIQUE%'"
                )
            )
        else:
            rows = conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                    f"AND tablename IN {tables} AND indexdef NOT LIKE 'CREATE UNIQUE%'"
                )
            )
        return [(str(name), str(sql)) for name, sql in rows]


def copy_rows(rt: Runtime, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """One transaction: executemany on SQLite, COPY on PostgreSQL."""
    if rt.engine.dialect.name == "sqlite":
        with rt.engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            for table, batch in rows.items():
                cols = COLUMNS[table]
                sql = (
                    f"INSERT INTO {table} ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})"
                )
                conn.exec_driver_sql(sql, batch)
        return
    raw = rt.engine.raw_connection()
    try:
        pg = raw.driver_connection
        assert isinstance(pg, psycopg.Connection)
        with pg.cursor() as cur:
            for table, batch in rows.items():
                cols = ", ".join(COLUMNS[table])
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
        pg.commit()
    finally:
        raw.close()


def seed(rt: Runtime, store_id: str, start: int, stop: int, chunk: int = 20_000) -> float:
    """Store cases ``start..stop`` with their facts; returns the seconds it took.

    A large load drops the non-unique indexes first and builds them again at the end (what
    a bulk load does; the unique ones stay and are checked row by row). Then the statistics
    and a checkpoint, as autovacuum and the checkpointer would have done by the time a real
    store has gathered that many cases, so neither lands inside a measurement.
    """
    dialect = rt.engine.dialect.name
    began = time.perf_counter()
    progress = Progress(
        TextColumn(f"  seeding {dialect} cases {start:,}→{stop:,}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    )
    indexes = secondary_indexes(rt) if stop - start > 100_000 else []
    with progress:
        task = progress.add_task("", total=stop - start)
        with rt.engine.begin() as conn:
            for name, _ in indexes:
                conn.exec_driver_sql(f"DROP INDEX {name}")
        for lo in range(start, stop, chunk):
            hi = min(stop, lo + chunk)
            rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
            for table, values in seed_rows(store_id, lo, hi, dialect=dialect):
                rows[table].append(ROW[table](values))
            copy_rows(rt, rows)
            progress.advance(task, hi - lo)
        for name, sql in indexes:
            progress.update(task, description=f"index {name}")
            with rt.engine.begin() as conn:
                conn.exec_driver_sql(sql)
        progress.update(task, description="statistics, checkpoint")
        if dialect == "postgresql":
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE cases, checkouts, orders, inbox")
                conn.exec_driver_sql("CHECKPOINT")
        else:  # no ANALYZE: Reclaim never runs it on SQLite, so the planner goes without
            raw = rt.engine.raw_connection()  # autocommit: outside the engine's BEGIN IMMEDIATE
            try:
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
            finally:
                raw.close()
        progress.update(task, description="")
    return time.perf_counter() - began


@dataclass
class ProcRound:
    events: int
    processed: int
    failed: int
    accept_us: float  # service-level accept, per delivery
    process_us: float  # per event
    due: int
    opened: int
    detect_us: float  # per case opened


@dataclass
class ProcResult:
    db: str
    stored: int
    seed_s: float
    rows: dict[str, int]
    rounds: list[ProcRound] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.rounds)


def processing_deliveries(
    rng: random.Random, *, stored: int, n: int, at: datetime, tag: str
) -> Iterator[tuple[bytes, dict[str, str]]]:
    """``n`` Shopify deliveries: 40 % new customers' checkouts, 25 % stored customers' new
    checkouts, 15 % updates of stored open checkouts (their case refreshes), 10 % orders paid
    from a stored open checkout (its case recovers), 10 % orders paid by stored customers."""
    for k in range(n):
        roll = rng.random()
        updated = at - timedelta(seconds=rng.randrange(600))
        number = rng.randrange(10**9)
        items = pick_items(number)
        if roll < 0.65:
            cust = customer(20_000_000 + number if roll < 0.40 else rng.randrange(stored // 2))
            token = checkout_token(f"{tag}-{k}")
            payload = checkout_payload(
                token=token,
                number=number,
                cust=cust,
                items=items,
                created_at=updated - timedelta(minutes=3),
                updated_at=updated,
            )
            topic = "checkouts/update"
        elif roll < 0.80:
            i = 20 * rng.randrange(stored // 20)  # a stored open checkout (and its case)
            token = checkout_token(f"seed-{i}")
            payload = checkout_payload(
                token=token,
                number=i,
                cust=customer(i // 2),
                items=items,
                created_at=seeded_occurred(i) - timedelta(minutes=12),
                updated_at=updated,
            )
            topic = "checkouts/update"
        else:
            if roll < 0.90:
                i = 20 * rng.randrange(stored // 20)
                cust, checkout = customer(i // 2), checkout_token(f"seed-{i}")
                items = pick_items(i)
            else:
                cust, checkout = customer(rng.randrange(stored // 2)), None
            payload = order_payload(
                order_id=6_000_000_000_000 + number,
                cust=cust,
                items=items,
                checkout=checkout,
                created_at=updated - timedelta(minutes=1),
                updated_at=updated,
            )
            topic = "orders/paid"
        body = dumps(payload)
        yield body, signed(body, topic, f"{tag}-{k}", updated)


def table_counts(rt: Runtime) -> dict[str, int]:
    with rt.engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("cases", "checkouts", "orders", "inbox")
        }


def bench_processing(
    db: str, url: str, *, sizes: Sequence[int], events: int, rounds: int
) -> list[ProcResult]:
    rt = bootstrap(Settings(database_url=url))
    init_database(rt)
    store_id = new_store(rt, activated=T0 - timedelta(days=400))
    shopify = rt.connectors["shopify"]
    results = []
    seeded = 0
    try:
        for size_index, size in enumerate(sorted(sizes)):
            seed_s = seed(rt, store_id, seeded, size)
            seeded = size
            result = ProcResult(db=db, stored=size, seed_s=seed_s, rows=table_counts(rt))
            results.append(result)
            for r in range(rounds):
                # each round on its own hour, so only its own checkouts come due at detection
                now = T0 + timedelta(hours=2 * (size_index * rounds + r))
                rng = random.Random(f"{db}-{size}-{r}")
                batch = list(
                    processing_deliveries(rng, stored=size, n=events, at=now, tag=f"p{size}-{r}")
                )
                t = time.perf_counter()
                for body, headers in batch:
                    answer = ingest.accept_webhook(
                        uow=rt.uow(),
                        connector=shopify,
                        store_id=store_id,
                        headers=headers,
                        body=body,
                        now=now,
                    )
                    if answer.status != "accepted":
                        raise RuntimeError(f"delivery not accepted: {answer}")
                accept_s = time.perf_counter() - t
                if db == "postgresql":  # autovacuum's job on a real inbox, done here untimed
                    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                        c.exec_driver_sql("ANALYZE inbox")
                stats = ingest.ProcessStats()
                t = time.perf_counter()
                while True:
                    done = ingest.process_inbox(uow=rt.uow(), connectors=rt.connectors, now=now)
                    stats.processed += done.processed
                    stats.ignored += done.ignored
                    stats.failed += done.failed
                    if done.total < 200:
                        break
                process_s = time.perf_counter() - t
                if stats.failed:
                    with rt.uow() as uow:
                        dead = uow.inbox.list(store_id=store_id, statuses=["failed"], limit=3)
                    console.print(
                        f"[red]{stats.failed} deliveries failed: {[d.error for d in dead]}"
                    )
                t = time.perf_counter()
                found = detection.detect_due(uow=rt.uow(), now=now + timedelta(minutes=31))
                detect_s = time.perf_counter() - t
                rnd = ProcRound(
                    events=events,
                    processed=stats.processed,
                    failed=stats.failed,
                    accept_us=1e6 * accept_s / events,
                    process_us=1e6 * process_s / max(1, stats.total),
                    due=found.opened + found.skipped,
                    opened=found.opened,
                    detect_us=1e6 * detect_s / max(1, found.opened),
                )
                result.rounds.append(rnd)
                console.print(
                    f"  {db:10} {size:>9,} stored, round {r + 1}/{rounds}: "
                    f"{rnd.process_us:7.0f} µs/event ({1e6 / rnd.process_us:5.0f}/s), "
                    f"accept {rnd.accept_us:5.0f} µs, detection {rnd.detect_us:6.0f} µs/case "
                    f"({rnd.opened} opened of {rnd.due} due), {rnd.failed} failed"
                )
    finally:
        rt.close()
    return results


# -- databases -----------------------------------------------------------------------------------


@contextmanager
def database(db: str, name: str, pg_admin: str, workdir: Path) -> Iterator[str]:
    """A fresh, empty database; dropped (or deleted) afterwards."""
    if db == "sqlite":
        path = workdir / f"{name}.sqlite3"
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def git_revision() -> str:
    """The commit measured, and whether the working tree differed from it."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "src"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes in src/" if dirty else "")


def machine(pg_admin: str, dbs: Sequence[str]) -> dict[str, str]:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "code": git_revision(),
        "cpu": f"{os.cpu_count()} cores, {cpu}",
        "memory": f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "libraries": ", ".join(
            f"{p} {importlib.metadata.version(p)}"
            for p in ("sqlalchemy", "psycopg", "fastapi", "starlette", "uvicorn", "httpx")
        ),
        "uvicorn loop/http": (
            ("uvloop" if importlib.util.find_spec("uvloop") else "asyncio")
            + " / "
            + ("httptools" if importlib.util.find_spec("httptools") else "h11")
        ),
    }
    if "postgresql" in dbs:
        with psycopg.connect(pg_admin) as conn:
            settings = dict(
                conn.execute(
                    "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                    "('server_version', 'synchronous_commit', 'fsync', 'shared_buffers')"
                ).fetchall()
            )
        info["postgresql"] = (
            f"{settings['server_version']} (local; fsync={settings['fsync']}, "
            f"synchronous_commit={settings['synchronous_commit']}, "
            f"shared_buffers={settings['shared_buffers']})"
        )
    return info


# -- report --------------------------------------------------------------------------------------


def report(
    info: dict[str, str], http: list[HttpResult], proc: list[ProcResult], args: argparse.Namespace
) -> None:
    t = Table(title="Machine", show_header=False)
    for k, v in info.items():
        t.add_row(k, v)
    console.print(t)

    if http:
        t = Table(
            title=f"HTTP accept — median of {args.rounds} alternating runs of {args.requests} "
            f"deliveries, {args.concurrency} in flight, {args.client} client; "
            f"goal: real ≥ {GOAL_RATIO:.0%} of floor"
        )
        for col in ("database", "endpoint", "deliveries/s", "real / floor", "goal", "p50 ms",
                    "p99 ms", "server CPU ms/req", "client CPU ms/req", "box busy",
                    "rest of box", "PG sessions", "not accepted"):  # fmt: skip
            t.add_column(col, justify="right")
        for h in http:
            for endpoint in ("floor", "real"):
                real = endpoint == "real"
                met = "[green]met" if h.ratio >= GOAL_RATIO else "[red]missed"
                sessions = sum(r.pg_sessions for r in h.runs if r.endpoint == endpoint)
                t.add_row(
                    h.db if not real else "",
                    endpoint,
                    f"{h.median(endpoint):.0f}",
                    f"{h.ratio:.0%}" if real else "",
                    met if real else "",
                    f"{h.median(endpoint, 'p50_ms'):.1f}",
                    f"{h.median(endpoint, 'p99_ms'):.1f}",
                    f"{h.median(endpoint, 'server_cpu_ms'):.2f}",
                    f"{h.median(endpoint, 'client_cpu_ms'):.2f}",
                    f"{h.median(endpoint, 'machine_busy'):.0%}",
                    f"{h.median(endpoint, 'rest_cores'):.2f} cores",
                    str(sessions) if h.db == "postgresql" else "–",
                    str(sum(r.n - r.ok for r in h.runs if r.endpoint == endpoint)),
                    end_section=real,
                )
        console.print(t)

    if proc:
        t = Table(
            title=f"Processing from the inbox — median of {args.rounds} rounds of {args.events} "
            "events; goal: µs/event flat (largest store / smallest ≈ 1.0)"
        )
        for col in ("database", "stored cases", "rows: checkouts / orders", "seed s",
                    "events/s", "µs/event", "vs smallest", "accept µs/delivery",
                    "detect µs/case", "vs smallest ", "opened / due", "failed"):  # fmt: skip
            t.add_column(col, justify="right")
        for db in dict.fromkeys(p.db for p in proc):
            mine = [p for p in proc if p.db == db]
            base, dbase = mine[0].median("process_us"), mine[0].median("detect_us")
            for n, p in enumerate(mine):
                us, dus = p.median("process_us"), p.median("detect_us")
                t.add_row(
                    db if n == 0 else "",
                    f"{p.stored:,}",
                    f"{p.rows['checkouts'] / 1000:,.0f}k / {p.rows['orders'] / 1000:,.0f}k",
                    f"{p.seed_s:.0f}",
                    f"{1e6 / us:.0f}",
                    f"{us:.0f}",
                    f"{us / base:.2f}",
                    f"{p.median('accept_us'):.0f}",
                    f"{dus:.0f}",
                    f"{dus / dbase:.2f}",
                    f"{sum(r.opened for r in p.rounds)} / {sum(r.due for r in p.rounds)}",
                    str(sum(r.failed for r in p.rounds)),
                    end_section=n == len(mine) - 1,
                )
        console.print(t)


# -- main ----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--requests", type=int, default=5000, help="deliveries per HTTP run")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    p.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: raw asyncio HTTP/1.1 (cheap) or httpx.AsyncClient",
    )
    p.add_argument("--rounds", type=int, default=3, help="runs of each kind (median is kept)")
    p.add_argument("--stored", default="10000,1000000", help="stored cases, comma-separated")
    p.add_argument("--events", type=int, default=1000, help="inbox events per processing round")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--skip-processing", action="store_true")
    p.add_argument("--quick", action="store_true", help="small numbers: a smoke run")
    p.add_argument("--pg", default=PG_DEFAULT, help="a PostgreSQL database to connect to")
    p.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = p.parse_args(argv)
    if args.quick:
        args.requests, args.rounds, args.events = 300, 1, 200
        args.stored = "2000,20000"
    args.sizes = [int(s.replace("_", "")) for s in args.stored.split(",") if s.strip()]
    if any(size < 100 for size in args.sizes):
        p.error("--stored: each size must be at least 100 cases")
    args.dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine(args.pg, args.dbs)
    console.print(f"[bold]bench/ingest.py[/] {' '.join(sys.argv[1:])}  ({info['date']})")
    http: list[HttpResult] = []
    proc: list[ProcResult] = []
    workdir = Path(tempfile.mkdtemp(prefix="reclaim-bench-"))
    try:
        for db in args.dbs:
            if not args.skip_http:
                console.rule(f"HTTP accept on {db}")
                with database(db, "reclaim_bench_http", args.pg, workdir) as url:
                    http.append(
                        bench_http(
                            db,
                            url,
                            requests=args.requests,
                            concurrency=args.concurrency,
                            rounds=args.rounds,
                            client_kind=args.client,
                        )
                    )
            if not args.skip_processing:
                console.rule(f"Processing on {db}")
                with database(db, "reclaim_bench_proc", args.pg, workdir) as url:
                    proc += bench_processing(
                        db, url, sizes=args.sizes, events=args.events, rounds=args.rounds
                    )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(info, http, proc, args)
    if args.json:
        payload = {
            "machine": info,
            "args": {k: v for k, v in vars(args).items() if k not in ("json",)},
            "http": [asdict(h) for h in http],
            "processing": [asdict(p) for p in proc],
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))


if __name__ == "__main__":
    main()
