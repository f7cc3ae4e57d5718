"""Fulfilment options for a cart and a destination, from the store's warehouses, stock,
lanes and product weights (SPEC S8), and the better offer a recovery message can make."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time
from decimal import Decimal

from reclaim.domain.audit import Actor
from reclaim.domain.cases import Case, CaseKind
from reclaim.domain.facts import Checkout
from reclaim.domain.fulfilment import (
    FulfilmentOptions,
    Lane,
    Warehouse,
    better_than_seen,
    options,
)
from reclaim.domain.messages import DeliveryPromise
from reclaim.errors import InvalidInput, NotFound
from reclaim.services.audit import record
from reclaim.services.lane_history import delay_index
from reclaim.services.ports import UnitOfWork, WarehouseRow

DEFAULT_WEIGHT_KG = Decimal("0.5")  # a SKU whose weight the store has not given


def _warehouse(row: WarehouseRow) -> Warehouse:
    hour, minute = (int(x) for x in row.cutoff.split(":"))
    return Warehouse(
        code=row.code,
        country=row.country,
        region=row.region,
        timezone=row.timezone,
        cutoff=time(hour, minute),
        working_days=frozenset(int(d) - 1 for d in row.working_days),
    )


def import_lanes(
    *,
    uow: UnitOfWork,
    store_id: str,
    lanes: Sequence[Lane],
    now: datetime,
    actor: Actor | None = None,
) -> int:
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        known = {w.code for w in uow.stock.warehouses(store_id)}
        for i, lane in enumerate(lanes):
            if lane.origin not in known:
                raise InvalidInput(
                    f"lane {i + 1}: no warehouse {lane.origin!r}", field=f"lanes[{i}].origin"
                )
            uow.stock.put_lane(store_id, lane, now=now)
        after = {"lanes": len(lanes)}
        record(uow, actor, "lanes.import", store_id, store_id=store_id, after=after)
        uow.commit()
    return len(lanes)


def import_weights(
    *, uow: UnitOfWork, store_id: str, weights: Sequence[tuple[str, Decimal]], now: datetime
) -> int:
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        put_weights(uow, store_id, weights, now=now)
        uow.commit()
    return len(weights)


def put_weights(
    uow: UnitOfWork, store_id: str, weights: Sequence[tuple[str, Decimal]], *, now: datetime
) -> None:
    """Set products' shipping weights in the caller's transaction; ``InvalidInput`` names
    the first weight that is not above 0 kg."""
    for i, (sku, kg) in enumerate(weights):
        if not kg > 0:
            raise InvalidInput(f"weights[{i}]: weight must be > 0 kg", field=f"weights[{i}]")
        uow.stock.put_weight(store_id, sku, kg, now=now)


def _options(
    uow: UnitOfWork,
    store_id: str,
    items: Sequence[tuple[str, int]],
    *,
    country: str,
    region: str | None,
    now: datetime,
) -> FulfilmentOptions:
    skus = sorted({sku for sku, _ in items})
    weights = uow.stock.weights(store_id, skus)
    stock = {(lv.warehouse, lv.sku): lv.available for lv in uow.stock.levels(store_id, skus)}
    lanes = uow.stock.lanes(store_id)
    store = uow.stores.get(store_id)
    delays = {}
    if store is not None:
        # The delay index knows lanes as (origin, destination country), from deliveries; a
        # slipping one pushes every service on it back by its current median delay.
        index = delay_index(uow, store, now=now)
        delays = {
            lane.key: index[(lane.origin, lane.destination_country)]
            for lane in lanes
            if (lane.origin, lane.destination_country) in index
        }
    return options(
        cart=[(sku, q, weights.get(sku, DEFAULT_WEIGHT_KG)) for sku, q in items],
        destination_country=country,
        destination_region=region,
        stock=stock,
        warehouses=[_warehouse(w) for w in uow.stock.warehouses(store_id)],
        lanes=lanes,
        ordered_at=now,
        delay_index=delays,
    )


def fulfilment_options(
    *,
    uow: UnitOfWork,
    store_id: str,
    items: Sequence[tuple[str, int]],
    country: str,
    region: str | None,
    now: datetime,
) -> FulfilmentOptions:
    if not items:
        raise InvalidInput("give at least one item as sku:quantity", field="item")
    with uow:
        if uow.stores.get(store_id) is None:
            raise NotFound(f"no store {store_id[:40]!r}")
        return _options(uow, store_id, items, country=country, region=region, now=now)


def better_promise(
    uow: UnitOfWork,
    store_id: str,
    case: Case,
    *,
    now: datetime,
    checkouts: Mapping[str, Checkout] | None = None,
) -> DeliveryPromise | None:
    """For an abandoned cart: a way to ship it now that beats what the customer saw (faster
    by ≥ 2 days or ≥ 10 % cheaper), as message data; ``None`` when there is none to tell.

    ``checkouts``: the store's checkouts already loaded by external id (a group of steps
    reads them in one query); without it the case's checkout is read here."""
    if case.kind != CaseKind.ABANDONED_CHECKOUT or not case.checkout_external_id:
        return None
    country = case.contact.country
    items = [(i.sku, i.quantity) for i in case.items if i.sku]
    if not country or not items or len(items) != len(case.items):
        return None
    checkout = (
        checkouts.get(case.checkout_external_id)
        if checkouts is not None
        else uow.facts.checkout(store_id, case.checkout_external_id, lock=False)
    )
    if checkout is None or (checkout.shipping_quote is None and checkout.shipping_days is None):
        return None
    found = _options(uow, store_id, items, country=country, region=case.contact.region, now=now)
    best = None
    for option in found.options:
        gain = better_than_seen(
            option,
            seen_days_max=checkout.shipping_days,
            seen_cost=checkout.shipping_quote,
            seen_currency=checkout.currency,
        )
        if gain is not None and (
            best is None
            or ((gain.days_faster or 0), (gain.saving or 0))
            > ((best.days_faster or 0), (best.saving or 0))
        ):
            best = gain
    return None if best is None else best.delivery_promise()
