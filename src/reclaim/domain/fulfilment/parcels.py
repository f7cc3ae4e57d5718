"""What an option search returns (SPEC S8): parcels, the ways to ship a whole cart, and the
criteria an option can win.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from reclaim.domain.fulfilment.network import Lane, Warehouse
from reclaim.domain.fulfilment.promises import Promise


class CartLine(NamedTuple):
    sku: str
    quantity: int
    weight_kg: Decimal  # per unit


class Criterion(StrEnum):
    NEAREST = "nearest"
    FASTEST = "fastest"
    CHEAPEST = "cheapest"
    GREENEST = "greenest"
    SPLIT = "split"


@dataclass(frozen=True, slots=True)
class Parcel:
    """One parcel: what it holds (``(sku, quantity)`` in cart order) and how it travels."""

    warehouse: Warehouse
    lane: Lane
    items: tuple[tuple[str, int], ...]
    weight_kg: Decimal
    cost: Decimal
    co2_kg: Decimal
    promise: Promise


@dataclass(frozen=True, slots=True)
class FulfilmentOption:
    """A way to ship the whole cart: one parcel, or several for a split shipment.

    A split is as late as its slowest parcel: its promise takes the latest of each date and
    day count. ``labels`` are the criteria this option wins.
    """

    parcels: tuple[Parcel, ...]
    labels: tuple[Criterion, ...] = ()

    @property
    def is_split(self) -> bool:
        return len(self.parcels) > 1

    @property
    def cost(self) -> Decimal:
        return sum((p.cost for p in self.parcels), Decimal(0))

    @property
    def currency(self) -> str:
        return self.parcels[0].lane.currency

    @property
    def co2_kg(self) -> Decimal:
        return sum((p.co2_kg for p in self.parcels), Decimal(0))

    @property
    def weight_kg(self) -> Decimal:
        return sum((p.weight_kg for p in self.parcels), Decimal(0))

    @property
    def promise(self) -> Promise:
        ps = [p.promise for p in self.parcels]
        return Promise(
            ship_on=max(p.ship_on for p in ps),
            earliest=max(p.earliest for p in ps),
            latest=max(p.latest for p in ps),
            days_min=max(p.days_min for p in ps),
            days_max=max(p.days_max for p in ps),
        )

    @property
    def origin_country(self) -> str | None:
        """The country every parcel leaves from; ``None`` for a split across countries."""
        countries = {p.warehouse.country for p in self.parcels}
        return countries.pop() if len(countries) == 1 else None


@dataclass(frozen=True, slots=True)
class FulfilmentOptions:
    """Every way to ship the cart, fastest first, and the SKUs that cannot be delivered.

    ``unavailable`` (sorted) lists the SKUs whose quantity exceeds what all the warehouses
    with a lane to the destination hold together: out of stock everywhere, as far as this
    destination is concerned. When it is not empty, ``options`` is; ``options`` can also be
    empty with nothing unavailable when the parcel is heavier than every lane's bands.
    """

    options: tuple[FulfilmentOption, ...]
    unavailable: tuple[str, ...] = ()

    def winner(self, criterion: Criterion) -> FulfilmentOption | None:
        return next((o for o in self.options if criterion in o.labels), None)
