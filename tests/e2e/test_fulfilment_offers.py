"""Fulfilment-aware offers (SPEC S8) end to end: warehouses, lanes, stock and weights loaded
with the CLI's readers, options over the API, and a recovery email that says, with the
numbers, that the cart now ships faster and for less."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from helpers import checkout_event, client, make_store, post_events
from reclaim.adapters.logistics_files import parse_lanes_csv
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.entrypoints.worker import run_once
from reclaim.services import fulfilment
from reclaim.sim.mailbox import Mailbox

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)  # Monday, 10:00 in Paris
PUBLIC = "http://testserver"
LANES = """origin,destination_country,carrier,service,transit_min,transit_max,cost_bands,currency,co2_per_kg
PAR,DE,DHL,road,3,5,1:4.90;5:7.90,EUR,0.20
SZX,DE,SF,air,8,14,1:6.90;5:12.90,EUR,1.10
"""


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with Mailbox() as b:
        yield b


@pytest.fixture
def frt(db_url: str, box: Mailbox) -> Iterator[Runtime]:
    rt = bootstrap(
        Settings(database_url=db_url, smtp_url=box.url, public_url=PUBLIC), clock=lambda: T0
    )
    init_database(rt)
    yield rt
    rt.close()


def setup(rt: Runtime, tmp_path: Path, *, paris_units: int) -> tuple[str, str]:
    store = make_store(rt, postal_address="Boutique, Paris")
    c = client(rt)
    auth = {"Authorization": f"Bearer {store.api_key}"}
    r = c.post(
        "/api/v1/warehouses",
        json={
            "warehouses": [
                {"code": "PAR", "country": "FR", "timezone": "Europe/Paris", "cutoff": "14:00"},
                {"code": "SZX", "country": "CN", "timezone": "Asia/Shanghai", "cutoff": "16:00"},
            ]
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    lanes = parse_lanes_csv(LANES, name="lanes.csv")
    fulfilment.import_lanes(uow=rt.uow(), store_id=store.id, lanes=lanes, now=T0)
    fulfilment.import_weights(
        uow=rt.uow(), store_id=store.id, weights=[("MUG-1", Decimal("0.4"))], now=T0
    )
    r = c.post(
        "/api/v1/stock",
        json={
            "levels": [
                {"warehouse": "PAR", "sku": "MUG-1", "on_hand": paris_units},
                {"warehouse": "SZX", "sku": "MUG-1", "on_hand": 50},
            ]
        },
        headers=auth,
    )
    assert r.status_code == 200, r.text
    return store.id, store.api_key


def test_options_over_the_api(frt: Runtime, tmp_path: Path) -> None:
    _, key = setup(frt, tmp_path, paris_units=5)
    c = client(frt)
    r = c.get(
        "/api/v1/fulfilment-options",
        params={"country": "de", "item": ["MUG-1:2"]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["unavailable"] == []
    by_origin = {o["origin_country"]: o for o in got["options"]}
    paris, shenzhen = by_origin["FR"], by_origin["CN"]
    assert (paris["cost"], paris["days_min"], paris["days_max"]) == ("4.90", 3, 5)  # 0.8 kg
    # 16:00 in Shenzhen is its cut-off, not before it: it ships Tuesday, a day more.
    assert (shenzhen["cost"], shenzhen["days_min"], shenzhen["days_max"]) == ("6.90", 9, 15)
    assert set(paris["labels"]) >= {"fastest", "cheapest", "greenest", "nearest"}
    assert paris["ship_on"] == "2026-05-04"  # before the 14:00 cut-off in Paris
    assert paris["delivery_latest"] == "2026-05-11"  # 5 business days after Monday
    bad = c.get(
        "/api/v1/fulfilment-options",
        params={"country": "DE", "item": ["MUG-1"]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "item[0]"


def test_help_email_says_it_now_ships_faster_and_cheaper(
    frt: Runtime, box: Mailbox, tmp_path: Path
) -> None:
    _, key = setup(frt, tmp_path, paris_units=5)
    c = client(frt)
    # At checkout the customer was shown the China lane: 14 days, €6.90.
    cart = checkout_event(
        T0,
        locale="en-GB",
        country="DE",
        timezone="Europe/Berlin",
        accepts_marketing=True,
        shipping_quote="6.90",
        shipping_days=14,
    )
    assert post_events(c, key, cart).status_code == 202
    run_once(frt, T0 + timedelta(minutes=31))
    run_once(frt, T0 + timedelta(hours=1))
    run_once(frt, T0 + timedelta(hours=24))
    _, second = box.take()
    help_text = second.parsed().get_body(preferencelist=("plain",)).get_content()
    assert "France" in help_text and "3–5" in help_text and "€2.00" in help_text, help_text


def test_no_better_offer_no_promise(frt: Runtime, box: Mailbox, tmp_path: Path) -> None:
    _, key = setup(frt, tmp_path, paris_units=0)  # only China has stock: nothing better
    c = client(frt)
    cart = checkout_event(
        T0,
        locale="en-GB",
        country="DE",
        timezone="Europe/Berlin",
        accepts_marketing=True,
        shipping_quote="6.90",
        shipping_days=14,
    )
    assert post_events(c, key, cart).status_code == 202
    run_once(frt, T0 + timedelta(minutes=31))
    run_once(frt, T0 + timedelta(hours=1))
    run_once(frt, T0 + timedelta(hours=24))
    _, second = box.take()
    help_text = second.parsed().get_body(preferencelist=("plain",)).get_content()
    assert "France" not in help_text


def test_a_slipping_lane_pushes_its_promise_back(frt: Runtime, tmp_path: Path) -> None:
    from helpers import event, order_event

    _, key = setup(frt, tmp_path, paris_units=100)
    c = client(frt)
    # Since the store was connected (2026-05-03 08:00): 20 parcels from Paris (their holds
    # say so) promised for 3 May; 5 arrive a day late, on the 4th.
    promised = datetime(2026, 5, 3, 12, 0, tzinfo=UTC).isoformat()
    mug = [{"sku": "MUG-1", "name": "Mug", "quantity": 1, "price": "10.00"}]
    events = []
    for n in range(20):
        placed = datetime(2026, 5, 3, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
        delivered = datetime(2026, 5, 4 if n < 5 else 3, 7 if n < 5 else 15, 0, tzinfo=UTC)
        ship = {"shipment_id": f"s{n}", "order_id": f"o{n}", "carrier": "DHL"}
        events += [
            order_event("order.created", placed, order_id=f"o{n}", status="pending", items=mug,
                        total="10.00"),
            order_event("order.paid", placed + timedelta(minutes=5), order_id=f"o{n}",
                        status="paid", items=mug, total="10.00"),
            event("shipment.updated", placed + timedelta(hours=1), status="in_transit",
                  estimated_delivery_at=promised, **ship),
            event("shipment.updated", delivered, status="delivered", **ship),
        ]  # fmt: skip
    # Now an unpaid order held in Paris, and a parcel still on its way.
    events += [
        order_event("order.created", T0 - timedelta(hours=1), order_id="o-new", status="pending",
                    items=mug, total="10.00", email="late@example.com"),
        event("shipment.updated", T0 - timedelta(hours=2), status="in_transit",
              shipment_id="s-x", order_id="o0", carrier="DHL"),
    ]  # fmt: skip
    assert post_events(c, key, events).status_code == 202
    run_once(frt, T0)
    auth = {"Authorization": f"Bearer {key}"}
    [pending] = c.get("/api/v1/cases", params={"kind": "pending_order"}, headers=auth).json()[
        "cases"
    ]
    timeline = c.get(f"/api/v1/cases/{pending['id']}", headers=auth).json()["timeline"]
    [warning] = [e for e in timeline if e["type"] == "lane_slipping"]
    assert warning["data"] == {
        "origin": "PAR",
        "destination": "DE",
        "late_share": 0.25,
        "delay_days": 1,
    }
    run_once(frt, T0 + timedelta(minutes=1))  # warned once, not at every sweep
    timeline = c.get(f"/api/v1/cases/{pending['id']}", headers=auth).json()["timeline"]
    assert [e["type"] for e in timeline].count("lane_slipping") == 1
    lanes = c.get("/api/v1/logistics/lanes", headers={"Authorization": f"Bearer {key}"}).json()
    assert [(x["origin"], x["late"], x["slipping"], x["delay_days"]) for x in lanes["lanes"]] == [
        ("PAR", 5, True, 1)
    ]
    r = c.get(
        "/api/v1/fulfilment-options",
        params={"country": "DE", "item": ["MUG-1:2"]},
        headers={"Authorization": f"Bearer {key}"},
    )
    paris = next(o for o in r.json()["options"] if o["origin_country"] == "FR")
    assert (paris["days_min"], paris["days_max"]) == (4, 6)  # 3–5 business days, +1
