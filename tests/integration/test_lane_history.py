"""The lanes' history read in batches (services/lane_history.py), on SQLite, PostgreSQL and the
fakes: the batch reads (``delivered_parcels``, ``orders_many``, ``holds_for``, ``scans_for``)
answer as the one-at-a-time reads do, the delay index and the stall norms come out as the
per-shipment reading made them, and the number of queries grows with the chunks of scans, never
with the shipments."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from fakes import FakeUnitOfWork
from reclaim.bootstrap import Runtime
from reclaim.domain.events import Contact, LineItem
from reclaim.domain.facts import Order
from reclaim.domain.holds import Hold, HoldLine
from reclaim.domain.logistics import DelayIndex, Delivered, Timeline
from reclaim.domain.shipments import Shipment
from reclaim.domain.stores import Store
from reclaim.services import lane_history
from reclaim.services.ports import UnitOfWork
from service_builders import open_store

STORE, OTHER = "st_lanehist0001", "st_lanehist0002"
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
N = 62  # shipments of the store, one an order; the last two delivered at and after NOW
H = timedelta(hours=1)
D = timedelta(days=1)
ZONES = ("Europe/Berlin", "America/New_York", "Nowhere/Atlantis", None)  # a bad zone, none


def _order(store_id: str, i: int, shift: int) -> Order:
    zone = ZONES[(i + shift) % 4]
    return Order(
        store_id=store_id,
        external_id=f"o{i}",
        customer_key=None,
        email=None,
        phone=None,
        contact=Contact(country=("DE", "US", "FR")[(i + shift) % 3], timezone=zone),
        currency="EUR",
        total=Decimal("10.00"),
        items=(LineItem("Mug", 1, Decimal("10.00"), sku="MUG"),),
        created_at=NOW - timedelta(days=100),
        updated_at=NOW - timedelta(days=100),
        version_tag="v1",
        financial_status="paid",
    )


def _seed(uow: UnitOfWork) -> None:
    """N shipments delivered over the last 100 days (every 7th without a promise, the last
    one after ``NOW``), holds from one or two warehouses on two orders of three, scans at uneven gaps;
    the other store has the same ids with other data."""
    open_store(uow, "Boutique", store_id=STORE)
    open_store(uow, "Other shop", store_id=OTHER)
    with uow:
        for store_id, shift in ((STORE, 0), (OTHER, 5)):
            for i in range(N if store_id == STORE else 10):
                delivered = NOW - timedelta(days=100) + timedelta(hours=40 * i + shift)
                uow.facts.add(_order(store_id, i, shift))
                uow.facts.add(
                    Shipment(
                        store_id=store_id,
                        external_id=f"s{i}",
                        order_external_id=f"o{i}",
                        status="delivered",
                        first_event_at=delivered - 90 * H,
                        last_event_at=delivered,
                        version_tag="v1",
                        estimated_delivery_at=None if i % 7 == 0 else delivered - (i % 5) * 20 * H,
                        delivered_at=delivered,
                    )
                )
                if i % 3 != 2:
                    lines: list[dict[str, object]] = [
                        {"warehouse": f"W{i % 2 + shift}", "sku": "MUG", "quantity": 1 + i % 3},
                        {"warehouse": "W9", "sku": "CUP", "quantity": 2},
                    ]
                    uow.stock.add_hold(
                        Hold(store_id, f"o{i}", "active", NOW - timedelta(days=100), NOW, lines)
                    )
                for k, status in enumerate(("label_created", "in_transit", "in_transit")):
                    uow.logistics.add_scan(
                        store_id,
                        f"s{i}",
                        status=status,
                        location=f"hub {k}" if k else None,
                        occurred_at=delivered - (90 - k * (10 + i % 13 + shift)) * H,
                    )
                uow.logistics.add_scan(
                    store_id, f"s{i}", status="delivered", location=None, occurred_at=delivered
                )
        lost = NOW - timedelta(minutes=1)  # a parcel of an order never seen (no promise)
        uow.facts.add(
            Shipment(
                STORE, "s_lost", "o_gone", "delivered", lost - 50 * H, lost, "v1", delivered_at=lost
            )
        )
        uow.logistics.add_scan(
            STORE, "s_lost", status="in_transit", location=None, occurred_at=lost - 50 * H
        )
        uow.logistics.add_scan(STORE, "s_lost", status="delivered", location=None, occurred_at=lost)
        uow.commit()


def _batch_reads(uow: UnitOfWork) -> dict[str, Any]:
    wanted = ["o0", "o1", "o2", "o3", "o59", "o404"]
    ships = ["s0", "s1", "s2", "s59", "s404"]
    with uow:
        orders = uow.facts.orders_many(STORE, wanted)
        holds = uow.stock.holds_for(STORE, wanted)
        scans = uow.logistics.scans_for(STORE, ships)
        since = NOW - timedelta(days=40)
        parcels = uow.logistics.delivered_parcels(STORE, since=since, promised_only=False)
        promised = uow.logistics.delivered_parcels(STORE, since=since, promised_only=True)
        shipped = uow.logistics.delivered_shipments(STORE, since=since)
        joined = [
            (
                s.external_id,
                s.order_external_id,
                s.delivered_at,
                s.estimated_delivery_at,
                o.contact
                if (o := uow.facts.order(STORE, s.order_external_id, lock=False))
                else None,
                tuple(h.hold_lines()) if (h := uow.stock.hold(STORE, s.order_external_id)) else (),
            )
            for s in shipped
        ]
        one_by_one = {
            "holds": {i: uow.stock.hold(STORE, i) for i in wanted},
            "scans": {s: list(uow.logistics.scans(STORE, s)) for s in ships},
        }
        return {
            "orders": {k: (o.store_id, o.contact.country) for k, o in orders.items()},
            "holds": {k: (h.store_id, h.status, h.lines) for k, h in holds.items()},
            "scans": scans,
            "empty": (uow.stock.holds_for(STORE, []), uow.logistics.scans_for(STORE, [])),
            "parcels": [tuple(getattr(p, f.name) for f in fields(p)) for p in parcels],
            "promised": [p.external_id for p in promised],
            "joined": joined,
            "one_by_one": {
                "holds": {
                    k: (h.store_id, h.status, h.lines)
                    for k, h in one_by_one["holds"].items()
                    if h is not None
                },
                "scans": {k: v for k, v in one_by_one["scans"].items() if v},
            },
        }


def _uows(rt: Runtime) -> list[UnitOfWork]:
    return [rt.uow(), FakeUnitOfWork(row_locks=rt.uow().row_locks)]


def test_batch_reads_answer_as_the_single_reads_on_sql_and_fakes(rt: Runtime) -> None:
    answers = []
    for uow in _uows(rt):
        _seed(uow)
        answers.append(_batch_reads(uow))
    on_sql, on_fakes = answers

    assert on_fakes == on_sql
    assert on_sql["one_by_one"] == {"holds": on_sql["holds"], "scans": on_sql["scans"]}
    countries = {"o0": "DE", "o1": "US", "o2": "FR", "o3": "DE", "o59": "FR"}
    assert on_sql["orders"] == {o: (STORE, c) for o, c in countries.items()}
    assert sorted(on_sql["holds"]) == ["o0", "o1", "o3"]  # o2, o59: no hold; o404: no order
    assert on_sql["holds"]["o1"][2][0] == {"warehouse": "W1", "sku": "MUG", "quantity": 2}
    assert sorted(on_sql["scans"]) == ["s0", "s1", "s2", "s59"]
    first = on_sql["scans"]["s1"]
    assert [s.status for s in first] == ["label_created", "in_transit", "in_transit", "delivered"]
    assert [s.location for s in first] == [None, "hub 1", "hub 2", None]
    assert [s.at for s in first] == sorted(s.at for s in first)
    assert on_sql["empty"] == ({}, {})
    assert on_sql["parcels"] == on_sql["joined"]  # the join reads what the single reads read
    assert len(on_sql["parcels"]) == 27  # delivered in the last 40 days: s36 … s61, s_lost
    assert on_sql["parcels"][0][:2] == ("s36", "o36")
    assert on_sql["parcels"][0][5] == (HoldLine("W0", "MUG", 1), HoldLine("W9", "CUP", 2))
    assert on_sql["parcels"][0][4].country == "DE"
    assert on_sql["parcels"][2][5] == ()  # o38: no hold
    lost = next(p for p in on_sql["parcels"] if p[0] == "s_lost")
    assert lost[1:] == ("o_gone", NOW - timedelta(minutes=1), None, None, ())  # no order, hold
    assert on_sql["promised"] == [p[0] for p in on_sql["parcels"] if p[3] is not None]
    assert len(on_sql["promised"]) < len(on_sql["parcels"])


def _store(uow: UnitOfWork) -> Store:
    store = uow.stores.get(STORE)
    assert store is not None
    return store


def _one_at_a_time(uow: UnitOfWork, store: Store) -> lane_history.History:
    """The history as it was read before the batches: three reads a shipment."""
    silences: dict[lane_history.Lane, list[float]] = defaultdict(list)
    delivered: list[Delivered[lane_history.Lane]] = []
    for s in uow.logistics.delivered_shipments(STORE, since=NOW - lane_history.NORM_WINDOW):
        at = s.delivered_at
        if at is None or at > NOW:
            continue
        order = uow.facts.order(STORE, s.order_external_id, lock=False)
        lane = lane_history.lane_of(uow, STORE, order, s.order_external_id)
        zone = lane_history.zone_of(order, store)
        timeline = Timeline(tuple(uow.logistics.scans(STORE, s.external_id)), zone)
        scans = [x.at for x in timeline.scans if x.at <= at]
        if len(scans) > 1:
            silences[lane].append(max((b - a).total_seconds() / 3600 for a, b in pairwise(scans)))
        if s.estimated_delivery_at is not None:
            promised = s.estimated_delivery_at.astimezone(ZoneInfo(zone)).date()
            delivered.append(
                Delivered.of(lane=lane, delivered_at=at, promise_latest=promised, timezone=zone)
            )
    return lane_history.History(dict(silences), delivered)


@contextmanager
def _statements(rt: Runtime | None) -> Iterator[list[str]]:
    seen: list[str] = []
    if rt is None:
        yield seen
        return

    def keep(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(rt.engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(rt.engine, "before_cursor_execute", keep)


@pytest.mark.parametrize("chunk", [500, 7])
def test_the_figures_are_the_per_shipment_ones_in_a_bounded_number_of_queries(
    rt: Runtime, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lane_history, "CHUNK", chunk)
    for uow, sql in zip(_uows(rt), (rt, None), strict=True):
        _seed(uow)
        with uow:
            store = _store(uow)
            expected = _one_at_a_time(uow, store)
            with _statements(sql) as index_reads:
                index = lane_history.delay_index(uow, store, now=NOW)
            with _statements(sql) as history_reads:
                past = lane_history.history(uow, store, now=NOW)
            lanes = lane_history.lanes_for(uow, STORE, ["o0", "o1", "o2", "o404"])
        assert dict(past.silences) == expected.silences
        assert past.delivered == expected.delivered
        assert dict(index) == dict(DelayIndex(expected.delivered, now=NOW))
        assert {lane_history.norm_of(past, lane) for lane in expected.silences} != {72.0}
        assert len(index) >= 3 and sum(s.late for s in index.values()) > 0
        # o0: 2 units from W9 over 1 from W0; o1: 2 and 2, the first name; o2: no hold
        assert lanes == {
            "o0": ("W9", "DE"),
            "o1": ("W1", "US"),
            "o2": (None, "FR"),
            "o404": (None, None),
        }
        if sql is None:
            continue
        # the index: one query (shipments with their orders and holds), no scan
        assert len(index_reads) == 1
        assert "shipment_scans" not in index_reads[0]
        after = [timedelta(hours=40 * s) for s in range(N)]  # each delivery after NOW - 100 d
        # the sweep's history: 90 days of shipments, with their scans
        past_90 = [s for s in range(N) if 10 * D <= after[s] <= 100 * D] + ["s_lost"]
        assert len(history_reads) == 1 + math.ceil(len(past_90) / chunk)
