"""The lanes' recent deliveries (SPEC S9): the delay index per lane and the stall norms the
logistics sweep judges silences by.

A store's delivered shipments are read with their orders' contacts and holds' lines in one
query, then, for the norms only, their scans CHUNK shipments at a time: a bounded number of
queries however many parcels arrived, never one a shipment.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reclaim.domain.events import Contact
from reclaim.domain.facts import Order
from reclaim.domain.holds import Hold, HoldLine
from reclaim.domain.logistics import WINDOW_DAYS, DelayIndex, Delivered, Scan, Timeline
from reclaim.domain.stores import Store
from reclaim.services.ports import UnitOfWork

# The stall norm is learnt per lane (the 90th percentile, nearest rank, of the longest silence
# between scans of the lane's parcels delivered in the last NORM_WINDOW, once there are
# NORM_MIN_HISTORY of them; then the store's whole network's), as the Olist replay learns it.
# Before a store has that history, a parcel silent for longer than DEFAULT_NORM_HOURS is
# stalled: three days without a scan is well past any carrier's hub-to-hub hop.
DEFAULT_NORM_HOURS = 72.0
NORM_QUANTILE = 0.9
NORM_MIN_HISTORY = 20
NORM_WINDOW = timedelta(days=90)
INDEX_WINDOW = timedelta(days=WINDOW_DAYS)  # the delay index looks no further back
CHUNK = 500  # ids in one IN list

Lane = tuple[str | None, str | None]  # origin warehouse (None: unknown), destination country


def zone_of(order: Order | None, store: Store) -> str:
    """The destination's zone: the customer's (set from the address at ingestion by
    ``reclaim.adapters.geo``) when it is a known zone, else the store's."""
    return _zone(order.contact if order is not None else None, store)


def _zone(contact: Contact | None, store: Store) -> str:
    name = contact.timezone if contact is not None else None
    if name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return store.timezone


def _lane(lines: Sequence[HoldLine], country: str | None) -> Lane:
    """Origin warehouse (the hold's, the one sending the most units) → destination country."""
    origin: str | None = None
    if lines:
        units: dict[str, int] = defaultdict(int)
        for line in lines:
            units[line.warehouse] += line.quantity
        origin = min(units, key=lambda w: (-units[w], w))
    return origin, country


def lane_of(uow: UnitOfWork, store_id: str, order: Order | None, order_external_id: str) -> Lane:
    """Origin warehouse (the hold's, the one sending the most units) → destination country."""
    hold = uow.stock.hold(store_id, order_external_id)
    return _lane(hold.hold_lines() if hold is not None else (), _country(order))


def _country(order: Order | None) -> str | None:
    return order.contact.country if order is not None else None


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """``ids`` once each, at most CHUNK at a time (one bounded IN list a query)."""
    unique = list(dict.fromkeys(ids))
    for at in range(0, len(unique), CHUNK):
        yield unique[at : at + CHUNK]


def _orders_and_holds(
    uow: UnitOfWork, store_id: str, order_external_ids: Iterable[str]
) -> tuple[dict[str, Order], dict[str, Hold]]:
    orders: dict[str, Order] = {}
    holds: dict[str, Hold] = {}
    for chunk in _chunks(order_external_ids):
        orders |= uow.facts.orders_many(store_id, chunk)
        holds |= uow.stock.holds_for(store_id, chunk)
    return orders, holds


def lanes_for(uow: UnitOfWork, store_id: str, order_external_ids: Iterable[str]) -> dict[str, Lane]:
    """The lane of each of the orders (as :func:`lane_of`), CHUNK orders a query."""
    ids = list(order_external_ids)
    orders, holds = _orders_and_holds(uow, store_id, ids)
    lanes: dict[str, Lane] = {}
    for i in ids:
        hold = holds.get(i)
        lanes[i] = _lane(hold.hold_lines() if hold is not None else (), _country(orders.get(i)))
    return lanes


def _longest_silence(timeline: Timeline, delivered_at: datetime) -> float | None:
    """Hours of the longest gap between scans up to the delivery; None without two scans."""
    scans = [s.at for s in timeline.scans if s.at <= delivered_at]
    gaps = [(b - a).total_seconds() / 3600 for a, b in pairwise(scans)]
    return max(gaps) if gaps else None


def _quantile(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[math.ceil(NORM_QUANTILE * len(ordered)) - 1]


@dataclass(slots=True)
class History:
    """A store's recent deliveries, per lane: the silences (for the norm) and the lateness
    (for the delay index)."""

    silences: dict[Lane, list[float]]
    delivered: list[Delivered[Lane]]


@dataclass(frozen=True, slots=True)
class _Parcel:
    """A delivered shipment with its lane and its destination's zone."""

    shipment_id: str
    delivered_at: datetime
    promised_at: datetime | None
    lane: Lane
    zone: str


def _parcels(
    uow: UnitOfWork, store: Store, now: datetime, *, since: datetime, promised_only: bool
) -> list[_Parcel]:
    """The store's shipments delivered from ``since`` up to ``now`` (only the past teaches),
    oldest delivery first, with their lanes and zones, in one query (``promised_only``: only
    those with a promise, all the delay index measures)."""
    return [
        _Parcel(
            p.external_id,
            p.delivered_at,
            p.estimated_delivery_at,
            _lane(p.hold_lines, p.contact.country if p.contact is not None else None),
            _zone(p.contact, store),
        )
        for p in uow.logistics.delivered_parcels(store.id, since=since, promised_only=promised_only)
        if p.delivered_at <= now
    ]


def _delivered(parcels: Sequence[_Parcel]) -> list[Delivered[Lane]]:
    """The promised parcels measured against their promise (the delay index's input)."""
    delivered: list[Delivered[Lane]] = []
    for p in parcels:
        if p.promised_at is None:
            continue
        promised = p.promised_at.astimezone(ZoneInfo(p.zone)).date()
        delivered.append(
            Delivered.of(
                lane=p.lane, delivered_at=p.delivered_at, promise_latest=promised, timezone=p.zone
            )
        )
    return delivered


def _silences(uow: UnitOfWork, store: Store, parcels: Sequence[_Parcel]) -> dict[Lane, list[float]]:
    """Per lane, the longest silence of each parcel with two scans (the stall norm's input);
    the scans read CHUNK parcels at a time."""
    scans: dict[str, list[Scan]] = {}
    for chunk in _chunks(p.shipment_id for p in parcels):
        scans |= uow.logistics.scans_for(store.id, chunk)
    silences: dict[Lane, list[float]] = defaultdict(list)
    for p in parcels:
        timeline = Timeline(tuple(scans.get(p.shipment_id, ())), p.zone)
        silence = _longest_silence(timeline, p.delivered_at)
        if silence is not None:
            silences[p.lane].append(silence)
    return silences


def history(uow: UnitOfWork, store: Store, now: datetime) -> History:
    """The store's deliveries of the last NORM_WINDOW up to ``now``: the sweep's norms and
    the delay index it warns by, in the caller's transaction."""
    parcels = _parcels(uow, store, now, since=now - NORM_WINDOW, promised_only=False)
    return History(_silences(uow, store, parcels), _delivered(parcels))


def norm_of(past: History, lane: Lane) -> float:
    """The lane's stall norm in hours: its own, else the store's network's, else the default."""
    own = past.silences.get(lane, [])
    if len(own) >= NORM_MIN_HISTORY:
        return _quantile(own)
    network = [h for hours in past.silences.values() for h in hours]
    if len(network) >= NORM_MIN_HISTORY:
        return _quantile(network)
    return DEFAULT_NORM_HOURS


def delay_index(uow: UnitOfWork, store: Store, *, now: datetime) -> DelayIndex[Lane]:
    """The store's per-lane delay index at ``now`` (its shipments delivered with a promise in
    the index's window), in the caller's transaction; no scan is read."""
    parcels = _parcels(uow, store, now, since=now - INDEX_WINDOW, promised_only=True)
    return DelayIndex(_delivered(parcels), now=now)
