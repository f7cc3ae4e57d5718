"""Coupons: the ones Reclaim issued, in issue order, and where each stands on the store's
platform."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from reclaim.entrypoints.api.answers import CouponPage
from reclaim.entrypoints.api.deps import Reader, Rt
from reclaim.entrypoints.api.inputs import Cursor, instant
from reclaim.services import coupons as coupon_service

router = APIRouter(tags=["coupons"])


@router.get("/api/v1/coupons", summary="Coupons issued, in issue order", response_model=CouponPage)
async def list_coupons(
    store_id: Reader,
    rt: Rt,
    push_state: Annotated[
        str | None,
        Query(description="pushed | exported (no connector: import them) | none (not tried)"),
    ] = None,
    since: Annotated[datetime | None, Query(description="issued at or after (ISO 8601)")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=coupon_service.MAX_PAGE)] = 100,
) -> dict[str, Any]:
    since = instant(since, "since")
    page = await run_in_threadpool(
        coupon_service.list_coupons,
        uow=rt.uow(),
        store_id=store_id,
        push_state=push_state,
        since=since,
        cursor=cursor,
        limit=limit,
    )
    return {"coupons": [c.to_json() for c in page.coupons], "next_cursor": page.next_cursor}
