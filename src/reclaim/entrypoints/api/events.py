"""The generic events API: one event or a list of events from a custom site, sent with a
store API key that may write events."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reclaim.entrypoints.api.answers import EventsAnswer
from reclaim.entrypoints.api.deps import Rt, Writer
from reclaim.services import ingest

router = APIRouter(tags=["events"])

SOME_REJECTED: dict[int | str, dict[str, Any]] = {
    422: {"model": EventsAnswer, "description": "Some events were rejected"}
}


@router.post(
    "/api/v1/events",
    summary="Send one event or a list of events",
    status_code=202,
    response_model=EventsAnswer,
    responses=SOME_REJECTED,
)
async def events(request: Request, store_id: Writer, rt: Rt) -> JSONResponse:
    body = await request.body()  # at most its limit: BodyLimit counts it
    answers = await run_in_threadpool(
        ingest.accept_events,
        uow=rt.uow(),
        connector=rt.connectors["generic"],
        split=rt.split_batch,
        store_id=store_id,
        headers=dict(request.headers),
        body=body,
        now=rt.clock(),
    )
    counts = {s: sum(a.status == s for a in answers) for s in ("accepted", "duplicate", "rejected")}
    payload = {
        **counts,
        "results": [
            {
                "index": a.index,
                "status": a.status,
                "delivery_id": a.delivery_id,
                "error": a.error,
            }
            for a in answers
        ],
    }
    return JSONResponse(payload, status_code=422 if counts["rejected"] else 202)
