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

from fastapi import FastAPI, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reclaim.adapters.templates.pages import page_words
from reclaim.bootstrap import Runtime
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


def add_tracking_routes(app: FastAPI, rt: Runtime) -> None:
    links = rt.links

    @app.get("/t/o/{token}.gif", include_in_schema=False)
    async def open_pixel(token: Token) -> Response:
        # The image is served whatever happens: a broken pixel helps nobody.
        with contextlib.suppress(AuthError, NotFound):
            await run_in_threadpool(
                tracking.record_open, uow=rt.uow(), links=links(), token=token, now=rt.clock()
            )
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    @app.get("/t/c/{token}", include_in_schema=False)
    async def click(token: Token) -> Response:
        try:
            target = await run_in_threadpool(
                tracking.record_click, uow=rt.uow(), links=links(), token=token, now=rt.clock()
            )
        except (AuthError, NotFound):
            return _page("Link not available", "<p>This link is not valid.</p>", status=404)
        return RedirectResponse(target, status_code=302, headers=NO_STORE)

    @app.get("/t/r/{token}", include_in_schema=False)
    async def restore(token: Token) -> Response:
        try:
            target = await run_in_threadpool(
                tracking.restore_target, uow=rt.uow(), links=links(), token=token, now=rt.clock()
            )
        except (AuthError, NotFound):
            return _page("Link not available", "<p>This link is not valid.</p>", status=404)
        return RedirectResponse(target, status_code=302, headers=NO_STORE)

    @app.get("/u/{token}", include_in_schema=False)
    async def unsubscribe_form(token: Token) -> Response:
        try:
            page = await run_in_threadpool(
                tracking.unsubscribe_page, uow=rt.uow(), links=links(), token=token
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

    @app.post("/u/{token}", include_in_schema=False)
    async def unsubscribe(token: Token, request: Request) -> Response:
        body = (await request.body())[:200]
        how = "one_click" if b"List-Unsubscribe=One-Click" in body else "page"
        try:
            await run_in_threadpool(
                tracking.unsubscribe,
                uow=rt.uow(),
                links=links(),
                token=token,
                now=rt.clock(),
                how=how,
            )
        except (AuthError, NotFound):
            return _page("Link not available", "<p>This link is not valid.</p>", status=404)
        log.info("unsubscribe recorded (%s)", how)
        try:
            page = await run_in_threadpool(
                tracking.unsubscribe_page, uow=rt.uow(), links=links(), token=token
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
