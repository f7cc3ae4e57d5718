"""Alerts (SPEC S5, S11): a store's alerts, newest first, in the operator's words (complaint
rate, sending paused, the platform refusing access, coupons or cancellations unavailable,
sender details missing, a broken experiment split). The alerts service has no acknowledge or
resolve: an alert is a dated notice, and the condition it names clears by fixing its cause
(``reclaim store set --resume`` for a pause, for example)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from reclaim.entrypoints.console.auth import Reader, rt_of
from reclaim.entrypoints.console.pages.ops_support import StoreQuery, call, pick
from reclaim.entrypoints.console.render import page
from reclaim.services import alerts as alert_service

router = APIRouter(include_in_schema=False)
LIMITS = (50, 200, 1000)
KNOWN = (
    "sending_paused",
    "complaint_rate",
    "platform_access",
    "cancellation_unavailable",
    "coupons_unavailable",
    "sample_ratio_mismatch",
    "sender_details_missing",
)


@router.get("/console/alerts")
async def alerts(
    request: Request,
    who: Reader,
    store: StoreQuery = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    chosen = pick(who, store)
    shown = min((n for n in LIMITS if n >= limit), default=LIMITS[-1])
    found: list[alert_service.Alert] = []
    if chosen is not None:
        found = await call(
            alert_service.list_alerts,
            uow=rt_of(request).reader(),
            store_id=chosen.id,
            limit=min(shown + 1, 1000),
        )
    more = len(found) > shown and shown < LIMITS[-1]
    bigger = next((n for n in LIMITS if n > shown), None)
    context = {
        "store": chosen,
        "rows": found[:shown],
        "known": KNOWN,
        "more_href": (
            "/console/alerts?" + urlencode({"store": chosen.id, "limit": bigger})
            if more and chosen
            else ""
        ),
        "paused": bool(chosen and chosen.paused),
    }
    return page(request, who, "alerts/index.html", context, section="alerts")
