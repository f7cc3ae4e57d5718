"""Logistics: the operations queue of shipment cases (stalled, customs hold, late, lost)
and the recent record of each shipping lane."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from reclaim.entrypoints.api.answers import Lanes, LogisticsQueue
from reclaim.entrypoints.api.deps import Reader, Rt
from reclaim.services import logistics as logistics_service

router = APIRouter(tags=["logistics"])


@router.get(
    "/api/v1/logistics",
    summary="The operations queue: logistics cases (stalled, customs hold, late, lost)",
    response_model=LogisticsQueue,
)
async def get_logistics(
    store_id: Reader,
    rt: Rt,
    status: Annotated[str | None, Query(max_length=16)] = "open",
) -> dict[str, Any]:
    entries = await run_in_threadpool(
        logistics_service.queue, uow=rt.uow(), store_id=store_id, status=status, now=rt.clock()
    )
    return {
        "cases": [
            {
                "case_id": e.case_id,
                "status": e.status,
                "kind": e.kind,
                "shipment_id": e.shipment_id,
                "order_id": e.order_id,
                "carrier": e.carrier,
                "tracking_number": e.tracking_number,
                "tracking_url": e.tracking_url,
                "shipment_status": e.shipment_status,
                "detected_at": e.detected_at.isoformat(),
                "opened_at": e.opened_at.isoformat(),
                "days_late": e.days_late,
            }
            for e in entries
        ]
    }


@router.get(
    "/api/v1/logistics/lanes",
    summary="Per lane (warehouse → country): recent late share, median delay, slipping",
    response_model=Lanes,
)
async def get_logistics_lanes(store_id: Reader, rt: Rt) -> dict[str, Any]:
    rows = await run_in_threadpool(
        logistics_service.lanes, uow=rt.uow(), store_id=store_id, now=rt.clock()
    )
    return {
        "lanes": [
            {
                "origin": r.origin,
                "destination_country": r.destination_country,
                "deliveries": r.deliveries,
                "late": r.late,
                "late_share": r.late_share,
                "median_delay_days": r.median_delay_days,
                "slipping": r.slipping,
                "delay_days": r.delay_days,
            }
            for r in rows
        ]
    }
