"""A store's customers' access and erasure requests, and its audit log (SPEC S13): for keys
with the ``admin`` scope. The address travels in a JSON body, never in a URL: addresses stay
out of access logs."""

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from reclaim.bootstrap import compact_tables
from reclaim.entrypoints.api.deps import Admin, ApiActor, Rt
from reclaim.entrypoints.api.inputs import Cursor, read_model, takes
from reclaim.entrypoints.api.shapes import iso
from reclaim.services import audit as audit_service
from reclaim.services import privacy as privacy_service

router = APIRouter(tags=["privacy"])


class CustomerIn(BaseModel):
    email: str = Field(max_length=320, description="The customer's email address")


class CustomerExport(BaseModel):
    """Every row about the customer, by table, each row as its columns; the raw deliveries
    that mention them and their suppression entries."""

    store_id: str
    email: str
    exported_at: str
    message_events: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    coupons: list[dict[str, Any]]
    case_events: list[dict[str, Any]]
    case_reasons: list[dict[str, Any]]
    cases: list[dict[str, Any]]
    shipment_scans: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    payment_attempts: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    checkouts: list[dict[str, Any]]
    deliveries: list[dict[str, Any]]
    suppressions: list[dict[str, Any]]


class Erased(BaseModel):
    """What an erasure did; ``already``: the customer was erased before (since ``since``)
    and nothing changed."""

    erased: bool
    already: bool
    since: str | None
    subject: str
    deleted: dict[str, int]
    deliveries_rewritten: int
    deliveries_dropped: int
    suppressed: int


class AuditEntryOut(BaseModel):
    id: int | None
    at: str
    actor: str
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next_cursor: int | None


@router.post(
    "/api/v1/customers/export",
    summary="Every row about a customer, by email address (an access request)",
    openapi_extra=takes(CustomerIn),
    response_model=CustomerExport,
)
async def export_customer(
    request: Request, store_id: Admin, actor: ApiActor, rt: Rt
) -> dict[str, Any]:
    body = await read_model(request, CustomerIn)
    found: dict[str, Any] = await run_in_threadpool(
        privacy_service.export_customer,
        uow=rt.uow(),
        store_id=store_id,
        email=body.email,
        now=actor.at,
        actor=actor,
    )
    return found


@router.post(
    "/api/v1/customers/erase",
    summary="Erase a customer, by email address (an erasure request)",
    openapi_extra=takes(CustomerIn),
    response_model=Erased,
)
async def erase_customer(
    request: Request, store_id: Admin, actor: ApiActor, rt: Rt
) -> dict[str, Any]:
    body = await read_model(request, CustomerIn)
    done = await run_in_threadpool(
        privacy_service.erase_customer,
        uow=rt.uow(),
        store_id=store_id,
        email=body.email,
        now=actor.at,
        actor=actor,
        compact=partial(compact_tables, rt),
    )
    return erased_json(done)


def erased_json(done: privacy_service.Erasure) -> dict[str, Any]:
    return {
        "erased": True,
        "already": done.already,
        "since": iso(done.since),
        "subject": done.subject,
        "deleted": done.deleted,
        "deliveries_rewritten": done.deliveries_rewritten,
        "deliveries_dropped": done.deliveries_dropped,
        "suppressed": done.suppressed,
    }


@router.get(
    "/api/v1/audit", summary="The store's audit log, newest first", response_model=AuditPage
)
async def list_audit(
    store_id: Admin,
    rt: Rt,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=audit_service.MAX_PAGE)] = 100,
) -> dict[str, Any]:
    entries = await run_in_threadpool(
        audit_service.list_entries,
        uow=rt.reader(),
        store_id=store_id,
        limit=limit,
        before_id=cursor,
    )
    shown = [
        {
            "id": e.id,
            "at": iso(e.at),
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "before": e.before,
            "after": e.after,
        }
        for e in entries
    ]
    full = len(entries) == limit
    return {"entries": shown, "next_cursor": entries[-1].id if full and entries else None}
