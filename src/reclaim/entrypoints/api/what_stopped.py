"""The answer page of "What stopped you?" on ``RECLAIM_PUBLIC_URL`` (issue 15): ``GET
/a/<token>`` records the reason its link names and thanks the customer, with a box for
anything else; ``POST /a/<token>`` keeps that free text.

Like the unsubscribe page (``api/tracking.py``) it is reached by customers, speaks the
language of the message the link came from, says nothing of anyone else, and answers a link
that is not valid with the same plain 404 (in English: such a link has no message). The form
carries a signed token of its own (the message, its case, an expiry): another site cannot
post to it, and the edge gives it the strict CSP, no framing and the public rate limit.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from reclaim.bootstrap import page_words
from reclaim.entrypoints.api.deps import Rt
from reclaim.entrypoints.api.tracking import Token, _page
from reclaim.errors import AuthError, NotFound
from reclaim.services import what_stopped
from reclaim.services.what_stopped import MAX_TEXT, AnswerPage

router = APIRouter(include_in_schema=False)

_BOX = (
    "display:block;width:100%;box-sizing:border-box;margin:.5rem 0 1rem;padding:.5rem;"
    "font:inherit;border:1px solid #9aa5b1;border-radius:6px"
)
_QUOTE = (
    "margin:0 0 1rem;padding:.5rem 1rem;border-inline-start:4px solid #9aa5b1;white-space:pre-line"
)


def _invalid(status: int = 404) -> Response:
    return _page("Link not available", "<p>This link is not valid.</p>", status=status)


def _answer_page(token: str, page: AnswerPage, *, sent: bool) -> Response:
    said = page_words(page.locale)
    words = {k: html.escape(v) for k, v in said.words.items()}
    store = {"store": html.escape(page.store_name)}
    text = html.escape(page.text or "")
    told = f"<p>{words['answer_sent'] % store}</p>" if sent else ""
    if sent and page.text:
        told += f"<blockquote style='{_QUOTE}'>{text}</blockquote>"
    body = (
        (told or f"<p>{words['answer_thanks'] % store}</p>")
        + f"<form method='post' action='/a/{html.escape(token)}'>"
        f"<input type='hidden' name='form' value='{html.escape(page.form)}'>"
        f"<label for='text'>{words['answer_more']}</label>"
        f"<textarea id='text' name='text' rows='4' maxlength='{MAX_TEXT}' style='{_BOX}'>"
        f"{text}</textarea>"
        f"<button type='submit'>{words['answer_button']}</button></form>"
    )
    return _page(said.words["answer_title"], body, lang=said.lang, direction=said.dir)


@router.get("/a/{token}")
async def answer(token: Token, rt: Rt) -> Response:
    try:
        page = await run_in_threadpool(
            what_stopped.record_answer, uow=rt.uow(), links=rt.links(), token=token, now=rt.clock()
        )
    except (AuthError, NotFound):
        return _invalid()
    return _answer_page(token, page, sent=False)


@router.post("/a/{token}")
async def answer_text(token: Token, request: Request, rt: Rt) -> Response:
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        fields = parse_qs(body, max_num_fields=8)
    except ValueError:
        return _invalid(400)
    form, text = fields.get("form", [""])[0], fields.get("text", [""])[0]
    if not form:
        return _invalid(400)
    try:
        page = await run_in_threadpool(
            what_stopped.record_text,
            uow=rt.uow(),
            links=rt.links(),
            token=token,
            form=form,
            text=text,
            now=rt.clock(),
        )
    except (AuthError, NotFound):
        return _invalid()
    return _answer_page(token, page, sent=True)
