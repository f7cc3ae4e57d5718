"""Stock holds (SPEC S7) on SQLite and the real PostgreSQL: concurrent reservations over real
HTTP never oversell, holds follow their orders (paid → allocated, cancelled → released,
unpaid → expired by one sweep), operators extend them, the flow's cancellation step follows."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from helpers import client, make_store, order_event, post_events
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_once
from reclaim.services import holds
from reclaim.sim.driver import LiveServer

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hrt(db_url: str, clock: Clock) -> Iterator[Runtime]:
    rt = bootstrap(Settings(database_url=db_url), clock=clock)
    init_database(rt)
    yield rt
    rt.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def setup_stock(c: TestClient | httpx.Client, key: str, levels: list[dict[str, Any]]) -> None:
    r = c.post(
        "/api/v1/warehouses",
        json={
            "warehouses": [
                {"code": "PAR", "country": "FR", "timezone": "Europe/Paris", "cutoff": "14:00"},
                {"code": "BER", "country": "DE", "timezone": "Europe/Berlin"},
            ]
        },
        headers=auth(key),
    )
    assert r.status_code == 200, r.text
    r = c.post("/api/v1/stock", json={"levels": levels}, headers=auth(key))
    assert r.status_code == 200, r.text


def stock(c: TestClient | httpx.Client, key: str, sku: str) -> dict[str, Any]:
    r = c.get("/api/v1/stock", params={"sku": sku}, headers=auth(key))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("units", [0, 1, 10])
def test_200_concurrent_reservations_never_oversell(hrt: Runtime, units: int) -> None:
    store = make_store(hrt)
    with LiveServer(hrt) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        setup_stock(c, store.api_key, [{"warehouse": "PAR", "sku": "LAMP", "on_hand": units}])
        answers: Counter[int] = Counter()
        lock = threading.Lock()
        start = threading.Barrier(20)

        def buyer(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as mine:
                start.wait()
                for i in range(10):
                    r = mine.post(
                        "/api/v1/holds",
                        json={"order_id": f"o-{n}-{i}", "items": [{"sku": "LAMP", "quantity": 1}]},
                        headers=auth(store.api_key),
                    )
                    with lock:
                        answers[r.status_code] += 1

        threads = [threading.Thread(target=buyer, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        level = stock(c, store.api_key, "LAMP")
    assert answers == Counter({201: min(units, 200), 409: 200 - min(units, 200)})
    [row] = level["levels"]
    assert (row["on_hand"], row["reserved"], row["available"]) == (units, units, 0)


def test_concurrent_two_line_orders_reserve_all_or_nothing(hrt: Runtime) -> None:
    """Every order needs the scarce B; half also take A, of which there is plenty. Whatever
    the interleaving (on PostgreSQL an order may plan with B free and lose it to another at
    its UPDATE, after taking A), A stays reserved exactly for the orders that got B too."""
    from sqlalchemy import select

    from reclaim.adapters.db.tables import holds as holds_table

    store = make_store(hrt)
    with LiveServer(hrt) as server, httpx.Client(base_url=server.url, timeout=60) as c:
        setup_stock(
            c,
            store.api_key,
            [
                {"warehouse": "PAR", "sku": "A", "on_hand": 1000},
                {"warehouse": "PAR", "sku": "B", "on_hand": 30},
            ],
        )
        answers: dict[str, int] = {}
        lock = threading.Lock()
        start = threading.Barrier(20)

        def buyer(n: int) -> None:
            with httpx.Client(base_url=server.url, timeout=60) as mine:
                start.wait()
                for i in range(5):
                    order = f"o-{n}-{i}"
                    items = [{"sku": "B", "quantity": 1}]
                    if (n + i) % 2 == 0:
                        items.insert(0, {"sku": "A", "quantity": 2})
                    r = mine.post(
                        "/api/v1/holds",
                        json={"order_id": order, "items": items},
                        headers=auth(store.api_key),
                    )
                    with lock:
                        answers[order] = r.status_code

        threads = [threading.Thread(target=buyer, args=(n,)) for n in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        a, b = (stock(c, store.api_key, sku)["levels"][0] for sku in ("A", "B"))
    assert sorted(Counter(answers.values()).items()) == [(201, 30), (409, 70)]
    with hrt.engine.connect() as conn:
        rows = conn.execute(
            select(holds_table.c.order_external_id, holds_table.c.status, holds_table.c.lines)
        ).all()
    by_order = {r.order_external_id: r for r in rows}
    assert set(by_order) == set(answers)
    for order, code in answers.items():
        row = by_order[order]
        assert row.status == ("active" if code == 201 else "short"), order
        assert (row.lines == []) == (code == 409), order
    held_a = sum(int(line["quantity"]) for r in rows for line in r.lines if line["sku"] == "A")
    assert (b["reserved"], a["reserved"]) == (30, held_a)


def test_an_order_reserves_across_warehouses_and_follows_its_order(
    hrt: Runtime, clock: Clock
) -> None:
    store = make_store(hrt)
    c = client(hrt)
    setup_stock(
        c,
        store.api_key,
        [
            {"warehouse": "PAR", "sku": "MUG-1", "on_hand": 1},
            {"warehouse": "BER", "sku": "MUG-1", "on_hand": 5},
        ],
    )
    placed = order_event("order.created", T0, order_id="o1", status="pending")  # 2 × MUG-1
    assert post_events(c, store.api_key, placed).status_code == 202
    run_once(hrt, T0 + timedelta(minutes=1))
    levels = {r["warehouse"]: r for r in stock(c, store.api_key, "MUG-1")["levels"]}
    assert (levels["BER"]["reserved"], levels["PAR"]["reserved"]) == (2, 0)  # one warehouse
    # Paid: the two units are the order's now.
    paid = order_event("order.paid", T0 + timedelta(hours=2), order_id="o1")
    assert post_events(c, store.api_key, paid).status_code == 202
    run_once(hrt, T0 + timedelta(hours=2, minutes=1))
    levels = {r["warehouse"]: r for r in stock(c, store.api_key, "MUG-1")["levels"]}
    assert (levels["BER"]["on_hand"], levels["BER"]["reserved"]) == (3, 0)

    # A second order, cancelled: its units come back.
    placed = order_event("order.created", T0 + timedelta(hours=3), order_id="o2", status="pending")
    assert post_events(c, store.api_key, placed).status_code == 202
    run_once(hrt, T0 + timedelta(hours=3, minutes=1))
    assert stock(c, store.api_key, "MUG-1")["available"] == 2
    gone = order_event("order.cancelled", T0 + timedelta(hours=4), order_id="o2")
    assert post_events(c, store.api_key, gone).status_code == 202
    run_once(hrt, T0 + timedelta(hours=4, minutes=1))
    assert stock(c, store.api_key, "MUG-1")["available"] == 4


def test_one_sweep_releases_every_expired_hold_and_the_flow_cancels(
    hrt: Runtime, clock: Clock
) -> None:
    store = make_store(hrt, postal_address="Boutique, Paris")
    c = client(hrt)
    setup_stock(c, store.api_key, [{"warehouse": "PAR", "sku": "MUG-1", "on_hand": 100}])
    for i in range(30):
        placed = order_event(
            "order.created", T0, order_id=f"o{i}", email=f"b{i}@example.com", status="pending"
        )
        assert post_events(c, store.api_key, placed).status_code == 202
    run_once(hrt, T0 + timedelta(minutes=31))
    assert stock(c, store.api_key, "MUG-1")["available"] == 40
    # An operator gives order o0 two more days.
    r = c.post(
        "/api/v1/orders/o0/hold",
        json={"until": (T0 + timedelta(days=7)).isoformat()},
        headers=auth(store.api_key),
    )
    assert r.status_code == 200 and r.json()["expires_at"] == "2026-05-11T08:00:00Z"
    too_long = c.post(
        "/api/v1/orders/o1/hold",
        json={"until": (T0 + timedelta(days=8)).isoformat()},
        headers=auth(store.api_key),
    )
    assert too_long.status_code == 422 and too_long.json()["field"] == "until"

    stats = holds.sweep_holds(uow=hrt.uow(), now=T0 + timedelta(days=5))
    assert stats.expired == 29
    assert stock(c, store.api_key, "MUG-1")["available"] == 98  # only o0's two units held
    assert holds.sweep_holds(uow=hrt.uow(), now=T0 + timedelta(days=5)).expired == 0
    # The flows (no mail configured: their steps are skipped) close the cases at hold end:
    run_once(hrt, T0 + timedelta(days=5))
    r = c.get("/api/v1/cases", params={"status": "lost", "limit": 100}, headers=auth(store.api_key))
    assert len(r.json()["cases"]) == 29
    r = c.get("/api/v1/cases", params={"status": "open"}, headers=auth(store.api_key))
    [still] = r.json()["cases"]
    assert still["order_id"] == "o0" and still["next_step_at"] == "2026-05-11T08:00:00Z"
    run_once(hrt, T0 + timedelta(days=7))
    assert stock(c, store.api_key, "MUG-1")["available"] == 100


def test_bad_stock_input_names_the_field(hrt: Runtime) -> None:
    store = make_store(hrt)
    c = client(hrt)
    setup_stock(c, store.api_key, [{"warehouse": "PAR", "sku": "A", "on_hand": 1}])
    for body, field in [
        ({"levels": [{"warehouse": "XXX", "sku": "A", "on_hand": 1}]}, "levels[0].warehouse"),
        ({"levels": [{"warehouse": "PAR", "sku": "A"}]}, "levels[0]"),
        ({"levels": [{"warehouse": "PAR", "sku": "A", "delta": -5}]}, "levels[0].delta"),
    ]:
        r = c.post("/api/v1/stock", json=body, headers=auth(store.api_key))
        assert r.status_code == 422 and r.json()["field"] == field, r.text
    r = c.post(
        "/api/v1/stock",
        json={"levels": [{"warehouse": "PAR", "sku": "A", "on_hand": -1}]},
        headers=auth(store.api_key),
    )
    assert r.status_code == 422 and "on_hand" in r.text
    assert stock(c, store.api_key, "A")["available"] == 1  # nothing applied
    r = c.post("/api/v1/holds", json={"order_id": "x", "items": []}, headers=auth(store.api_key))
    assert r.status_code == 422


def test_a_sold_out_item_is_never_advertised(db_url: str) -> None:
    from helpers import checkout_event
    from reclaim.sim.mailbox import Mailbox

    with Mailbox() as box:
        rt = bootstrap(
            Settings(database_url=db_url, smtp_url=box.url, public_url="http://testserver"),
            clock=lambda: T0,
        )
        init_database(rt)
        store = make_store(rt, postal_address="Boutique, Paris")
        c = client(rt)
        setup_stock(c, store.api_key, [{"warehouse": "PAR", "sku": "MUG-1", "on_hand": 0}])
        cart = checkout_event(T0, timezone="Europe/Berlin", accepts_marketing=True)  # 2 × MUG-1
        assert post_events(c, store.api_key, cart).status_code == 202
        run_once(rt, T0 + timedelta(minutes=31))
        stats = run_once(rt, T0 + timedelta(hours=1))
        assert stats.steps.outcomes == {"out_of_stock": 1} and box.received == []
        # Stock arrives: the next step goes out.
        r = c.post(
            "/api/v1/stock",
            json={"levels": [{"warehouse": "PAR", "sku": "MUG-1", "delta": 5}]},
            headers=auth(store.api_key),
        )
        assert r.status_code == 200
        assert run_once(rt, T0 + timedelta(hours=24)).steps.sent == 1
        assert len(box.received) == 1
        rt.close()


def hold_an_order(c: TestClient, key: str) -> None:
    """Five mugs in stock, and a pending order o-1 (at T0) holding some."""
    setup_stock(c, key, [{"warehouse": "PAR", "sku": "MUG-1", "on_hand": 5}])
    placed = order_event("order.created", T0, order_id="o-1", status="pending")
    assert post_events(c, key, placed).status_code == 202


def test_the_platform_is_told_to_cancel_an_expired_order(db_url: str) -> None:
    from sqlalchemy import select

    from reclaim.adapters.channels.webhook import verify_webhook_signature
    from reclaim.adapters.db.tables import platform_actions
    from unit.channels.channel_servers import HttpServer, Reply

    shopify, site = HttpServer(), HttpServer()
    try:
        rt = bootstrap(Settings(database_url=db_url), clock=lambda: T0)
        init_database(rt)
        shop = make_store(
            rt,
            name="Shop",
            platform="shopify",
            platform_api_url=shopify.url,
            platform_api_token="shpat_test",
        )
        custom = make_store(
            rt,
            name="Site",
            platform="custom",
            webhook_url=site.url + "/hooks",
            webhook_signing_secret="site-secret-1",
        )
        bare = make_store(rt, name="Bare", platform="woocommerce")  # no API access set
        for store in (shop, custom, bare):
            hold_an_order(client(rt), store.api_key)
        run_once(rt, T0 + timedelta(minutes=1))
        shopify.replies.append(Reply(status=503))  # Shopify is down at first: retried
        at = T0 + timedelta(days=5)
        stats = run_once(rt, at).platform
        assert (stats.done, stats.retrying, stats.skipped) == (1, 1, 1)
        [hook] = site.requests
        assert hook.path == "/hooks"
        assert verify_webhook_signature(
            hook.headers["x-reclaim-signature"], hook.body, "site-secret-1", now=at
        )
        assert b'"type":"order.cancel"' in hook.body and b'"order_id":"o-1"' in hook.body
        assert run_once(rt, at + timedelta(minutes=20)).platform.done == 0  # not yet due
        assert run_once(rt, at + timedelta(minutes=40)).platform.done == 1
        [down, second] = shopify.requests
        assert down.path == second.path  # the same call, retried
        assert second.path == "/admin/api/2024-10/orders/o-1/cancel.json"
        assert second.headers["x-shopify-access-token"] == "shpat_test"
        with rt.engine.connect() as conn:
            rows = conn.execute(
                select(
                    platform_actions.c.store_id, platform_actions.c.status, platform_actions.c.error
                )
            ).all()
        by_store = {r.store_id: (r.status, r.error) for r in rows}
        assert by_store[shop.id] == ("done", None)
        assert by_store[custom.id] == ("done", None)
        assert by_store[bare.id][0] == "skipped" and "platform API access" in by_store[bare.id][1]
        rt.close()
    finally:
        shopify.close()
        site.close()


def test_a_platform_refusing_the_access_alerts_the_operators(db_url: str) -> None:
    from unit.channels.channel_servers import HttpServer, Reply

    shopify = HttpServer()
    try:
        rt = bootstrap(Settings(database_url=db_url), clock=lambda: T0)
        init_database(rt)
        shop = make_store(
            rt, platform="shopify", platform_api_url=shopify.url, platform_api_token="shpat_no"
        )
        c = client(rt)
        hold_an_order(c, shop.api_key)
        run_once(rt, T0 + timedelta(minutes=1))
        shopify.replies.append(Reply.json(403, {"errors": "missing write_orders"}))
        stats = run_once(rt, T0 + timedelta(days=5)).platform
        assert (stats.done, stats.failed) == (0, 1)
        [alert] = c.get("/api/v1/alerts", headers=auth(shop.api_key)).json()["alerts"]
        assert alert["type"] == "platform_access"
        assert alert["data"] == {"platform": "shopify", "code": 403, "what": "cancel an order"}
        rt.close()
    finally:
        shopify.close()


def test_an_order_paid_after_its_hold_ended_is_never_cancelled(db_url: str) -> None:
    from unit.channels.channel_servers import HttpServer

    shopify = HttpServer()
    try:
        rt = bootstrap(Settings(database_url=db_url), clock=lambda: T0)
        init_database(rt)
        shop = make_store(
            rt, platform="shopify", platform_api_url=shopify.url, platform_api_token="shpat_t"
        )
        c = client(rt)
        hold_an_order(c, shop.api_key)
        run_once(rt, T0 + timedelta(minutes=1))
        end = T0 + timedelta(days=5)
        assert holds.sweep_holds(uow=rt.uow(), now=end).expired == 1  # the cancel is queued
        paid = order_event("order.paid", end + timedelta(seconds=30), order_id="o-1")
        assert post_events(c, shop.api_key, paid).status_code == 202  # the customer paid
        stats = run_once(rt, end + timedelta(minutes=1)).platform
        assert (stats.done, stats.skipped) == (0, 1) and shopify.requests == []
        with rt.uow() as uow:
            [state] = uow.platform_actions.for_order(shop.id, "o-1")
        assert (state.status, state.error) == ("skipped", "the order was paid meanwhile")
        rt.close()
    finally:
        shopify.close()
