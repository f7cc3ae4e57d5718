"""Feedback from the store's mail provider: a complaint or a late bounce, which suppresses
the address and stops its flows."""

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reclaim.entrypoints.api.answers import FeedbackAnswer
from reclaim.entrypoints.api.deps import ApiActor, Rt, Writer
from reclaim.entrypoints.edge import read_json
from reclaim.errors import InvalidInput
from reclaim.services import feedback as feedback_service

router = APIRouter(tags=["messages"])


@router.post(
    "/api/v1/feedback",
    summary="Report a complaint or a late bounce from your mail provider",
    response_model=FeedbackAnswer,
)
async def feedback(request: Request, store_id: Writer, actor: ApiActor, rt: Rt) -> JSONResponse:
    data = read_json(await request.body())  # at most its limit: BodyLimit counts it
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object: {type, email, message_id?}")
    header = data.get("message_id")
    result = await run_in_threadpool(
        feedback_service.record_feedback,
        uow=rt.uow(),
        store_id=store_id,
        kind=str(data.get("type", "")),
        email=str(data.get("email", "")),
        message_header_id=str(header) if header else None,
        now=actor.at,
        actor=actor,
    )
    return JSONResponse(
        {
            "suppressed": result.suppressed,
            "flows_stopped": result.flows_stopped,
            "complaint_state": result.complaint_state,
            "paused": result.paused,
        }
    )
