"""Logistics exceptions (SPEC S9, S11): a store's shipments that stalled, are held at customs,
are late or probably lost (the API's ``/api/v1/logistics`` queue, a page at a time, newest
first), and how each shipping lane has been doing over the last 30 days."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from reclaim.entrypoints.console.auth import Reader, rt_of
from reclaim.entrypoints.console.pages.ops_support import call, int_cursor, pick
from reclaim.entrypoints.console.render import page
from reclaim.services import logistics as logistics_service

router = APIRouter(include_in_schema=False)
PAGE = 50
STATUSES = ("open", "resolved", "lost", "cancelled", "expired")


@router.get("/console/logistics")
async def logistics(
    request: Request,
    who: Reader,
    store: Annotated[str, Query(max_length=64)] = "",
    status: Annotated[str, Query(max_length=16)] = "open",
    cursor: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    chosen = pick(who, store)
    rt = rt_of(request)
    if status not in ("", *STATUSES):
        status = "open"
    context: dict[str, object] = {
        "store": chosen,
        "status": status,
        "statuses": STATUSES,
        "entries": [],
        "lanes": [],
        "next_href": "",
    }
    if chosen is not None:
        entries, more = await call(
            logistics_service.queue_page,
            uow=rt.reader(),
            store_id=chosen.id,
            status=status or None,
            now=rt.clock(),
            cursor=int_cursor(cursor),
            limit=PAGE,
        )
        lanes = await call(
            logistics_service.lanes, uow=rt.reader(), store_id=chosen.id, now=rt.clock()
        )
        context |= {"entries": entries, "lanes": lanes}
        if more is not None:
            query = {"store": chosen.id, "status": status, "cursor": more}
            context["next_href"] = "/console/logistics?" + urlencode(query)
    return page(request, who, "logistics/index.html", context, section="logistics")
