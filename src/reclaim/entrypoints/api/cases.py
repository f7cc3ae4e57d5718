"""Cases: the store's recovery cases, newest first, one with its timeline, and stopping a
case's flow."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reclaim.entrypoints.api.answers import CaseDetail, CasePage, Stopped
from reclaim.entrypoints.api.deps import ApiActor, Operator, Reader, Rt
from reclaim.entrypoints.api.inputs import CaseId, Cursor, instant
from reclaim.entrypoints.api.shapes import case_json, iso, not_sent_json
from reclaim.services import cases as case_service

router = APIRouter(tags=["cases"])


@router.get("/api/v1/cases", summary="List cases, newest first", response_model=CasePage)
async def list_cases(
    store_id: Reader,
    rt: Rt,
    status: Annotated[str | None, Query(description="open, recovered, lost, …")] = None,
    kind: Annotated[str | None, Query()] = None,
    since: Annotated[datetime | None, Query(description="created at or after (ISO 8601)")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=case_service.MAX_PAGE)] = 50,
) -> dict[str, Any]:
    since = instant(since, "since")
    page = await run_in_threadpool(
        case_service.list_cases,
        uow=rt.uow(),
        store_id=store_id,
        status=status,
        kind=kind,
        since=since,
        cursor=cursor,
        limit=limit,
    )
    found = [
        {
            **case_json(c),
            "test": page.is_test(c),
            "why_not_sent": not_sent_json(page.why_not_sent(c)),
        }
        for c in page.cases
    ]
    return {"cases": found, "next_cursor": page.next_cursor}


@router.get(
    "/api/v1/cases/{case_id}", summary="One case with its timeline", response_model=CaseDetail
)
async def get_case(case_id: CaseId, store_id: Reader, rt: Rt) -> dict[str, Any]:
    detail = await run_in_threadpool(
        case_service.get_case, uow=rt.uow(), store_id=store_id, case_id=case_id
    )
    return {
        **case_json(detail.case),
        "test": detail.test,
        "why_not_sent": not_sent_json(detail.why_not_sent),
        "messages": [
            {
                "id": m.id,
                "channel": m.channel,
                "step": step,
                "template": m.template,
                "locale": m.locale,
                "status": m.status,
                "subject": m.subject,
                "sent_at": iso(m.sent_at),
                "opened_at": iso(m.opened_at),
                "clicked_at": iso(m.clicked_at),
                "opens": m.opens,
                "clicks": m.clicks,
                "coupon": m.coupon_code,
                "error": m.error,
            }
            for m, step in detail.messages
        ],
        "steps": [
            {
                "step": s.key,
                "status": s.status,
                "due_at": iso(s.due_at),
                "channel": s.channel,
                "outcome": s.outcome,
                "attempts": s.attempts,
            }
            for s in detail.steps
        ],
        "timeline": [{"at": iso(at), "type": t, "data": d} for at, t, d in detail.events],
    }


@router.post("/api/v1/cases/{case_id}/stop", summary="Stop the case's flow", response_model=Stopped)
async def stop_case(case_id: CaseId, store_id: Operator, actor: ApiActor, rt: Rt) -> JSONResponse:
    cancelled = await run_in_threadpool(
        case_service.stop_case,
        uow=rt.uow(),
        store_id=store_id,
        case_id=case_id,
        now=actor.at,
        actor=actor,
    )
    return JSONResponse({"status": "stopped", "steps_cancelled": cancelled})
