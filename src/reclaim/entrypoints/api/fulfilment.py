"""Fulfilment options: the ways to ship a cart to a destination from the store's
warehouses (nearest, fastest, cheapest, greenest, split)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from reclaim.entrypoints.api.answers import FulfilmentOptions
from reclaim.entrypoints.api.deps import Reader, Rt
from reclaim.errors import InvalidInput
from reclaim.services import fulfilment as fulfilment_service

router = APIRouter(tags=["stock"])


@router.get(
    "/api/v1/fulfilment-options",
    summary="Ways to ship a cart to a destination: nearest, fastest, cheapest, greenest, split",
    response_model=FulfilmentOptions,
)
async def get_fulfilment_options(
    store_id: Reader,
    rt: Rt,
    country: Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")],
    item: Annotated[list[str], Query(description="sku:quantity, repeated")],
    region: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    items = []
    for i, raw in enumerate(item):
        sku, _, qty = raw.rpartition(":")
        if not sku or not qty.isdigit() or int(qty) < 1:
            raise InvalidInput(
                f"item {raw!r} must be sku:quantity, e.g. MUG-1:2", field=f"item[{i}]"
            )
        items.append((sku, int(qty)))
    found = await run_in_threadpool(
        fulfilment_service.fulfilment_options,
        uow=rt.uow(),
        store_id=store_id,
        items=items,
        country=country.upper(),
        region=region,
        now=rt.clock(),
    )
    return {
        "unavailable": list(found.unavailable),
        "options": [
            {
                "labels": [str(label) for label in o.labels],
                "split": o.is_split,
                "origin_country": o.origin_country,
                "cost": str(o.cost),
                "currency": o.currency,
                "co2_kg": str(o.co2_kg),
                "ship_on": o.promise.ship_on.isoformat(),
                "delivery_earliest": o.promise.earliest.isoformat(),
                "delivery_latest": o.promise.latest.isoformat(),
                "days_min": o.promise.days_min,
                "days_max": o.promise.days_max,
                "parcels": [
                    {
                        "warehouse": p.warehouse.code,
                        "carrier": p.lane.carrier,
                        "service": p.lane.service,
                        "skus": [list(x) for x in p.items],
                        "cost": str(p.cost),
                    }
                    for p in o.parcels
                ],
            }
            for o in found.options
        ],
    }
