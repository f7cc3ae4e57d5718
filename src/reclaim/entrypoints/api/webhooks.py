"""Platform webhooks: Shopify, WooCommerce and Stripe deliveries, signed with the store's
webhook secret. The handler answers once the raw delivery is stored; processing happens on
the worker."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reclaim.entrypoints.api.answers import WebhookAnswer, WebhookRejected
from reclaim.entrypoints.api.deps import Rt
from reclaim.errors import NotFound
from reclaim.services import ingest

PLATFORMS = ("shopify", "woocommerce", "stripe")

router = APIRouter(tags=["webhooks"])

REJECTED: dict[int | str, dict[str, Any]] = {422: {"model": WebhookRejected}}


@router.post(
    "/webhooks/{platform}/{store_id}",
    summary="Platform webhook",
    response_model=WebhookAnswer,
    responses=REJECTED,
)
async def webhook(
    request: Request,
    platform: Annotated[str, Path(description="shopify | woocommerce | stripe")],
    store_id: Annotated[str, Path(max_length=64)],
    rt: Rt,
) -> JSONResponse:
    if platform not in PLATFORMS:
        raise NotFound(f"no webhook endpoint for {platform[:40]!r}")
    body = await request.body()  # at most its limit: BodyLimit counts it
    answer = await run_in_threadpool(
        ingest.accept_webhook,
        uow=rt.uow(),
        connector=rt.connectors[platform],
        store_id=store_id,
        headers=dict(request.headers),
        body=body,
        now=rt.clock(),
    )
    if answer.status == "ping":
        return JSONResponse({"status": "ping", "delivery_id": None})
    if answer.status == "rejected":
        return JSONResponse(
            {"detail": answer.error, "delivery_id": answer.delivery_id, "status": "rejected"},
            status_code=422,
        )
    return JSONResponse({"status": answer.status, "delivery_id": answer.delivery_id})
