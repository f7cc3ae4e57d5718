"""Customers (SPEC S11): a search by email or phone (the beginning of it) or customer key,
and one customer's page: every case, order and message, their consent and suppression on
each channel, and their lifecycle stage."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from reclaim.entrypoints.console.auth import Reader, rt_of
from reclaim.entrypoints.console.pages.cases import call, labeller
from reclaim.entrypoints.console.render import page
from reclaim.entrypoints.console.words import Words
from reclaim.services import case_view

router = APIRouter(include_in_schema=False)
MAX_QUERY = 320


def customer_link(store_id: str, customer_key: str) -> str:
    return f"/console/customers/{quote(store_id, safe='')}/{quote(customer_key, safe='')}"


@router.get("/console/customers")
async def search(request: Request, who: Reader, store: str = "", q: str = "") -> Response:
    rt = rt_of(request)
    words = Words(who.user.locale)
    errors: dict[str, str] = {}
    params = request.query_params
    raw = params.get("page", "1")
    page_no = int(raw) if raw.isdigit() and len(raw) < 6 else 0
    if store:
        who.store(store)  # 404 for a store the user does not see
    if len(q) > MAX_QUERY:
        errors["q"] = words.t("customers.error.q", n=MAX_QUERY)
    if page_no < 1 or (page_no - 1) * case_view.PAGE > case_view.MAX_OFFSET:
        errors["page"] = words.t("queue.error.page")
    rows = None
    if q.strip() and not errors:
        rows = list(
            await call(
                case_view.find_customers,
                uow=rt.reader(),
                store_ids=(store,) if store else who.store_ids,
                text=q,
                page=page_no,
            )
        )
    more = rows is not None and len(rows) > case_view.PAGE
    kept = {k: v for k, v in {"store": store, "q": q[:MAX_QUERY]}.items() if v}
    return page(
        request,
        who,
        "customers/search.html",
        {
            "rows": rows[: case_view.PAGE] if rows is not None else None,
            "store": store,
            "q": q[:MAX_QUERY],
            "errors": errors,
            "link": customer_link,
            "page_no": max(page_no, 1),
            "next": request.url.path + "?" + urlencode({**kept, "page": page_no + 1})
            if more
            else "",
            "prev": request.url.path + "?" + urlencode({**kept, "page": page_no - 1})
            if page_no > 1
            else "",
            "stores": {s.id: s for s in who.stores},
        },
        section="customers",
        status_code=422 if errors else 200,
    )


@router.get("/console/customers/{store_id}/{customer_key:path}")
async def customer(request: Request, who: Reader, store_id: str, customer_key: str) -> Response:
    rt = rt_of(request)
    store = who.store(store_id)
    view = await call(
        case_view.customer_view,
        uow=rt.reader(),
        store=store,
        customer_key=customer_key,
        now=rt.clock(),
    )
    return page(
        request,
        who,
        "customers/customer.html",
        {"v": view, "link": customer_link, "label": labeller(Words(who.user.locale))},
        section="customers",
    )
