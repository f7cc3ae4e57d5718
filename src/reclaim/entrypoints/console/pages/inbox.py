"""The dead-letter inbox (SPEC S1, S11): a store's deliveries that could not be processed,
one of them as it was received (headers, and the body pretty-printed as text: it may hold a
customer's data, so only that store's users see it, and nothing of it is logged), replaying
one or all of them (operators and admins; audited as ``inbox.replay``, as the CLI's), and the
test-mode deliveries with the reason they opened no case."""

from __future__ import annotations

import json
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from reclaim.entrypoints.console.auth import Reader, Worker, rt_of
from reclaim.entrypoints.console.pages.ops_support import (
    CursorQuery,
    DoneQuery,
    StoreQuery,
    call,
    flash,
    int_cursor,
    pick,
)
from reclaim.entrypoints.console.render import page
from reclaim.services import inbox_view, ingest

router = APIRouter(include_in_schema=False)
PAGE = 50
SHOWN = 256 * 1024  # the most of a body the page shows
DONE = ("inbox.done.replayed", "inbox.done.nothing")
REPLAYABLE = ["failed", "processed", "ignored"]


def pretty(body: bytes) -> tuple[str, bool]:
    """The body as text for a person: JSON indented, anything else decoded as UTF-8 (bytes
    that are not shown as �), cut at :data:`SHOWN`; and whether it was cut."""
    cut = len(body) > SHOWN
    raw = body[:SHOWN]
    if not cut:
        try:
            return json.dumps(json.loads(raw), indent=2, ensure_ascii=False), False
        except (ValueError, RecursionError):
            pass
    return raw.decode("utf-8", errors="replace"), cut


@router.get("/console/inbox")
async def inbox(
    request: Request,
    who: Reader,
    store: StoreQuery = "",
    status: Annotated[str, Query(max_length=16)] = "failed",
    cursor: CursorQuery = "",
    done: DoneQuery = "",
    n: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> Response:
    chosen = pick(who, store)
    if status not in inbox_view.LISTED:
        status = "failed"
    rt = rt_of(request)
    context: dict[str, object] = {
        "store": chosen,
        "status": status,
        "statuses": tuple(inbox_view.LISTED),
        "rows": [],
        "tests": 0,
        "next_href": "",
        "done": flash(done, DONE),
        "n": n,
    }
    if chosen is not None:
        found = await call(
            inbox_view.delivery_page,
            uow=rt.reader(),
            store_id=chosen.id,
            status=status,
            cursor=int_cursor(cursor),
            limit=PAGE,
        )
        context |= {"rows": found.deliveries, "tests": found.test_mode}
        if found.next_cursor is not None:
            query = {"store": chosen.id, "status": status, "cursor": found.next_cursor}
            context["next_href"] = "/console/inbox?" + urlencode(query)
    return page(request, who, "inbox/index.html", context, section="inbox")


@router.get("/console/inbox/test")
async def test_mode(
    request: Request,
    who: Reader,
    store: StoreQuery = "",
    cursor: CursorQuery = "",
) -> Response:
    chosen = pick(who, store)
    rt = rt_of(request)
    context: dict[str, object] = {"store": chosen, "rows": [], "tests": 0, "next_href": ""}
    if chosen is not None:
        found = await call(
            inbox_view.test_mode_page,
            uow=rt.reader(),
            store_id=chosen.id,
            cursor=int_cursor(cursor),
            limit=PAGE,
        )
        context |= {"rows": found.deliveries, "tests": found.test_mode}
        if found.next_cursor is not None:
            query = {"store": chosen.id, "cursor": found.next_cursor}
            context["next_href"] = "/console/inbox/test?" + urlencode(query)
    return page(request, who, "inbox/test.html", context, section="inbox")


@router.get("/console/inbox/{delivery_id}")
async def one(
    request: Request,
    who: Reader,
    delivery_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    store: StoreQuery = "",
) -> Response:
    chosen = who.store(store) if store else pick(who, store)
    if chosen is None:
        return page(request, who, "inbox/index.html", {"store": None}, section="inbox")
    rt = rt_of(request)
    found = await call(
        inbox_view.delivery, uow=rt.reader(), store_id=chosen.id, delivery_id=delivery_id
    )
    body, cut = pretty(found.body)
    context = {
        "store": chosen,
        "d": found,
        "headers": sorted((found.headers or {}).items()),
        "body": body,
        "cut": cut,
        "size": len(found.body),
        "replayable": found.status in REPLAYABLE,
    }
    headers = {"Cache-Control": "no-store"}  # a body may hold personal data
    return page(request, who, "inbox/one.html", context, section="inbox", headers=headers)


def _back(store_id: str, done: str, n: int) -> Response:
    query = urlencode({"store": store_id, "done": done, "n": n})
    return RedirectResponse("/console/inbox?" + query, status_code=303)


@router.post("/console/inbox/{delivery_id}/replay")
async def replay_one(
    request: Request,
    who: Worker,
    delivery_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    store: Annotated[str, Form(max_length=64)],
) -> Response:
    """Queue one delivery again; the worker processes it (idempotently)."""
    chosen = who.store(store)
    rt = rt_of(request)
    await call(  # NotFound (404) for another store's delivery, as for none
        inbox_view.delivery, uow=rt.reader(), store_id=chosen.id, delivery_id=delivery_id
    )
    n = await call(
        ingest.replay,
        uow=rt.uow(),
        store_id=chosen.id,
        statuses=REPLAYABLE,
        ids=[delivery_id],
        actor=who.actor(rt),
    )
    return _back(chosen.id, DONE[0] if n else DONE[1], n)


@router.post("/console/inbox/replay")
async def replay_failed(
    request: Request, who: Worker, store: Annotated[str, Form(max_length=64)]
) -> Response:
    """Queue every dead letter of the store again (``reclaim inbox replay --store``)."""
    chosen = who.store(store)
    rt = rt_of(request)
    n = await call(
        ingest.replay,
        uow=rt.uow(),
        store_id=chosen.id,
        statuses=["failed"],
        ids=None,
        actor=who.actor(rt),
    )
    return _back(chosen.id, DONE[0] if n else DONE[1], n)
