"""Option search (SPEC S8): every way to ship a whole cart from the warehouses holding it, in
one parcel or split across several, and the cheapest parcel from one warehouse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from reclaim.domain.fulfilment.labels import _identity, _label, _speed
from reclaim.domain.fulfilment.network import (
    Lane,
    LaneKey,
    Warehouse,
    _aware,
    _code,
    _country,
    _decimal,
    _region,
    _whole,
)
from reclaim.domain.fulfilment.parcels import Criterion, FulfilmentOption, FulfilmentOptions, Parcel
from reclaim.domain.fulfilment.promises import promise
from reclaim.domain.logistics import DelayStat
from reclaim.errors import InvalidInput


def _cart(cart: Sequence[tuple[str, int, Decimal]]) -> tuple[dict[str, int], dict[str, Decimal]]:
    quantities: dict[str, int] = {}
    weights: dict[str, Decimal] = {}
    for line in cart:
        if not isinstance(line, tuple) or len(line) != 3:
            raise InvalidInput("each cart line is (sku, quantity, weight_kg)", field="cart")
        sku = _code(line[0], "sku")
        quantity = _whole(line[1], "quantity", minimum=1)
        weight = _decimal(line[2], "weight_kg")
        if sku in weights and weights[sku] != weight:
            raise InvalidInput(f"SKU {sku} appears with two unit weights", field="cart")
        quantities[sku] = quantities.get(sku, 0) + quantity
        weights[sku] = weight
    if not quantities:
        raise InvalidInput("the cart is empty", field="cart")
    return quantities, weights


def lanes_to(lanes: Iterable[Lane], *, origin: str, country: str, region: str | None) -> list[Lane]:
    """The lanes from ``origin`` that serve the destination, one per (carrier, service): a
    lane to the destination's region is preferred over the same carrier and service's lane
    to the whole country."""
    best: dict[tuple[str, str], Lane] = {}
    for lane in lanes:
        if lane.origin != origin or not lane.serves(country, region):
            continue
        key = (lane.carrier, lane.service)
        if key not in best or (
            best[key].destination_region is None and lane.destination_region is not None
        ):
            best[key] = lane
    return [best[k] for k in sorted(best)]


def _parcel(
    *,
    warehouse: Warehouse,
    lane: Lane,
    items: Sequence[tuple[str, int]],
    weights: Mapping[str, Decimal],
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None,
) -> Parcel | None:
    weight = sum((weights[sku] * qty for sku, qty in items), Decimal(0))
    cost = lane.cost_for(weight)
    if cost is None:
        return None
    stat = delay_index.get(lane.key) if delay_index is not None else None
    return Parcel(
        warehouse=warehouse,
        lane=lane,
        items=tuple(items),
        weight_kg=weight,
        cost=cost,
        co2_kg=weight * lane.co2_per_kg,
        promise=promise(
            ordered_at=ordered_at,
            warehouse=warehouse,
            lane=lane,
            delay_days=stat.delay_days if stat is not None else 0,
        ),
    )


def quote(
    *,
    warehouse: Warehouse,
    items: Sequence[tuple[str, int]],
    weights: Mapping[str, Decimal],
    lanes: Iterable[Lane],
    destination_country: str,
    destination_region: str | None,
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None = None,
) -> Parcel | None:
    """The cheapest parcel (tie: earlier latest date, then carrier and service) carrying
    ``items`` from ``warehouse`` to the destination; ``None``, never an exception, when no lane
    serves it or none carries the weight. ``weights`` are per unit, by SKU."""
    country = _country(destination_country, "destination_country")
    region = _region(destination_region, "destination_region")
    parcels = [
        p
        for lane in lanes_to(lanes, origin=warehouse.code, country=country, region=region)
        if (
            p := _parcel(
                warehouse=warehouse,
                lane=lane,
                items=items,
                weights=weights,
                ordered_at=ordered_at,
                delay_index=delay_index,
            )
        )
        is not None
    ]
    return min(
        parcels,
        key=lambda p: (
            p.cost,
            p.promise.latest,
            p.promise.earliest,
            p.lane.carrier,
            p.lane.service,
        ),
        default=None,
    )


def options(
    *,
    cart: Sequence[tuple[str, int, Decimal]],
    destination_country: str,
    destination_region: str | None,
    stock: Mapping[tuple[str, str], int],
    warehouses: Iterable[Warehouse],
    lanes: Iterable[Lane],
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None = None,
) -> FulfilmentOptions:
    """Every way to ship the whole ``cart`` (lines ``(sku, quantity, unit weight kg)``; a SKU
    on several lines is added up) to the destination, with the winners labelled.

    * **Single-warehouse options**: one per warehouse whose ``stock[(code, sku)]`` (available
      units; missing means 0) covers every line, and per lane from it that serves the
      destination (see :func:`lanes_to`) and carries the cart's total weight. Cost is the
      lane's band for that weight, CO₂ the weight times the lane's CO₂ per kg, the promise
      :func:`promise` with the lane's ``delay_index`` delay.
    * **Split shipment**, only when there is no single-warehouse option: greedy, fewest
      parcels first, then cost. Each round takes the warehouse (not used yet, with a lane to
      the destination) whose parcel completes the most remaining lines, then moves the most
      units, then costs least, then has the earlier latest date, then the smaller code; it
      ships what it holds of the remaining lines over its cheapest lane (:func:`quote`). A
      warehouse whose parcel no lane carries is passed over. The split is labelled ``split``
      only: the other criteria compare ways to ship from one warehouse.
    * **Labels**, one winner each among single-warehouse options, ties broken down the line
      and finally by warehouse code, carrier, service: ``nearest`` — lowest
      :func:`proximity` (same country and region, then same country, then abroad), then
      faster; ``fastest`` — earliest latest date, then earliest earliest date, then cheaper;
      ``cheapest`` — lowest cost, then faster; ``greenest`` — least CO₂, then cheaper, then
      faster.

    Options come fastest first (latest date, earliest date, cost, CO₂, identity). Raises
    :class:`InvalidInput` for malformed input, duplicate warehouse codes, or candidate lanes
    quoting different currencies (costs could not be compared).
    """
    quantities, weights = _cart(cart)
    country = _country(destination_country, "destination_country")
    region = _region(destination_region, "destination_region")
    ordered_at = _aware(ordered_at, "ordered_at")
    lane_list = list(lanes)
    by_code: dict[str, Warehouse] = {}
    for w in warehouses:
        if w.code in by_code:
            raise InvalidInput(f"warehouse {w.code} is listed twice", field="warehouses")
        by_code[w.code] = w
    reachable = [
        w
        for code, w in sorted(by_code.items())
        if lanes_to(lane_list, origin=code, country=country, region=region)
    ]

    def available(w: Warehouse, sku: str) -> int:
        return max(0, stock.get((w.code, sku), 0))

    unavailable = tuple(
        sorted(
            sku
            for sku, qty in quantities.items()
            if sum(available(w, sku) for w in reachable) < qty
        )
    )
    if unavailable:
        return FulfilmentOptions(options=(), unavailable=unavailable)

    items = list(quantities.items())
    singles: list[FulfilmentOption] = []
    for w in reachable:
        if all(available(w, sku) >= qty for sku, qty in items):
            for lane in lanes_to(lane_list, origin=w.code, country=country, region=region):
                parcel = _parcel(
                    warehouse=w,
                    lane=lane,
                    items=items,
                    weights=weights,
                    ordered_at=ordered_at,
                    delay_index=delay_index,
                )
                if parcel is not None:
                    singles.append(FulfilmentOption((parcel,)))
    if singles:
        _one_currency(singles)
        result = _label(singles, country=country, region=region)
    else:
        split = _split(
            quantities,
            weights,
            reachable=reachable,
            available=available,
            lanes=lane_list,
            country=country,
            region=region,
            ordered_at=ordered_at,
            delay_index=delay_index,
        )
        result = [replace(split, labels=(Criterion.SPLIT,))] if split is not None else []
        _one_currency(result)
    result.sort(key=lambda o: (*_speed(o), o.cost, o.co2_kg, _identity(o)))
    return FulfilmentOptions(options=tuple(result))


def _one_currency(found: Sequence[FulfilmentOption]) -> None:
    currencies = {p.lane.currency for o in found for p in o.parcels}
    if len(currencies) > 1:
        raise InvalidInput(
            "the lanes to this destination quote costs in "
            f"{', '.join(sorted(currencies))}: costs cannot be compared",
            field="lanes",
        )


def _split(
    quantities: Mapping[str, int],
    weights: Mapping[str, Decimal],
    *,
    reachable: Sequence[Warehouse],
    available: Callable[[Warehouse, str], int],
    lanes: Sequence[Lane],
    country: str,
    region: str | None,
    ordered_at: datetime,
    delay_index: Mapping[LaneKey, DelayStat] | None,
) -> FulfilmentOption | None:
    remaining = dict(quantities)
    unused = list(reachable)
    parcels: list[Parcel] = []
    while remaining:
        best: tuple[tuple[int, int, Decimal, date, str], Parcel] | None = None
        for w in unused:
            take = [
                (sku, min(qty, available(w, sku)))
                for sku, qty in remaining.items()
                if available(w, sku) > 0
            ]
            if not take:
                continue
            parcel = quote(
                warehouse=w,
                items=take,
                weights=weights,
                lanes=lanes,
                destination_country=country,
                destination_region=region,
                ordered_at=ordered_at,
                delay_index=delay_index,
            )
            if parcel is None:
                continue
            completes = sum(1 for sku, qty in take if qty == remaining[sku])
            units = sum(qty for _, qty in take)
            rank = (-completes, -units, parcel.cost, parcel.promise.latest, w.code)
            if best is None or rank < best[0]:
                best = (rank, parcel)
        if best is None:
            return None  # what is left sits only where no lane carries it
        parcel = best[1]
        parcels.append(parcel)
        unused.remove(parcel.warehouse)
        for sku, qty in parcel.items:
            remaining[sku] -= qty
            if remaining[sku] == 0:
                del remaining[sku]
    return FulfilmentOption(tuple(parcels))
