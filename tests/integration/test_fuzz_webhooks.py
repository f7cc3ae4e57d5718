"""SPEC S1 under fire: 10,000 random or broken bodies to each webhook endpoint.

For Shopify, WooCommerce, Stripe and the generic events API, a seeded generator sends random
bytes, random JSON, valid fixtures cut at random points, and valid fixtures with fields
replaced by wrong types, huge numbers, malformed text or nested junk, each correctly signed
with a real topic. Whatever comes in:

* no answer is a 5xx, every answer is a 2xx or a 4xx;
* every distinct delivery is kept exactly once (a repeat of the same bytes under the same
  topic is a duplicate);
* the worker turns exactly the accepted ones into facts, and every rejected one stays a dead
  letter: the facts stored are exactly those the accepted deliveries describe.

A small sample with a bad signature (or API key) must be refused with 401 and not kept.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from helpers import SECRET, make_store, shopify_headers, stripe_headers, woo_headers
from reclaim.bootstrap import Runtime
from reclaim.entrypoints.api import create_app
from reclaim.entrypoints.worker import run_once
from reclaim.errors import MalformedPayload
from reclaim.services.ingest import digest
from reclaim.services.stores import NewStore

N = 10_000  # bodies per endpoint
FIX = Path(__file__).resolve().parents[1] / "fixtures"

SHOPIFY_TOPICS = {
    "checkout_create_de.json": "checkouts/create",
    "checkout_update_jp.json": "checkouts/update",
    "order_create_pending_br.json": "orders/create",
    "order_paid_gb.json": "orders/paid",
    "order_cancelled_us.json": "orders/cancelled",
    "fulfillment_update.json": "fulfillments/update",
    "fulfillment_event_delivered.json": "fulfillment_events/create",
}
SHOPIFY_EXTRA_TOPICS = ("orders/updated", "fulfillments/create", "products/update")
WOO_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
WOO_EXTRA_TOPICS = ("product.updated",)

FACT_TABLES = {"Checkout": "checkouts", "Order": "orders", "Payment": "payment_attempts",
               "Shipment": "shipments"}  # fmt: skip

# Replacement values: wrong types, edge and huge numbers, malformed text, nested junk.
JUNK: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 7, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30,
    -(10**30), 1.5, -0.0, 1e-300, 1e308, 1.7976931348623157e308, 3.14159,
    "", " ", "x", "0", "-1", "1e10", "1E+999999", "NaN", "-Infinity", "sNaN", "1_000", "١٢٣",
    "0x1F", "  12.30  ", "9" * 400, "é" * 3000, "\u0000", "\u202e\u200b", "💥" * 40,
    "<script>alert(1)</script>", "'; DROP TABLE inbox; --", "javascript:alert(1)",
    "https://evil.example/x", "@", "a@", "@b", "no-at-sign", "UPPER@EXAMPLE.COM",
    "2026-02-30T10:00:00Z", "2026-05-01T10:00:00", "2026-05-01T10:00:00+25:00",
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-05-01", "yesterday",
    "1774100000", "eur", "EURO", "€", "xxx", "pending", "paid", "failed", "card", "wc-draft-1",
    [], {}, [None], [{}], [[]], {"": None}, {"id": None}, ["a"] * 20, list(range(1001)),
    {"amount": "1"}, {"nested": {"deeper": {"deepest": [1, {"x": [None]}]}}},
    [{"title": "x", "quantity": 0, "price": "-1"}],
    [{"name": "x", "quantity": 10**9, "price": "1"}],
)  # fmt: skip
# Raw JSON text put in place of a value: numbers JSON allows but no parser should take,
# tokens JSON does not allow at all, nesting past every depth limit.
RAW_JUNK = (
    "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" * 400, "18446744073709551616",
    "-9223372036854775809", "1e-400", "0.00000000000000000000000000001", '"\\ud800"',
    '"\\udfff\\ud800"', "[" * 3000 + "]" * 3000, '{"a":' * 600 + "1" + "}" * 600,
    "[" * 200 + "]" * 200, "undefined", "'single'", "01", "+1", ".5", "1.", "tru", "nul",
)  # fmt: skip
JSON_KEYS = (
    "id", "type", "data", "object", "token", "email", "total", "total_price", "currency",
    "created_at", "updated_at", "occurred_at", "status", "financial_status", "line_items",
    "items", "quantity", "price", "order_id", "checkout_id", "payment_id", "customer",
    "billing", "date_created_gmt", "date_modified_gmt", "created", "amount", "metadata",
    "last_payment_error", "livemode", "x", "",
)  # fmt: skip


def load_fixtures(platform: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((FIX / platform).glob("*.json"))}


# -- the body generator ----------------------------------------------------------------------


def junk(rnd: random.Random) -> Any:
    return copy.deepcopy(rnd.choice(JUNK))  # a fresh copy: the tree it goes into is mutated


def random_json(rnd: random.Random, depth: int = 0) -> Any:
    kind = rnd.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rnd.choice([None, True, False])
    if kind == 1:
        return rnd.choice([rnd.randint(-(2**70), 2**70), rnd.randint(-5, 5), rnd.random() * 1e6])
    if kind == 2:
        return "".join(chr(rnd.randrange(1, 0x3000)) for _ in range(rnd.randrange(12)))
    if kind in (3, 4):
        return junk(rnd)
    if kind == 5:
        return [random_json(rnd, depth + 1) for _ in range(rnd.randrange(5))]
    return {rnd.choice(JSON_KEYS): random_json(rnd, depth + 1) for _ in range(rnd.randrange(7))}


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a JSON tree (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def mutate(rnd: random.Random, tree: Any) -> bytes:
    """Replace 1–4 random fields of a valid fixture by junk (some as raw, invalid JSON)."""
    raw_texts: dict[str, str] = {}
    where_to = paths(tree)
    for n in range(rnd.randint(1, 4)):
        where = rnd.choice(where_to or [()])
        parent = tree
        try:  # an earlier mutation may have replaced or removed what this path went through
            for step in where[:-1]:
                parent = parent[step]
            if not isinstance(parent, dict | list) or where[-1] not in (
                parent if isinstance(parent, dict) else range(len(parent))
            ):
                continue
        except (IndexError, KeyError, TypeError):
            continue
        roll = rnd.random()
        if roll < 0.15:
            marker = f"@@raw{n}@@"
            raw_texts[json.dumps(marker)] = rnd.choice(RAW_JUNK)
            parent[where[-1]] = marker
        elif roll < 0.25 and isinstance(parent, dict):
            del parent[where[-1]]
        elif roll < 0.35:
            parent[where[-1]] = random_json(rnd)
        else:
            parent[where[-1]] = junk(rnd)
    body = json.dumps(tree, ensure_ascii=rnd.random() < 0.5)
    for marker, raw_text in raw_texts.items():
        body = body.replace(marker, raw_text)
    return body.encode("utf-8", "surrogatepass")


def renew_ids(rnd: random.Random, tree: Any) -> Any:
    """Give the event (or object) a new id most of the time, so that valid variants of one
    fixture are new deliveries rather than all duplicates of its event id."""
    for node in tree if isinstance(tree, list) else [tree]:
        if isinstance(node, dict) and "id" in node and rnd.random() < 0.7:
            old = node["id"]
            fresh = rnd.randrange(10**6, 10**12)
            node["id"] = fresh if isinstance(old, int) else f"{old}-{fresh}"
    return tree


def make_body(rnd: random.Random, fixtures: dict[str, bytes]) -> tuple[bytes, str | None]:
    """One body, and the fixture it was made from (``None`` for random ones)."""
    name = rnd.choice(sorted(fixtures))
    raw = fixtures[name]
    roll = rnd.random()
    if roll < 0.15:  # random bytes, sometimes from JSON's own alphabet
        alphabet = rnd.choice([None, b'{}[]":,0123456789.-eE truefalsn\n\\'])
        size = rnd.choice([0, 1, 2, rnd.randrange(64), rnd.randrange(2048)])
        if alphabet is None:
            return rnd.randbytes(size), None
        return bytes(rnd.choice(alphabet) for _ in range(size)), None
    if roll < 0.35:  # a random JSON value
        value = random_json(rnd) if rnd.random() < 0.5 else {
            rnd.choice(JSON_KEYS): random_json(rnd) for _ in range(rnd.randrange(1, 8))
        }  # fmt: skip
        return json.dumps(value).encode(), None
    if roll < 0.60:  # a valid fixture cut at a random point
        return raw[: rnd.randrange(len(raw))], name
    if roll < 0.92:  # a valid fixture with wrong fields
        return mutate(rnd, renew_ids(rnd, json.loads(raw))), name
    if roll < 0.96:  # framing junk around a valid fixture
        return rnd.choice([b"\xef\xbb\xbf" + raw, raw + b"}", raw + raw, b"[" + raw + b"]",
                           raw + b"\x00", b"  \n" + raw + b"\n  ",
                           raw.replace(b"{", b"{{", 1)]), name  # fmt: skip
    # A valid fixture with one more unknown field: valid, and new bytes (or the fixture as-is).
    tree = renew_ids(rnd, json.loads(raw))
    if isinstance(tree, dict) and rnd.random() < 0.8:
        tree[f"x_fuzz_{rnd.randrange(1000)}"] = random_json(rnd)
        return json.dumps(tree).encode(), name
    return raw, name


# -- a lean HTTP client ----------------------------------------------------------------------


@dataclass
class Answer:
    status_code: int
    content: bytes
    crash: str | None = None  # the exception that escaped the app, if one did

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class AsgiClient:
    """POSTs straight into the ASGI app, as TestClient does, but from the caller's event loop.

    TestClient hops between threads several times per request, and each request it sends
    starts the app's thread-pool anew; over 40,000 requests that would be most of the test's
    time. Sent from one task, the app keeps its worker thread. A crash that escapes the app is
    answered 500, as a server (and ``TestClient(raise_server_exceptions=False)``) would.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, path: str, *, content: bytes, headers: dict[str, str]) -> Answer:
        return await self._post(path, content, headers)

    async def _post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
        ]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"testserver"),
                (b"content-length", str(len(body)).encode()),
                *raw_headers,
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        inbound = [{"type": "http.request", "body": body, "more_body": False}]
        status: list[int] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return inbound.pop() if inbound else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # the app already answered 500 (ServerErrorMiddleware), or not
            crash = f"{type(exc).__name__}: {exc}"[:300]
            return Answer(status[0] if status else 500, b"".join(chunks), crash)
        return Answer(status[0], b"".join(chunks))


# -- one endpoint under fuzz ----------------------------------------------------------------


@dataclass
class Tally:
    """What the responses said, and what must therefore be stored."""

    codes: Counter[int] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    kept: dict[int, str] = field(default_factory=dict)  # delivery id -> accepted | rejected
    seen: dict[tuple[str, str], int] = field(default_factory=dict)  # (topic, digest) -> id
    facts: set[tuple[str, str]] = field(default_factory=set)  # (table, external id)

    def answer(self, status: str, delivery_id: int | None, body: bytes, topic: str) -> None:
        """``topic``: the one sent (``""`` where the body names it: the same bytes, the same
        topic); duplicates are per topic."""
        self.statuses[status] += 1
        assert isinstance(delivery_id, int), (status, delivery_id)
        key = (topic, digest(body))
        if status == "rejected" and self.kept.get(self.seen.get(key, -1)) == "rejected":
            # a malformed body sent again gets its 422 again, naming the delivery kept first
            assert delivery_id == self.seen[key], (delivery_id, self.seen[key])
            return
        if status == "duplicate":
            assert delivery_id in self.kept, "a duplicate must point at a kept delivery"
        else:
            assert status in ("accepted", "rejected"), status
            assert key not in self.seen, "the same bytes were kept twice under one topic"
            assert delivery_id not in self.kept, "two deliveries got one id"
            self.kept[delivery_id] = status
        if key in self.seen:  # the same bytes under the same topic: a duplicate of the first
            assert status == "duplicate" and delivery_id == self.seen[key], (status, body[:80])
        self.seen.setdefault(key, delivery_id)


async def run_endpoint(
    rt: Runtime,
    *,
    seed: int,
    fixtures: dict[str, bytes],
    topic_for: Callable[[random.Random, str | None, int], str],
    send: Callable[[bytes, str], Awaitable[Answer]],
    source: str,
    split: bool = False,
) -> Tally:
    rnd = random.Random(seed)
    tally = Tally()
    connector = rt.connectors[source]
    for i in range(N):
        body, fixture = make_body(rnd, fixtures)
        topic = topic_for(rnd, fixture, i)
        r = await send(body, topic)
        tally.codes[r.status_code] += 1
        assert r.status_code < 500, (r.status_code, r.crash, r.text[:300], body[:300])
        assert 200 <= r.status_code < 500, r.status_code
        payload = r.json()
        if not split:
            assert r.status_code in (200, 422), (r.status_code, r.text[:300])
            tally.answer(payload["status"], payload["delivery_id"], body, topic)
            if payload["status"] == "accepted":
                headers = {"X-Shopify-Topic": topic, "X-WC-Webhook-Topic": topic}
                parsed = connector.parse(topic=connector.topic(headers), headers=headers,
                                         body=body)  # fmt: skip
                tally.facts |= facts_of(parsed.facts)
            continue
        assert r.status_code in (202, 422), (r.status_code, r.text[:300])
        results = payload["results"]
        assert sum(payload[s] for s in ("accepted", "duplicate", "rejected")) == len(results)
        try:
            events = rt.split_batch(body)
        except MalformedPayload:  # the whole body was kept as one dead letter
            events = [body]
        assert len(events) == len(results)
        for result, event in zip(results, events, strict=True):
            tally.answer(result["status"], result["delivery_id"], event, "")
            if result["status"] == "accepted":
                parsed = connector.parse(topic="", headers={}, body=event)
                tally.facts |= facts_of(parsed.facts)
    return tally


def facts_of(facts: tuple[Any, ...]) -> set[tuple[str, str]]:
    out = set()
    for fact in facts:
        [table] = [t for prefix, t in FACT_TABLES.items() if type(fact).__name__.startswith(prefix)]
        out.add((table, fact.external_id))
    return out


def stored(rt: Runtime, store_id: str) -> tuple[dict[str, int], set[tuple[str, str]], int]:
    with rt.uow() as uow:
        inbox = {
            status: int(n)
            for status, n in uow.execute(
                text("SELECT status, count(*) FROM inbox WHERE store_id = :s GROUP BY status"),
                {"s": store_id},
            )
        }
        facts = {
            (table, external_id)
            for table in FACT_TABLES.values()
            for (external_id,) in uow.execute(
                text(f"SELECT external_id FROM {table} WHERE store_id = :s"), {"s": store_id}
            )
        }
        cases = uow.execute(
            text("SELECT count(*) FROM cases WHERE store_id = :s"), {"s": store_id}
        ).scalar_one()
    return inbox, facts, int(cases)


def inbox_total(rt: Runtime) -> int:
    with rt.uow() as uow:
        return int(uow.execute(text("SELECT count(*) FROM inbox")).scalar_one())


# -- the tests -------------------------------------------------------------------------------


def senders(c: AsgiClient, stores: dict[str, NewStore], clock: Any) -> dict[str, dict[str, Any]]:
    """Per endpoint: how to pick a real topic for a body, and how to sign and send it."""
    shopify_topics = (*sorted(set(SHOPIFY_TOPICS.values())), *SHOPIFY_EXTRA_TOPICS)
    woo_topics = (*WOO_TOPICS, *WOO_EXTRA_TOPICS)
    webhook_ids = itertools.count(1)

    def shopify_topic(rnd: random.Random, fixture: str | None, i: int) -> str:
        if fixture in SHOPIFY_TOPICS and rnd.random() < 0.75:
            return SHOPIFY_TOPICS[fixture]
        return shopify_topics[i % len(shopify_topics)]

    def woo_topic(rnd: random.Random, fixture: str | None, i: int) -> str:
        if fixture == "order_deleted.json" and rnd.random() < 0.75:
            return "order.deleted"
        return woo_topics[i % len(woo_topics)]

    def none(rnd: random.Random, fixture: str | None, i: int) -> str:
        return ""  # Stripe's and the generic API's event type is in the body

    async def shopify(body: bytes, topic: str) -> Answer:
        headers = shopify_headers(body, topic, f"fuzz-{next(webhook_ids)}")
        return await c.post(
            f"/webhooks/shopify/{stores['shopify'].id}", content=body, headers=headers
        )

    async def woocommerce(body: bytes, topic: str) -> Answer:
        url = f"/webhooks/woocommerce/{stores['woocommerce'].id}"
        return await c.post(url, content=body, headers=woo_headers(body, topic))

    async def stripe(body: bytes, topic: str) -> Answer:
        url = f"/webhooks/stripe/{stores['stripe'].id}"
        return await c.post(url, content=body, headers=stripe_headers(body, clock.now))

    async def generic(body: bytes, topic: str) -> Answer:
        headers = {"Authorization": f"Bearer {stores['generic'].api_key}",
                   "Content-Type": "application/json"}  # fmt: skip
        return await c.post("/api/v1/events", content=body, headers=headers)

    return {
        "shopify": {"topic_for": shopify_topic, "send": shopify},
        "woocommerce": {"topic_for": woo_topic, "send": woocommerce},
        "stripe": {"topic_for": none, "send": stripe},
        "generic": {"topic_for": none, "send": generic, "split": True},
    }


@pytest.mark.slow
def test_random_and_broken_bodies_never_crash_are_all_kept_and_none_is_processed(
    sqlite_rt: Runtime, clock
) -> None:  # type: ignore[no-untyped-def]
    rt = sqlite_rt
    stores = {name: make_store(rt, name=f"Fuzz {name}") for name in
              ("shopify", "woocommerce", "stripe", "generic")}  # fmt: skip
    tallies: dict[str, Tally] = {}
    timings: dict[str, float] = {}

    async def fuzz() -> None:
        c = AsgiClient(create_app(rt))
        for seed, (source, spec) in enumerate(senders(c, stores, clock).items(), start=20260501):
            started = time.perf_counter()
            tallies[source] = await run_endpoint(
                rt, seed=seed, source=source, fixtures=load_fixtures(source), **spec
            )
            timings[source] = time.perf_counter() - started

    asyncio.run(fuzz())  # one task for all 40,000 requests

    stats = run_once(rt, clock.now)

    for source, tally in tallies.items():
        accepted = sum(s == "accepted" for s in tally.kept.values())
        rejected = sum(s == "rejected" for s in tally.kept.values())
        inbox, facts, cases = stored(rt, stores[source].id)
        summary = f"{source}: {dict(tally.codes)} {dict(tally.statuses)} inbox={inbox}"
        print(f"{summary} facts={len(facts)} cases={cases} {timings[source]:.1f}s")
        # Every distinct delivery is kept once; the worker processed the accepted ones only
        # (or found nothing in them to use) and left every rejected one as a dead letter.
        assert sum(inbox.values()) == len(tally.kept), summary
        assert inbox.get("processed", 0) + inbox.get("ignored", 0) == accepted, summary
        assert inbox.get("failed", 0) == rejected, summary
        assert set(inbox) <= {"processed", "ignored", "failed"}, summary
        # The facts stored are exactly those the accepted deliveries describe.
        assert facts == tally.facts, summary
        # The fuzz must really reach every outcome, not just bounce off the door.
        assert rejected > N // 4, summary
        assert accepted > 0, summary
        assert tally.statuses["duplicate"] > 0, summary
        if not facts:
            assert cases == 0, summary
    # The worker's own count agrees: it failed on nothing it was given.
    accepted_total = sum(sum(s == "accepted" for s in t.kept.values()) for t in tallies.values())
    assert stats.inbox.failed == 0
    assert stats.inbox.processed + stats.inbox.ignored == accepted_total - ignored_at_the_door(rt)


def ignored_at_the_door(rt: Runtime) -> int:
    """Deliveries kept as "ignored" when they arrived (a topic Reclaim has no use for)."""
    with rt.uow() as uow:
        return int(
            uow.execute(
                text("SELECT count(*) FROM inbox WHERE status = 'ignored' AND attempts = 0")
            ).scalar_one()
        )


@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "stripe", "generic"])
def test_bad_signatures_are_refused_and_not_kept(sqlite_rt: Runtime, clock, platform) -> None:  # type: ignore[no-untyped-def]
    rt = sqlite_rt
    store = make_store(rt, name=f"Sig {platform}")
    with TestClient(create_app(rt), raise_server_exceptions=False) as c:
        send_badly_signed(c, store, platform, clock)
    assert inbox_total(rt) == 0


def send_badly_signed(c: TestClient, store: NewStore, platform: str, clock: Any) -> None:
    rnd = random.Random(7)
    fixtures = load_fixtures(platform)
    wrong = "whsec_not_the_secret"
    for i in range(60):
        body, _ = make_body(rnd, fixtures)
        if platform == "generic":
            # The store's own key with its last character changed (to another one: a key
            # that already ends in "x" would otherwise stay right, once in 64 runs).
            altered = store.api_key[:-1] + ("y" if store.api_key.endswith("x") else "x")
            key = rnd.choice(["rk_00000000_nope", altered, "", "Basic abc"])
            headers = {"Authorization": f"Bearer {key}"} if key else {}
            r = c.post("/api/v1/events", content=body, headers=headers)
        else:
            url = f"/webhooks/{platform}/{store.id}"
            variant = i % 4
            if platform == "shopify":
                headers = shopify_headers(body, "orders/create", f"w{i}", secret=wrong)
                name = "X-Shopify-Hmac-Sha256"
            elif platform == "woocommerce":
                headers = woo_headers(body, "order.updated", secret=wrong)
                name = "X-WC-Webhook-Signature"
            else:
                headers = stripe_headers(body, clock.now, secret=wrong)
                name = "Stripe-Signature"
            if variant == 1:  # no signature at all
                del headers[name]
            elif variant == 2:  # signature of other bytes, right secret
                other = body + b" "
                mac = hmac.new(SECRET.encode(), other, hashlib.sha256)
                headers[name] = (
                    base64.b64encode(mac.digest()).decode()
                    if platform != "stripe"
                    else stripe_headers(other, clock.now)[name]
                )
            elif variant == 3:  # garbage in the header
                headers[name] = rnd.choice(["", "t=,v1=", "=" * 50, "v1=" + "0" * 64, "sha256=abc"])
            r = c.post(url, content=body, headers=headers)
        if platform == "woocommerce" and r.status_code != 401:
            # WooCommerce's unsigned creation ping is the one body taken without a signature.
            assert body.strip().startswith(b"webhook_id="), (r.status_code, body[:80])
            continue
        assert r.status_code == 401, (r.status_code, r.text[:200])
    if platform == "stripe":  # right secret, but a timestamp outside the 300 s tolerance
        body = load_fixtures("stripe")["payment_intent_succeeded.json"]
        for skew in (301, -301, 86_400):
            headers = stripe_headers(body, clock.now + timedelta(seconds=skew))
            r = c.post(f"/webhooks/stripe/{store.id}", content=body, headers=headers)
            assert r.status_code == 401, r.text
