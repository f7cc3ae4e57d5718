"""An item out of stock everywhere is never advertised (SPEC S7), end to end on SQLite and
the real PostgreSQL: stock and catalogue in, the real worker, real MIME received by a real
SMTP server (aiosmtpd), the alternative's tracked link followed back through the API.

- ``sold_out: alternative`` (the default): the email shows the sold-out item as sold out (no
  link, no price) and offers the nearest-priced in-stock product of its category;
- ``sold_out: skip``: no email, the step's outcome is ``out_of_stock``;
- no comparable product in stock: skipped the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi.testclient import TestClient

from helpers import checkout_event, client, make_store, post_events
from reclaim.adapters.flows import default_flow
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.domain.alternatives import Product, SoldOutPolicy
from reclaim.domain.flows import flow_to_data
from reclaim.entrypoints.worker import run_once
from reclaim.services.flows import set_flow
from reclaim.sim.mailbox import Faults, Mailbox

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin
PUBLIC = "http://testserver"
CART = [
    {
        "sku": "LAMP-1",
        "name": "Messinglampe",
        "quantity": 1,
        "price": "120.00",
        "image_url": "https://cdn.shop.example/lamp-1.jpg",
        "url": "https://shop.example/products/lamp-1",
    },
    {"sku": "BULB-1", "name": "Glühbirne", "quantity": 2, "price": "4.50"},
]


def lamp(sku: str, name: str, price: str, **kw: object) -> Product:
    fields: dict[str, object] = {
        "name": name,
        "category": "lamps",
        "price": Decimal(price),
        "currency": "EUR",
        "url": f"https://shop.example/products/{sku.lower()}",
        "image_url": f"https://cdn.shop.example/{sku.lower()}.jpg",
    }
    return Product(sku=sku, **(fields | kw))  # type: ignore[arg-type]


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with Mailbox() as b:
        yield b


@pytest.fixture
def srt(db_url: str, box: Mailbox) -> Iterator[Runtime]:
    rt = bootstrap(
        Settings(database_url=db_url, smtp_url=box.url, public_url=PUBLIC), clock=lambda: T0
    )
    init_database(rt)
    yield rt
    rt.close()


def stocked_store(rt: Runtime, catalogue: list[Product], levels: dict[str, int]) -> tuple[str, str]:
    store = make_store(rt, postal_address="Boutique GmbH, Hauptstraße 1, 10115 Berlin")
    c = client(rt)
    auth = {"Authorization": f"Bearer {store.api_key}"}
    r = c.post(
        "/api/v1/warehouses",
        json={"warehouses": [{"code": "BER", "country": "DE", "timezone": "Europe/Berlin"}]},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    body = {"levels": [{"warehouse": "BER", "sku": s, "on_hand": n} for s, n in levels.items()]}
    r = c.post("/api/v1/stock", json=body, headers=auth)
    assert r.status_code == 200, r.text
    r = c.post("/api/v1/products", json={"products": [as_json(p) for p in catalogue]}, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"catalogue": len(catalogue), "weights": 0}
    return store.id, store.api_key


def as_json(product: Product) -> dict[str, object]:
    out: dict[str, object] = {k: v for k, v in asdict(product).items() if v is not None}
    if product.price is not None:
        out["price"] = str(product.price)
    return out


def abandon_cart(c: TestClient, key: str) -> None:
    cart = checkout_event(
        T0,
        checkout_id="c-lamp",
        email="ana@example.de",
        first_name="Anna",
        locale="de-DE",
        timezone="Europe/Berlin",
        total="129.00",
        items=CART,
        accepts_marketing=True,
    )
    assert post_events(c, key, cart).status_code == 202


def body(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None
    return part.get_content()


def steps_of(c: TestClient, key: str) -> list[tuple[str, str, str | None]]:
    auth = {"Authorization": f"Bearer {key}"}
    [case] = c.get("/api/v1/cases", headers=auth).json()["cases"]
    detail = c.get(f"/api/v1/cases/{case['id']}", headers=auth).json()
    return [(s["step"], s["status"], s["outcome"]) for s in detail["steps"]]


CATALOGUE = [
    lamp("LAMP-1", "Messinglampe", "120.00"),  # the sold-out one
    lamp("LAMP-2", "Kupferlampe", "115.00"),  # in stock, 5.00 away: the pick
    lamp("LAMP-3", "Stehlampe", "121.00"),  # nearer still, but sold out as well
    lamp("LAMP-4", "Tischlampe", "180.00", url="https://elsewhere.example/p/4"),
    lamp("CHAIR-1", "Stuhl", "119.00", category="chairs"),  # in stock, not comparable
    lamp("BULB-1", "Glühbirne", "4.50", category="lamps"),  # in the cart: never offered
]
LEVELS = {"LAMP-1": 0, "LAMP-2": 3, "LAMP-3": 0, "LAMP-4": 1, "CHAIR-1": 9, "BULB-1": 40}


def test_the_email_offers_the_in_stock_alternative_not_the_sold_out_item(
    srt: Runtime, box: Mailbox
) -> None:
    _, key = stocked_store(srt, CATALOGUE, LEVELS)
    c = client(srt)
    abandon_cart(c, key)
    run_once(srt, T0 + timedelta(minutes=31))
    stats = run_once(srt, T0 + timedelta(hours=1))
    assert stats.steps.sent == 1
    [got] = box.take()
    msg = got.parsed()
    text, html = body(msg, "plain"), body(msg, "html")
    lines = text.splitlines()
    # The sold-out lamp is shown as sold out: no price, no link, and no total to pay for it.
    assert "- Messinglampe × 1: Ausverkauft" in lines
    assert "- Glühbirne × 2: 9,00\u00a0€" in lines  # the in-stock item stays as it was
    assert "Gesamtsumme" not in text and "120,00" not in text
    assert "shop.example/products/lamp-1" not in html
    assert "<strong>Messinglampe</strong>" in html
    # The alternatives: nearest in price first, in German and in euros; never a sold-out
    # product, one of another category, or one already in the cart.
    start = lines.index("Gerade ausverkauft, aber diese ähnlichen Artikel sind vorrätig:")
    offered = []
    for line in lines[start + 1 :]:
        if not line.startswith("- "):
            break
        offered.append(line)
    assert [line.split(" http")[0] for line in offered] == [
        "- Kupferlampe: 115,00\u00a0€",
        "- Tischlampe: 180,00\u00a0€",  # its page is on another domain: shown without a link
    ]
    assert f" {PUBLIC}/t/c/" in offered[0] and "http" not in offered[1]
    for absent in ("Stehlampe", "Stuhl"):
        assert absent not in text and absent not in html
    assert "https://cdn.shop.example/lamp-2.jpg" in html
    assert "elsewhere.example" not in html
    # The alternative's link is a tracked click that lands on its product page.
    link = offered[0].split(" ")[-1]
    r = c.get(link.removeprefix(PUBLIC), follow_redirects=False)
    assert r.status_code == 302
    target = urlsplit(r.headers["location"])
    assert (target.netloc, target.path) == ("shop.example", "/products/lamp-2")
    assert steps_of(c, key)[0] == ("reminder", "sent", "sent")


def test_skip_sends_nothing(srt: Runtime, box: Mailbox) -> None:
    store_id, key = stocked_store(srt, CATALOGUE, LEVELS)
    flow = replace(default_flow("abandoned_checkout"), holdout=0.0, sold_out=SoldOutPolicy.SKIP)
    source = yaml.safe_dump(flow_to_data(flow), sort_keys=False)
    assert "sold_out: skip" in source
    set_flow(uow=srt.uow(), store_id=store_id, source=source, flow=flow, now=T0)
    c = client(srt)
    abandon_cart(c, key)
    run_once(srt, T0 + timedelta(minutes=31))
    stats = run_once(srt, T0 + timedelta(hours=1))
    assert stats.steps.outcomes == {"out_of_stock": 1}
    assert box.received == []
    assert steps_of(c, key)[0] == ("reminder", "skipped", "out_of_stock")


def test_no_comparable_product_in_stock_is_skipped(srt: Runtime, box: Mailbox) -> None:
    levels = LEVELS | {"LAMP-2": 0, "LAMP-4": 0}  # the other lamps sold out too
    _, key = stocked_store(srt, CATALOGUE, levels)
    c = client(srt)
    abandon_cart(c, key)
    run_once(srt, T0 + timedelta(minutes=31))
    stats = run_once(srt, T0 + timedelta(hours=1))
    assert stats.steps.outcomes == {"out_of_stock": 1}
    assert box.received == []
    assert steps_of(c, key)[0] == ("reminder", "skipped", "out_of_stock")


def test_a_retry_whose_offer_sold_out_meanwhile_is_skipped(srt: Runtime, box: Mailbox) -> None:
    """The first attempt meets a busy relay (451) and is deferred; before the retry the
    alternative it offered sells out too: the retry sends nothing and the step is skipped,
    its message cancelled."""
    _, key = stocked_store(srt, CATALOGUE, LEVELS)
    c = client(srt)
    abandon_cart(c, key)
    run_once(srt, T0 + timedelta(minutes=31))
    box.faults = Faults(transient=1.0)
    first = run_once(srt, T0 + timedelta(hours=1))
    assert first.steps.deferred == 1 and box.received == []
    box.faults = None
    auth = {"Authorization": f"Bearer {key}"}
    sold = {"levels": [{"warehouse": "BER", "sku": s, "on_hand": 0} for s in ("LAMP-2", "LAMP-4")]}
    assert c.post("/api/v1/stock", json=sold, headers=auth).status_code == 200
    retry = run_once(srt, T0 + timedelta(hours=5))
    assert retry.steps.outcomes == {"out_of_stock": 1}
    assert box.received == []
    assert steps_of(c, key)[0] == ("reminder", "skipped", "out_of_stock")
    with srt.uow() as uow:
        [case] = c.get("/api/v1/cases", headers=auth).json()["cases"]
        [message] = uow.messages.for_case(case["id"])
        assert (message.status, message.attempts) == ("cancelled", 1)


def test_the_products_api_sets_catalogue_and_weights_and_names_what_is_wrong(
    srt: Runtime,
) -> None:
    store = make_store(srt, postal_address="Boutique GmbH, Hauptstraße 1, 10115 Berlin")
    c = client(srt)
    auth = {"Authorization": f"Bearer {store.api_key}"}
    good = {
        "products": [
            {"sku": "LAMP-9", "name": "Leselampe", "category": "lamps", "price": "59.90"},
            {"sku": "CRATE-1", "weight_kg": "12.5"},
            {
                "sku": "LAMP-8",
                "name": "Wandlampe",
                "price": "10",
                "currency": "chf",
                "weight_kg": 2,
            },
        ]
    }
    r = c.post("/api/v1/products", json=good, headers=auth)
    assert r.status_code == 200, r.text
    assert r.json() == {"catalogue": 2, "weights": 2}
    with srt.uow() as uow:
        got = uow.stock.products(store.id, ["LAMP-9", "LAMP-8", "CRATE-1"])
        weights = uow.stock.weights(store.id, ["CRATE-1", "LAMP-8", "LAMP-9"])
    assert (got["LAMP-9"].price, got["LAMP-9"].currency) == (Decimal("59.90"), "EUR")  # the store's
    assert (got["LAMP-8"].currency, got["LAMP-8"].category) == ("CHF", None)
    assert (got["CRATE-1"].name, got["CRATE-1"].price) == (None, None)  # a weight alone
    assert weights == {"CRATE-1": Decimal("12.5"), "LAMP-8": Decimal("2")}

    bad_url = {
        "products": [{"sku": "X-1", "name": "X", "weight_kg": 1}, {"sku": "X-2", "url": "ftp://x"}]
    }
    r = c.post("/api/v1/products", json=bad_url, headers=auth)
    assert r.status_code == 422 and r.json()["field"] == "products[1].url", r.text
    bad_weight = {"products": [{"sku": "X-3", "weight_kg": "0"}]}
    r = c.post("/api/v1/products", json=bad_weight, headers=auth)
    assert r.status_code == 422 and "weight_kg" in r.text
    with srt.uow() as uow:  # all or none: the good first entry of the refused batch is not kept
        assert uow.stock.products(store.id, ["X-1", "X-2", "X-3"]) == {}
        assert uow.stock.weights(store.id, ["X-1"]) == {}  # nor the good entry's weight
    assert c.post("/api/v1/products", json=good).status_code == 401
