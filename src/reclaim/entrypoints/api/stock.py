"""Stock: warehouses, stock levels and products (weight and catalogue), written in bulk
(what the CLI imports from CSV) and read per SKU."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from reclaim.domain.alternatives import Product
from reclaim.entrypoints.api.answers import ProductsSaved, Stock, StockUpdated, WarehousesSaved
from reclaim.entrypoints.api.deps import ApiActor, Reader, Rt, Writer
from reclaim.entrypoints.api.inputs import ProductsIn, StockIn, WarehousesIn, read_model, takes
from reclaim.services import alternatives as alternatives_service
from reclaim.services import holds as holds_service
from reclaim.services.ports import WarehouseRow

router = APIRouter(tags=["stock"])


@router.post(
    "/api/v1/warehouses",
    summary="Create or update warehouses",
    openapi_extra=takes(WarehousesIn),
    response_model=WarehousesSaved,
)
async def put_warehouses(
    request: Request, store_id: Writer, actor: ApiActor, rt: Rt
) -> dict[str, int]:
    body = await read_model(request, WarehousesIn)
    rows = [
        WarehouseRow(
            store_id=store_id,
            code=w.code,
            country=w.country.upper(),
            region=w.region,
            timezone=w.timezone,
            cutoff=w.cutoff,
            working_days=w.working_days,
        )
        for w in body.warehouses
    ]
    n = await run_in_threadpool(
        holds_service.import_warehouses,
        uow=rt.uow(),
        store_id=store_id,
        rows=rows,
        now=actor.at,
        actor=actor,
    )
    return {"warehouses": n}


@router.post(
    "/api/v1/stock",
    summary="Set stock levels or move them",
    openapi_extra=takes(StockIn),
    response_model=StockUpdated,
)
async def put_stock(request: Request, store_id: Writer, actor: ApiActor, rt: Rt) -> dict[str, int]:
    body = await read_model(request, StockIn)
    changes = [
        holds_service.StockChange(x.warehouse, x.sku, on_hand=x.on_hand, delta=x.delta)
        for x in body.levels
    ]
    n = await run_in_threadpool(
        holds_service.update_stock,
        uow=rt.uow(),
        store_id=store_id,
        changes=changes,
        now=actor.at,
        actor=actor,
    )
    return {"updated": n}


@router.post(
    "/api/v1/products",
    summary="Set products: weight and catalogue",
    openapi_extra=takes(ProductsIn),
    response_model=ProductsSaved,
)
async def put_products(
    request: Request, store_id: Writer, actor: ApiActor, rt: Rt
) -> dict[str, int]:
    """What ``reclaim products import`` reads from a CSV: a product's shipping weight
    and/or its catalogue entry (what a message offers instead of a sold-out item). All or
    none: the first wrong entry is named and nothing is written."""
    body = await read_model(request, ProductsIn)
    entries = [
        Product(
            sku=p.sku,
            name=p.name,
            category=p.category,
            price=p.price,
            currency=None if p.currency is None else p.currency.upper(),
            url=p.url,
            image_url=p.image_url,
        )
        for p in body.products
        if p.has_catalogue()
    ]
    weights = [(p.sku, p.weight_kg) for p in body.products if p.weight_kg is not None]
    catalogue, weighed = await run_in_threadpool(
        alternatives_service.import_products,
        uow=rt.uow(),
        store_id=store_id,
        products=entries,
        weights=weights,
        now=actor.at,
        actor=actor,
    )
    return {"catalogue": catalogue, "weights": weighed}


@router.get("/api/v1/stock", summary="Stock of a SKU per warehouse", response_model=Stock)
async def get_stock(
    store_id: Reader,
    rt: Rt,
    sku: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    levels = await run_in_threadpool(
        holds_service.stock_of, uow=rt.uow(), store_id=store_id, sku=sku
    )
    return {
        "sku": sku,
        "available": sum(lv.available for lv in levels),
        "levels": [
            {
                "warehouse": lv.warehouse,
                "sku": lv.sku,
                "on_hand": lv.on_hand,
                "reserved": lv.reserved,
                "available": lv.available,
            }
            for lv in levels
        ],
    }
