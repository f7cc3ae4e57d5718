"""Holds: reserving a pending order's items in stock, and extending the reservation."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reclaim.entrypoints.api.answers import Hold, OutOfStock
from reclaim.entrypoints.api.deps import ApiActor, Operator, Rt, Writer
from reclaim.entrypoints.api.inputs import ExtendIn, HoldIn, instant, read_model, takes
from reclaim.entrypoints.api.shapes import hold_json
from reclaim.services import holds as holds_service

router = APIRouter(tags=["stock"])


@router.post(
    "/api/v1/holds",
    summary="Reserve a pending order's items",
    openapi_extra=takes(HoldIn),
    status_code=201,
    response_model=Hold,
    responses={409: {"model": OutOfStock}},
)
async def place_hold(request: Request, store_id: Writer, actor: ApiActor, rt: Rt) -> JSONResponse:
    body = await read_model(request, HoldIn)
    try:
        hold = await run_in_threadpool(
            holds_service.place_hold,
            uow=rt.uow(),
            store_id=store_id,
            order_external_id=body.order_id,
            items=[(i.sku, i.quantity) for i in body.items],
            now=actor.at,
            actor=actor,
        )
    except holds_service.OutOfStock as exc:
        return JSONResponse({"detail": str(exc), "skus": exc.skus}, status_code=409)
    return JSONResponse(hold_json(hold), status_code=201)


@router.post(
    "/api/v1/orders/{order_id}/hold",
    summary="Extend an order's hold",
    openapi_extra=takes(ExtendIn),
    response_model=Hold,
)
async def extend_hold(
    order_id: Annotated[str, Path(max_length=255)],
    request: Request,
    store_id: Operator,
    actor: ApiActor,
    rt: Rt,
) -> dict[str, Any]:
    body = await read_model(request, ExtendIn)
    until = instant(body.until, "until")
    hold = await run_in_threadpool(
        holds_service.extend_hold,
        uow=rt.uow(),
        store_id=store_id,
        order_external_id=order_id,
        until=until,
        now=actor.at,
        actor=actor,
    )
    return hold_json(hold)
