"""Stock and holds (SPEC S7, S11): a store's stock per SKU and warehouse, its holds (active
first, the soonest to end on top), and extending a hold (operators and admins; audited as
``hold.extend``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from reclaim.domain.holds import MAX_HOLD
from reclaim.domain.stores import Store
from reclaim.entrypoints.console.auth import Reader, Who, Worker, rt_of
from reclaim.entrypoints.console.pages.ops_support import (
    DoneQuery,
    StoreQuery,
    call,
    flash,
    local_input,
    local_time,
    pick,
    words_of,
)
from reclaim.entrypoints.console.pages.ops_support import Form as Values
from reclaim.entrypoints.console.render import page
from reclaim.errors import InvalidInput
from reclaim.services import holds as holds_service
from reclaim.services import stock_view

router = APIRouter(include_in_schema=False)
DONE = ("stock.done.extended",)
PAGE = 50


async def _render(
    request: Request,
    who: Who,
    store: Store | None,
    *,
    sku: str = "",
    cursor: str = "",
    status: str = "active",
    hcursor: str = "",
    done: str = "",
    form: Values | None = None,
    status_code: int = 200,
) -> Response:
    rt = rt_of(request)
    context: dict[str, object] = {
        "store": store,
        "sku": sku,
        "status": status,
        "statuses": stock_view.HOLD_STATUSES,
        "done": flash(done, DONE),
        "form": form or Values(),
        "levels": None,
        "holds": None,
        "next_levels": "",
        "next_holds": "",
        "until": {},
    }
    if store is not None:
        levels = await call(
            stock_view.level_page,
            uow=rt.reader(),
            store_id=store.id,
            sku=sku[:255] or None,
            cursor=cursor or None,
            limit=PAGE,
        )
        holds = await call(
            stock_view.hold_page,
            uow=rt.reader(),
            store_id=store.id,
            status=status or None,
            cursor=hcursor or None,
            limit=PAGE,
        )
        base = {"store": store.id, "sku": sku, "status": status}
        if levels.next_cursor:
            q = base | {"cursor": levels.next_cursor, "hcursor": hcursor}
            context["next_levels"] = "/console/stock?" + urlencode(q)
        if holds.next_cursor:
            q = base | {"cursor": cursor, "hcursor": holds.next_cursor}
            context["next_holds"] = "/console/stock?" + urlencode(q)
        context["levels"], context["holds"] = levels.levels, holds.holds
        tz = who.user.timezone
        context["until"] = {
            h.order_external_id: local_input(h.created_at + MAX_HOLD, tz) for h in holds.holds
        }
    return page(request, who, "stock/index.html", context, section="stock", status_code=status_code)


@router.get("/console/stock")
async def stock(
    request: Request,
    who: Reader,
    store: StoreQuery = "",
    sku: Annotated[str, Query(max_length=255)] = "",
    cursor: Annotated[str, Query(max_length=600)] = "",
    status: Annotated[str, Query(max_length=16)] = "active",
    hcursor: Annotated[str, Query(max_length=80)] = "",
    done: DoneQuery = "",
) -> Response:
    chosen = pick(who, store)
    if status not in ("", *stock_view.HOLD_STATUSES):
        status = "active"
    return await _render(
        request,
        who,
        chosen,
        sku=sku,
        cursor=cursor,
        status=status,
        hcursor=hcursor,
        done=done,
    )


@router.post("/console/stock/holds/extend")
async def extend(
    request: Request,
    who: Worker,
    store: Annotated[str, Form(max_length=64)],
    order: Annotated[str, Form(max_length=255)],
    until: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Give an order's customer more time: the hold ends at ``until`` (the operator's zone)."""
    chosen = who.store(store)
    rt = rt_of(request)
    t = words_of(who)
    form = Values(values={f"until:{order}": until})
    at = local_time(until, who.user.timezone)
    if at is None:
        form.fail(f"until:{order}", t("stock.until.unreadable"))
    else:
        try:
            await call(
                holds_service.extend_hold,
                uow=rt.uow(),
                store_id=chosen.id,
                order_external_id=order,
                until=at,
                now=rt.clock(),
                actor=who.actor(rt),
            )
        except InvalidInput:
            form.fail(f"until:{order}", t("stock.until.invalid"))
    if not form.ok:
        return await _render(request, who, chosen, form=form, status_code=422)
    target = "/console/stock?" + urlencode({"store": chosen.id, "done": DONE[0]})
    return RedirectResponse(target, status_code=303)
