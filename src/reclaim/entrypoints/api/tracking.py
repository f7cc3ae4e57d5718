"""Public tracking endpoints on ``RECLAIM_PUBLIC_URL`` (SPEC S4): the open pixel, click and
restore redirects, and the unsubscribe page (GET shows, POST does, RFC 8058 one-click).

These are reached by customers and their mail scanners, never by operators: answers are
plain, say nothing about other customers, and a bad link never redirects anywhere. The
unsubscribe page speaks the language the message was written in (``lang`` and ``dir`` set, so
Arabic reads right to left); a link that is not valid has no message, so it answers in English.
"""

from __future__ import annotations

import contextlib
import html
import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reclaim.bootstrap import page_words
from reclaim.entrypoints.api.deps import Rt
from reclaim.errors import AuthError, NotFound
from reclaim.services import tracking

log = logging.getLogger(__name__)

# A 1×1 transparent GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}
Token = Annotated[str, Path(max_length=2048)]

router = APIRouter(include_in_schema=False)


def _page(
    title: str, body: str, *, status: int = 200, lang: str = "en", direction: str = "ltr"
) -> HTMLResponse:
    doc = (
        f"<!doctype html><html lang='{html.escape(lang)}' dir='{html.escape(direction)}'>"
        "<head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<meta name='robots' content='noindex'><title>{html.escape(title)}</title>"
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:10vh auto;"
        "padding:0 1rem;color:#1f2933}button{font:inherit;padding:.6rem 1.2rem;border:0;"
        "border-radius:6px;background:#1f2933;color:#fff;cursor:pointer}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=NO_STORE)


@router.get("/t/o/{token}.gif")
async def open_pixel(token: Token, rt: Rt) -> Response:
    # The image is served whatever happens: a broken pixel helps nobody.
    with contextlib.suppress(AuthError, NotFound):
        await run_in_threadpool(
            tracking.record_open, uow=rt.uow(), links=rt.links(), token=token, now=rt.clock()
        )
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/t/c/{token}")
async def click(token: Token, rt: Rt) -> Response:
    try:
        target = await run_in_threadpool(
            tracking.record_click, uow=rt.uow(), links=rt.links(), token=token, now=rt.clock()
        )
    except (AuthError, NotFound):
        return _page("Link not available", "<p>This link is not valid.</p>", status=404)
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


@router.get("/t/r/{token}")
async def restore(token: Token, rt: Rt) -> Response:
    try:
        target = await run_in_threadpool(
            tracking.restore_target, uow=rt.uow(), links=rt.links(), token=token, now=rt.clock()
        )
    except (AuthError, NotFound):
        return _page("Link not available", "<p>This link is not valid.</p>", status=404)
    return RedirectResponse(target, status_code=302, headers=NO_STORE)


@router.get("/u/{token}")
async def unsubscribe_form(token: Token, rt: Rt) -> Response:
    try:
        page = await run_in_threadpool(
            tracking.unsubscribe_page, uow=rt.uow(), links=rt.links(), token=token
        )
    except (AuthError, NotFound):
        return _page("Link not available", "<p>This link is not valid.</p>", status=404)
    said = page_words(page.locale)
    words = {k: html.escape(v) for k, v in said.words.items()}
    names = {"address": html.escape(page.masked_address), "store": html.escape(page.store_name)}
    if page.already:
        return _page(
            said.words["unsubscribed_title"],
            f"<p>{words['already_unsubscribed'] % names}</p>",
            lang=said.lang,
            direction=said.dir,
        )
    return _page(
        said.words["unsubscribe_title"],
        f"<p>{words['unsubscribe_question'] % names}</p>"
        f"<form method='post' action='/u/{html.escape(token)}'>"
        "<input type='hidden' name='confirm' value='1'>"
        f"<button type='submit'>{words['unsubscribe_button']}</button></form>",
        lang=said.lang,
        direction=said.dir,
    )


@router.post("/u/{token}")
async def unsubscribe(token: Token, request: Request, rt: Rt) -> Response:
    body = (await request.body())[:200]
    how = "one_click" if b"List-Unsubscribe=One-Click" in body else "page"
    try:
        await run_in_threadpool(
            tracking.unsubscribe,
            uow=rt.uow(),
            links=rt.links(),
            token=token,
            now=rt.clock(),
            how=how,
        )
    except (AuthError, NotFound):
        return _page("Link not available", "<p>This link is not valid.</p>", status=404)
    log.info("unsubscribe recorded (%s)", how)
    try:
        page = await run_in_threadpool(
            tracking.unsubscribe_page, uow=rt.uow(), links=rt.links(), token=token
        )
    except (AuthError, NotFound):  # recorded, then gone: say it in English
        return _page("You are unsubscribed", "<p>You will get no more of these messages.</p>")
    said = page_words(page.locale)
    store = html.escape(page.store_name)
    return _page(
        said.words["unsubscribed_title"],
        f"<p>{html.escape(said.words['unsubscribed']) % {'store': store}}</p>",
        lang=said.lang,
        direction=said.dir,
    )
