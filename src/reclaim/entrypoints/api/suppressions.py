"""The store's suppression list (do not contact): check, add and remove an address. The
address travels in a JSON body, never in a URL: addresses stay out of access logs."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from reclaim.bootstrap import Runtime
from reclaim.entrypoints.api.answers import (
    SuppressionAdded,
    SuppressionEntry,
    SuppressionRemoved,
)
from reclaim.entrypoints.api.deps import ApiActor, Reader, Rt, Writer
from reclaim.entrypoints.api.shapes import iso
from reclaim.entrypoints.edge import read_json
from reclaim.errors import InvalidInput
from reclaim.services import suppressions as suppression_service

router = APIRouter(tags=["messages"])


async def _on_list(request: Request, rt: Runtime, action: Any, **more: Any) -> Any:
    """Run a suppression-list ``action`` on the ``{channel, address}`` of a JSON body
    (never a URL: addresses stay out of access logs)."""
    data = read_json(await request.body())  # at most its limit: BodyLimit counts it
    if not isinstance(data, dict):
        raise InvalidInput("body must be a JSON object: {channel, address}")
    return await run_in_threadpool(
        action,
        uow=rt.uow(),
        channel=str(data.get("channel", "email")),
        address=str(data.get("address", "")),
        **more,
    )


def _entry(found: suppression_service.Entry | None) -> dict[str, Any]:
    if found is None:
        return {"suppressed": False, "reason": None, "since": None}
    return {"suppressed": True, "reason": found.reason, "since": iso(found.since)}


@router.post(
    "/api/v1/suppressions/check",
    summary="Is this address on the store's suppression list? (and why, since when)",
    response_model=SuppressionEntry,
)
async def check_suppression(request: Request, store_id: Reader, rt: Rt) -> dict[str, Any]:
    return _entry(await _on_list(request, rt, suppression_service.check, store_id=store_id))


@router.post(
    "/api/v1/suppressions",
    summary="Put an address on the suppression list (do not contact); its flows stop",
    response_model=SuppressionAdded,
)
async def add_suppression(
    request: Request, store_id: Writer, actor: ApiActor, rt: Rt
) -> dict[str, Any]:
    added = await _on_list(
        request, rt, suppression_service.add, store_id=store_id, now=actor.at, actor=actor
    )
    return {"suppressed": True, "new": added.new, "flows_stopped": added.flows_stopped}


@router.post(
    "/api/v1/suppressions/remove",
    summary="Take an address off the suppression list (stopped flows stay stopped)",
    response_model=SuppressionRemoved,
)
async def remove_suppression(
    request: Request, store_id: Writer, actor: ApiActor, rt: Rt
) -> dict[str, Any]:
    found = await _on_list(request, rt, suppression_service.remove, store_id=store_id, actor=actor)
    return {"removed": found is not None, "was": _entry(found)}
