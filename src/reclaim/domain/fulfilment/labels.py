"""The winners among single-warehouse options (SPEC S8): nearest, fastest, cheapest and
greenest, and how near a warehouse is to the destination.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from reclaim.domain.fulfilment.network import Warehouse
from reclaim.domain.fulfilment.parcels import Criterion, FulfilmentOption


def proximity(warehouse: Warehouse, country: str, region: str | None) -> int:
    """How near a warehouse is to the destination, lower is nearer: 0 in the destination's
    country and region (both known and equal), 1 elsewhere in the same country, 2 abroad."""
    if warehouse.country != country:
        return 2
    if region is not None and warehouse.region == region:
        return 0
    return 1


def _identity(o: FulfilmentOption) -> tuple[str, ...]:
    return tuple(x for p in o.parcels for x in (p.warehouse.code, p.lane.carrier, p.lane.service))


def _speed(o: FulfilmentOption) -> tuple[date, date]:
    return (o.promise.latest, o.promise.earliest)


def _label(
    found: list[FulfilmentOption], *, country: str, region: str | None
) -> list[FulfilmentOption]:
    def near(o: FulfilmentOption) -> int:
        return proximity(o.parcels[0].warehouse, country, region)

    winners = {
        Criterion.NEAREST: min(found, key=lambda o: (near(o), *_speed(o), o.cost, _identity(o))),
        Criterion.FASTEST: min(found, key=lambda o: (*_speed(o), o.cost, _identity(o))),
        Criterion.CHEAPEST: min(found, key=lambda o: (o.cost, *_speed(o), _identity(o))),
        Criterion.GREENEST: min(found, key=lambda o: (o.co2_kg, o.cost, *_speed(o), _identity(o))),
    }
    return [
        replace(o, labels=tuple(c for c, winner in winners.items() if winner is o)) for o in found
    ]
