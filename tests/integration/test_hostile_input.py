"""Issue 11's findings, one test each, on SQLite and the real PostgreSQL (docs/security.md).

Each reproduces what an attack run against a running Reclaim found: bodies parsed before the
API key was checked, NUL characters that PostgreSQL cannot store, 500s for non-finite
numbers, deep nesting and huge integers, unsigned pings stored for any store, a resent
malformed body answered "duplicate", another shop's deliveries accepted, 401 for a missing
scope, framable pages, public API docs, and no rate limit anywhere.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from helpers import (
    SECRET,
    checkout_event,
    client,
    make_store,
    post_events,
    shopify_headers,
    stripe_headers,
    woo_headers,
)
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.links import sign_token
from reclaim.entrypoints.api import create_app
from reclaim.entrypoints.worker import run_once

FIX = Path(__file__).resolve().parents[1] / "fixtures"
MARCH = datetime(2026, 3, 10, tzinfo=UTC)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def inbox_rows(rt: Runtime) -> list[tuple[str, str, str | None]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(text("SELECT source, status, error FROM inbox ORDER BY id")).all()
    return [(r[0], r[1], r[2]) for r in rows]


# -- bodies are read only after the API key is checked ------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/warehouses", "/api/v1/stock", "/api/v1/products", "/api/v1/holds",
             "/api/v1/orders/o1/hold", "/api/v1/events", "/api/v1/feedback",
             "/api/v1/suppressions"],
)  # fmt: skip
def test_a_body_without_a_key_is_never_read(sqlite_rt: Runtime, path: str) -> None:
    """The app answers 401 without taking a single byte of the body off the connection."""
    app = create_app(sqlite_rt)
    taken: list[int] = []

    async def watching(scope, receive, send):  # type: ignore[no-untyped-def]
        async def counted():  # type: ignore[no-untyped-def]
            message = await receive()
            if message["type"] == "http.request":
                taken.append(len(message.get("body", b"")))
            return message

        await app(scope, counted, send)

    body = json.dumps({"levels": [{"a": 1}] * 20_000}).encode()
    r = TestClient(watching).post(path, content=body)
    assert r.status_code == 401, r.text
    assert sum(taken) == 0


def test_a_chunked_body_over_the_limit_is_refused_while_it_arrives(sqlite_rt: Runtime) -> None:
    """(The test client hands the app the whole body; tests/e2e/test_hostile_server.py sends
    100 MB to a real server and measures its memory.)"""
    store = make_store(sqlite_rt)

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(64):  # 64 × 64 KiB = 4 MiB offered, the webhook limit is 2 MiB
            yield b"x" * 65536

    c = client(sqlite_rt)
    r = c.post(
        f"/webhooks/shopify/{store.id}",
        content=chunks(),
        headers=shopify_headers(b"", "checkouts/create", "big"),
    )
    assert r.status_code == 413
    r = c.post("/u/whatever", content=chunks())
    assert r.status_code == 413


def test_a_declared_length_over_the_limit_is_refused_unread(sqlite_rt: Runtime) -> None:
    c = client(sqlite_rt)
    r = c.post("/api/v1/feedback", content=b"{}", headers={"Content-Length": str(100 * 2**20)})
    assert r.status_code == 413


# -- NUL characters: kept and refused alike on both databases -----------------------------------


def test_a_signed_stripe_event_with_nul_in_its_id_is_kept(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt, platform="stripe")
    data = json.loads((FIX / "stripe" / "payment_intent_payment_failed.json").read_bytes())
    data["id"] = "evt_\u0000x"
    body = json.dumps(data).encode()
    r = client(rt).post(
        f"/webhooks/stripe/{store.id}", content=body, headers=stripe_headers(body, clock.now)
    )
    assert r.status_code == 422
    assert "NUL" in r.json()["detail"]
    assert inbox_rows(rt) == [("stripe", "failed", "id holds a NUL character")]


def test_a_nul_in_an_event_id_or_checkout_is_a_dead_letter_not_a_worker_error(
    rt: Runtime, clock
) -> None:  # type: ignore[no-untyped-def]
    store = make_store(rt, platform="custom")
    c = client(rt)
    bad = [
        {**checkout_event(clock.now, checkout_id="c\u00001"), "id": "e1"},
        {**checkout_event(clock.now, checkout_id="c2", user_agent="UA\u0000"), "id": "e2"},
        checkout_event(clock.now, checkout_id="c3", recovery_url="https://shop.example/\u0000"),
        {**checkout_event(clock.now, checkout_id="c4"), "id": "e\u00004"},
    ]
    r = post_events(c, store.api_key, bad)
    assert r.status_code == 422
    assert [x["status"] for x in r.json()["results"]] == ["rejected"] * 4
    assert all("NUL" in x["error"] for x in r.json()["results"])
    rows = inbox_rows(rt)
    assert [s for _, s, _ in rows] == ["failed"] * 4  # kept, every one, for a replay
    stats = run_once(rt, clock.now)
    assert stats.inbox.failed == 0  # nothing was left for the worker to trip on


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/suppressions", {"channel": "email", "address": "a\u0000@example.com"}),
        ("/api/v1/suppressions/check", {"channel": "email", "address": "a@ex\u0000ample.com"}),
        ("/api/v1/feedback", {"type": "complaint", "email": "x\u0000@example.com"}),
        ("/api/v1/holds", {"order_id": "o\u00001", "items": [{"sku": "S", "quantity": 1}]}),
        ("/api/v1/products", {"products": [{"sku": "S\u0000", "name": "Mug"}]}),
        ("/api/v1/warehouses", {"warehouses": [{"code": "W\u0000", "country": "DE",
                                                "timezone": "Europe/Berlin"}]}),
        ("/api/v1/stock", {"levels": [{"warehouse": "W1", "sku": "\u0000", "on_hand": 1}]}),
    ],
)  # fmt: skip
def test_nul_in_api_bodies_is_a_422_naming_the_field(
    rt: Runtime, path: str, body: dict[str, Any]
) -> None:
    store = make_store(rt, platform="custom")
    r = client(rt).post(path, content=json.dumps(body).encode(), headers=auth(store.api_key))
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["detail"]


def test_nul_in_an_address_is_a_400(rt: Runtime) -> None:
    store = make_store(rt, platform="custom")
    c = client(rt)
    assert c.get("/api/v1/stock?sku=A%00B", headers=auth(store.api_key)).status_code == 400
    assert c.post("/webhooks/shopify/st_%00", content=b"{}").status_code == 400


# -- 4xx, never 500 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"levels":[{"warehouse":"W1","sku":"A","on_hand":NaN}]}',
        b'{"levels":[{"warehouse":"W1","sku":"A","on_hand":Infinity}]}',
        b'{"levels":[{"warehouse":"W1","sku":"A","on_hand":1e999}]}',
        b'{"levels":[{"warehouse":"W1","sku":"\\ud800","on_hand":1}]}',
        b'{"levels":[{"warehouse":"W1","sku":"A","on_hand":99999999999999999999999}]}',
        b'{"levels":[{"warehouse":"W1","sku":"A","on_hand":1}]' + b"x" * 10,
    ],
)
def test_non_finite_numbers_surrogates_and_huge_integers_are_422(rt: Runtime, raw: bytes) -> None:
    store = make_store(rt, platform="custom")
    r = client(rt).post("/api/v1/stock", content=raw, headers=auth(store.api_key))
    assert r.status_code == 422, r.text
    assert "\\ud800" not in r.text and "NaN" not in r.text  # the answer does not echo the input


@pytest.mark.parametrize("path", ["/api/v1/feedback", "/api/v1/suppressions"])
def test_deep_nesting_is_422(sqlite_rt: Runtime, path: str) -> None:
    store = make_store(sqlite_rt, platform="custom")
    raw = b'{"email":' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    r = client(sqlite_rt).post(path, content=raw, headers=auth(store.api_key))
    assert r.status_code == 422
    assert "nested deeper" in r.json()["detail"]


def test_ids_and_cursors_beyond_64_bits_are_422(rt: Runtime) -> None:
    store = make_store(rt, platform="custom")
    c = client(rt)
    huge = "99999999999999999999"
    for method, path in [
        ("GET", f"/api/v1/cases/{huge}"),
        ("POST", f"/api/v1/cases/{huge}/stop"),
        ("GET", f"/api/v1/cases?cursor={huge}"),
        ("GET", f"/api/v1/coupons?cursor={huge}"),
    ]:
        r = c.request(method, path, headers=auth(store.api_key))
        assert r.status_code == 422, (path, r.text)
    assert (
        c.get("/api/v1/cases/9223372036854775807", headers=auth(store.api_key)).status_code == 404
    )


def test_a_signed_token_with_a_huge_message_id_is_a_plain_404(rt: Runtime) -> None:
    key = rt.links().key
    for m in (10**30, -(10**30)):
        token = sign_token({"k": "c", "m": m, "u": "https://shop.example/"}, key=key)
        for path in (f"/t/c/{token}", f"/u/{token}"):
            assert client(rt).get(path, follow_redirects=False).status_code == 404


# -- what is kept and what is refused ------------------------------------------------------------


def test_an_unsigned_ping_is_answered_for_a_woocommerce_store_and_kept_for_none(
    rt: Runtime,
) -> None:
    woo = make_store(rt, "Woo", platform="woocommerce")
    shop = make_store(rt, "Shop", platform="shopify")
    c = client(rt)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = c.post(f"/webhooks/woocommerce/{woo.id}", content=b"webhook_id=12", headers=form)
    assert r.status_code == 200 and r.json()["status"] == "ping"
    r = c.post(f"/webhooks/woocommerce/{shop.id}", content=b"webhook_id=13", headers=form)
    assert r.status_code == 401
    assert inbox_rows(rt) == []


def test_a_malformed_body_sent_twice_gets_its_422_twice(rt: Runtime) -> None:
    store = make_store(rt, platform="woocommerce")
    body = b'{"id": 5, "status": "pending"}'
    c = client(rt)
    url = f"/webhooks/woocommerce/{store.id}"
    first = c.post(url, content=body, headers=woo_headers(body, "order.created"))
    again = c.post(url, content=body, headers=woo_headers(body, "order.created"))
    assert first.status_code == again.status_code == 422
    assert again.json()["detail"] == first.json()["detail"]
    assert again.json()["delivery_id"] == first.json()["delivery_id"]
    assert len(inbox_rows(rt)) == 1


def test_a_delivery_for_another_shop_is_refused(rt: Runtime, clock) -> None:  # type: ignore[no-untyped-def]
    clock.now = MARCH
    store = make_store(rt)
    c = client(rt)
    body = (FIX / "shopify" / "checkout_create_de.json").read_bytes()
    url = f"/webhooks/shopify/{store.id}"
    mine = shopify_headers(body, "checkouts/create", "w1")
    assert c.post(url, content=body, headers=mine).status_code == 200  # learns shop.example
    other = {**shopify_headers(body, "checkouts/create", "w2"),
             "X-Shopify-Shop-Domain": "someone-else.myshopify.com"}  # fmt: skip
    r = c.post(url, content=body, headers=other)
    assert r.status_code == 401
    assert "someone-else.myshopify.com" in r.json()["detail"]
    assert len(inbox_rows(rt)) == 1


def test_a_key_without_the_scope_is_403_and_a_wrong_key_401(rt: Runtime) -> None:
    store = make_store(rt, platform="custom")
    with rt.engine.begin() as conn:
        conn.execute(text("UPDATE api_keys SET scopes = 'cases:read'"))
    c = client(rt)
    assert c.get("/api/v1/cases", headers=auth(store.api_key)).status_code == 200
    r = post_events(c, store.api_key, checkout_event(datetime(2026, 5, 1, tzinfo=UTC)))
    assert r.status_code == 403 and "events:write" in r.json()["detail"]
    assert c.get("/api/v1/cases", headers=auth("rk_nope_nope")).status_code == 401


def test_pages_cannot_be_framed_and_api_docs_are_off_by_default(sqlite_rt: Runtime) -> None:
    c = client(sqlite_rt)
    page = c.get("/u/not-a-token")
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert c.get("/docs").status_code == 404
    assert c.get("/redoc").status_code == 404
    assert c.get("/openapi.json").status_code == 200
    with_docs = bootstrap(Settings(database_url=sqlite_rt.settings.database_url, api_docs=True))
    try:
        assert TestClient(create_app(with_docs)).get("/docs").status_code == 200
    finally:
        with_docs.close()


def test_the_openapi_schema_still_documents_the_bodies_read_after_auth(sqlite_rt: Runtime) -> None:
    spec = client(sqlite_rt).get("/openapi.json").json()
    body = spec["paths"]["/api/v1/stock"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["properties"]["levels"]["items"]["properties"]["sku"]["type"] == "string"


# -- rate limits ----------------------------------------------------------------------------------


def limited(db_url: str, **limits: Any) -> Runtime:
    runtime = bootstrap(Settings(database_url=db_url, rate_limit_enabled=True, **limits))
    init_database(runtime)
    return runtime


def test_rate_limits_answer_429_with_retry_after(sqlite_rt: Runtime) -> None:
    store = make_store(sqlite_rt)
    url = sqlite_rt.settings.database_url
    rt = limited(url, rate_limit_webhooks="5/minute", rate_limit_public="3/minute",
                 rate_limit_api="4/minute")  # fmt: skip
    try:
        c = TestClient(create_app(rt))
        hook = [c.post(f"/webhooks/shopify/{store.id}", content=b"{}").status_code
                for _ in range(7)]  # fmt: skip
        assert hook[:5] == [401] * 5 and hook[5:] == [429, 429]
        r = c.post(f"/webhooks/shopify/{store.id}", content=b"{}")
        assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
        public = [c.get("/t/c/x").status_code for _ in range(4)]
        assert public == [404, 404, 404, 429]
        api = [c.get("/api/v1/cases", headers=auth(store.api_key)).status_code for _ in range(5)]
        assert api == [200] * 4 + [429]
        assert c.get("/healthz").status_code == 200  # health checks are never limited
    finally:
        rt.close()


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(sqlite_rt: Runtime) -> None:
    url = sqlite_rt.settings.database_url
    for proxies, expected in (("", [404, 404, 429, 429]), ("0.0.0.0/0", [404, 404, 404, 404])):
        rt = limited(url, rate_limit_public="2/minute", trusted_proxies=proxies)
        try:
            c = TestClient(create_app(rt), client=("10.0.0.1", 5000))
            got = [
                c.get("/t/c/x", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                for i in range(4)
            ]
            assert got == expected, proxies
        finally:
            rt.close()


# -- logs ------------------------------------------------------------------------------------------


def test_dead_letter_log_lines_name_the_field_not_the_value(
    sqlite_rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store(sqlite_rt, platform="custom")
    caplog.set_level(logging.DEBUG)
    e = checkout_event(datetime(2026, 5, 1, tzinfo=UTC), checkout_id="c1")
    e["occurred_at"] = "Erika Error, Hauptstraße 5"
    r = post_events(client(sqlite_rt), store.api_key, e)
    assert r.status_code == 422
    assert "occurred_at" in caplog.text
    assert "Erika" not in caplog.text and "Hauptstraße" not in caplog.text


def test_the_secret_is_not_needed_for_a_ping_and_nothing_signed_is_skipped(rt: Runtime) -> None:
    """A signed order still goes through the normal path on a WooCommerce store."""
    store = make_store(rt, platform="woocommerce")
    body = (FIX / "woocommerce" / "order_on_hold_de.json").read_bytes()
    r = client(rt).post(
        f"/webhooks/woocommerce/{store.id}", content=body,
        headers=woo_headers(body, "order.created", SECRET),
    )  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_instants_utc_cannot_hold_are_422(rt: Runtime) -> None:
    store = make_store(rt, platform="custom")
    c = client(rt)
    for edge in ("0001-01-01T00:00:00%2B14:00", "9999-12-31T23:59:59-14:00"):
        for path in ("/api/v1/cases", "/api/v1/coupons"):
            r = c.get(f"{path}?since={edge}", headers=auth(store.api_key))
            assert r.status_code == 422, (path, edge, r.text)
            assert "since is out of range" in r.json()["detail"]
