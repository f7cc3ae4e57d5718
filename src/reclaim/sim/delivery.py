"""When what the platforms emit reaches Reclaim: latency, late first attempts, retries.

Every emission is delivered after its platform's usual latency (:data:`LATENCY_S`); a share
``late_share`` is delivered late (the first attempt failed; Shopify retries for up to a day),
which reorders them against later events; a share ``duplicate_share`` is delivered a second
time with the same bytes (the platform saw a timeout). Activity from before the store was
connected is delivered shortly after it. Added on top: WooCommerce's webhook-created ping and
one deliberately bad delivery per store (a stale signing secret; for the custom site an event
without a currency), which Reclaim must refuse.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from reclaim.sim import custom, shopify, stripe, woocommerce
from reclaim.sim import payloads as pl
from reclaim.sim.model import Cart, Delivery, Line
from reclaim.sim.people import make_customer
from reclaim.sim.storefronts import Emitted
from reclaim.sim.world import STORE, STORES


class Timing(Protocol):
    @property
    def seed(self) -> int: ...
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def late_share(self) -> float: ...
    @property
    def duplicate_share(self) -> float: ...


def schedule(
    items: list[Emitted], cfg: Timing, rng: random.Random, stats: Counter[str]
) -> list[Delivery]:
    """When each emitted event reaches Reclaim: latency, late first attempts, retries."""
    out = deliveries_for(items, cfg, rng, stats, first_seq=1)
    seq = len(out)

    def add(at: datetime, e: None, role: str, **kw: object) -> None:
        nonlocal seq
        seq += 1
        out.append(Delivery(at=at, seq=seq, role=role, **kw))  # type: ignore[arg-type]

    _extras(add, cfg, rng)
    out = [d for d in out if d.at <= cfg.end]
    out.sort(key=lambda d: (d.at, d.seq))
    return out


def deliveries_for(
    items: list[Emitted], cfg: Timing, rng: random.Random, stats: Counter[str], *, first_seq: int
) -> list[Delivery]:
    """The deliveries of ``items`` (in the order they happened), numbered from ``first_seq``;
    those after ``cfg.end`` included (the caller drops them)."""
    out: list[Delivery] = []
    seq = first_seq - 1

    def add(at: datetime, e: Emitted, role: str) -> None:
        nonlocal seq
        seq += 1
        headers = dict(e.headers)
        if role == "retry" and "X-WC-Webhook-Delivery-ID" in headers:
            headers["X-WC-Webhook-Delivery-ID"] = "".join(
                rng.choice("0123456789abcdef") for _ in range(40)
            )
        out.append(
            Delivery(
                at=at,
                seq=seq,
                store=e.store,
                topic=e.topic,
                body=e.body,
                headers=headers,
                facts=e.facts,
                role=role,
                events=e.events,
                occurred_at=e.occurred_at,
            )
        )

    for e in sorted(items, key=lambda x: (x.occurred_at, x.seq)):
        if e.occurred_at > cfg.end:
            continue
        low, high = LATENCY_S[STORE[e.store].platform]
        at = e.occurred_at + timedelta(seconds=rng.randint(low, high))
        if e.occurred_at < cfg.start:  # activity before activation: retried afterwards
            at = cfg.start + timedelta(seconds=rng.randint(60, 1800))
        if rng.random() < cfg.late_share:
            stats["deliveries:late"] += 1
            at += late_delay(rng, STORE[e.store].platform)
        add(at, e, "event")
        if rng.random() < cfg.duplicate_share:
            stats["deliveries:retried"] += 1
            again = timedelta(seconds=rng.randint(5, 1800))
            if rng.random() < 0.1:
                again = timedelta(seconds=round(rng.uniform(1, 12) * 3600))
            add(at + again, e, "retry")
    return out


def _extras(add: Callable[..., None], cfg: Timing, rng: random.Random) -> None:
    """WooCommerce's ping, and one bad delivery per store (counted as rejected)."""
    woo = STORE["woocommerce"]
    add(
        cfg.start + timedelta(seconds=20),
        None,
        "ping",
        store=woo.key,
        topic="ping",
        body=b"webhook_id=11",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "WooCommerce Hookshot",
        },
        facts=(),
    )
    stranger = make_customer(random.Random(cfg.seed), 0)
    for spec in STORES:
        at = cfg.start + timedelta(seconds=rng.randint(60, 900))
        cart = Cart(
            (Line(spec.catalogue[0], 1, spec.catalogue[0].price("EUR")),), "EUR", Decimal(0)
        )
        if spec.key == "custom":
            bad = {
                "id": "kc-bad-1",
                "type": "checkout.updated",
                "occurred_at": pl.utc_iso(at),
                "data": {"checkout_id": "c-0", "total": "10.00"},
            }  # no currency
            add(
                at,
                None,
                "rejected",
                store=spec.key,
                topic="checkout.updated",
                body=pl.dumps(bad),
                headers=custom.generic_headers(spec),
                facts=(),
            )
            continue
        body = pl.dumps(
            {
                "id": 1,
                "note": "sent before the webhook secret was rotated",
                "cart": [line.product.sku for line in cart.lines],
                "email": stranger.email,
            }
        )
        headers = (
            shopify.shopify_headers(spec, "checkouts/update", "stale", "0", at)
            if spec.key == "shopify"
            else woocommerce.woo_headers(spec, "order.updated", 12, "stale")
            if spec.key == "woocommerce"
            else stripe.stripe_headers()
        )
        add(
            at,
            None,
            "rejected",
            store=spec.key,
            topic="stale-secret",
            body=body,
            headers=headers,
            facts=(),
            wrong_secret=True,
        )


#: Seconds from an event to its delivery, by platform (first attempt).
LATENCY_S = {"shopify": (1, 8), "woocommerce": (3, 45), "stripe": (1, 4), "custom": (0, 2)}


def late_delay(rng: random.Random, platform: str) -> timedelta:
    """How late a delivery whose first attempt failed arrives (Shopify: up to a day)."""
    if platform == "shopify":
        if rng.random() < 0.2:
            return _s(rng.uniform(1, 24) * 3600)
        return _s(rng.uniform(1, 30) * 60)
    if platform == "woocommerce":
        return _s(rng.uniform(1, 15) * 60)
    if platform == "stripe":
        return _s(rng.uniform(1, 60) * 60)
    return _s(rng.uniform(10, 120))


def _s(seconds: float) -> timedelta:
    """Whole seconds: every simulated instant is, as the platforms' timestamps are."""
    return timedelta(seconds=round(seconds))
