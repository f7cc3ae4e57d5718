"""Alerts: what an operator should see about a store (complaint rate, sending paused, …),
newest first."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from reclaim.entrypoints.api.answers import Alerts
from reclaim.entrypoints.api.deps import Reader, Rt
from reclaim.entrypoints.api.shapes import iso
from reclaim.services import alerts as alert_service

router = APIRouter(tags=["operations"])


@router.get(
    "/api/v1/alerts",
    summary="The store's alerts, newest first: complaint rate, sending paused",
    response_model=Alerts,
)
async def list_alerts(
    store_id: Reader,
    rt: Rt,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> dict[str, Any]:
    found = await run_in_threadpool(
        alert_service.list_alerts, uow=rt.uow(), store_id=store_id, limit=limit
    )
    return {
        "alerts": [
            {"at": iso(a.at), "type": a.type, "message": a.message, "data": a.data} for a in found
        ]
    }
