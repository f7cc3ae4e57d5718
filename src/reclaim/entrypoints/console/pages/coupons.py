"""Coupons (SPEC S6, S11): the codes Reclaim issued for a store, in the order issued, a page
at a time, each with where it stands on the platform (pushed, left to import, not tried yet)
and whether it was redeemed."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from reclaim.entrypoints.console.auth import Reader, rt_of
from reclaim.entrypoints.console.pages.ops_support import (
    CursorQuery,
    StoreQuery,
    call,
    int_cursor,
    pick,
)
from reclaim.entrypoints.console.render import page
from reclaim.services import coupons as coupon_service

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/console/coupons")
async def coupons(
    request: Request,
    who: Reader,
    store: StoreQuery = "",
    push: Annotated[str, Query(max_length=16)] = "",
    cursor: CursorQuery = "",
) -> Response:
    chosen = pick(who, store)
    if push not in coupon_service.PUSH_STATES:
        push = ""
    rt = rt_of(request)
    context: dict[str, object] = {
        "store": chosen,
        "push": push,
        "states": coupon_service.PUSH_STATES,
        "rows": [],
        "next_href": "",
        "now": rt.clock(),
    }
    if chosen is not None:
        found = await call(
            coupon_service.list_coupons,
            uow=rt.reader(),
            store_id=chosen.id,
            push_state=push or None,
            cursor=int_cursor(cursor),
            limit=PAGE,
        )
        context["rows"] = found.coupons
        if found.next_cursor is not None:
            query = {"store": chosen.id, "push": push, "cursor": found.next_cursor}
            context["next_href"] = "/console/coupons?" + urlencode(query)
    return page(request, who, "coupons/index.html", context, section="coupons")
