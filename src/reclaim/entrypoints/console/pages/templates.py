"""Templates (SPEC S4, S11): the default templates and the store's own, per key, channel and
locale; one edited (subject, HTML and text, checked as ``reclaim templates set`` checks them:
syntax, cost, the sender's duties); a preview in every locale from the sample customer or a
real case of the store; a test send to the operator's own address; every version, a diff
against the current one and a rollback.

The e-mail's HTML is shown only inside an ``<iframe sandbox>`` whose document, served by
:func:`frame`, carries its own CSP: no script runs, whatever a template holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.utils import formataddr
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from reclaim.bootstrap import (
    check_template_cost,
    compile_store_template,
    default_templates,
    fresh_renderer,
)
from reclaim.domain.messages import Channel, OutgoingEmail, Rendered
from reclaim.entrypoints.console.auth import Reader, Who, Worker, rt_of
from reclaim.entrypoints.console.pages.flows import pick_store
from reclaim.entrypoints.console.render import page
from reclaim.errors import DeliveryError, InvalidInput, NotFound
from reclaim.services.template_versions import (
    diff_parts,
    get_version,
    list_versions,
    parts_of,
    preview_context,
    rollback_template,
    store_templates,
)
from reclaim.services.templates import delete_template, find_template, save_template

router = APIRouter(include_in_schema=False)

# The e-mail preview's own document: styles inline, https or data: images, nothing else;
# framed only by the console itself.
FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
PARTS = ("subject", "html", "text")
DONE = ("templates.saved", "templates.reset_done", "templates.rolled_back", "templates.sent")


def _channel(value: str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise NotFound("no such channel") from None


def _slot(who: Who, store: str, key: str, channel: str, locale: str) -> dict[str, Any]:
    """The template a request names, its store checked against the user's."""
    store_id = who.store(store).id
    if not key or len(key) > 110 or len(locale) > 16:
        raise NotFound("no such template")
    return {
        "store_id": store_id,
        "key": key,
        "channel": _channel(channel).value,
        "locale": locale or "en",
    }


@dataclass(frozen=True, slots=True)
class Named:
    """The template a request names, as sent (in its query or its form)."""

    store: str
    key: str
    channel: str
    locale: str

    def slot(self, who: Who) -> dict[str, Any]:
        return _slot(who, self.store, self.key, self.channel, self.locale)


def _named_query(
    store: str = "", key: str = "", channel: str = "email", locale: str = "en"
) -> Named:
    return Named(store, key, channel, locale)


def _named_form(
    store: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=110)] = "",
    channel: Annotated[str, Form(max_length=16)] = "email",
    locale: Annotated[str, Form(max_length=16)] = "en",
) -> Named:
    return Named(store, key, channel, locale)


InQuery = Annotated[Named, Depends(_named_query)]
InForm = Annotated[Named, Depends(_named_form)]


def _shown(slot: dict[str, Any]) -> dict[str, Any]:
    """The slot as pages see it: ``tlocale`` is the template's language (``locale`` is the
    console's own, the layout's)."""
    return {
        "store_id": slot["store_id"],
        "key": slot["key"],
        "channel": slot["channel"],
        "tlocale": slot["locale"],
    }


def _current(request: Request, slot: dict[str, Any]) -> tuple[dict[str, Any] | None, bool]:
    """The template as it stands: the store's own (True) or the default (False); None for a
    key with neither."""
    rt = rt_of(request)
    own = find_template(uow=rt.reader(), **slot)
    if own is not None:
        return own, True
    try:
        shipped = default_templates().template(
            key=slot["key"], channel=Channel(slot["channel"]), locale=slot["locale"]
        )
    except InvalidInput:
        return None, False
    return json.loads(shipped.to_json()), False


@router.get("/console/templates")
def templates_page(request: Request, who: Reader, store: str = "") -> HTMLResponse:
    rt = rt_of(request)
    store_id = pick_store(who, store)
    shipped = default_templates()
    own = [] if store_id is None else store_templates(uow=rt.reader(), store_id=store_id)
    mine: dict[tuple[str, str], list[str]] = {}
    for key, channel, locale, _ in own:
        mine.setdefault((key, channel), []).append(locale)
    return page(
        request,
        who,
        "templates/index.html",
        {
            "store_id": store_id,
            "keys": shipped.keys(),
            "locales": shipped.locales(),
            "channels": [c.value for c in Channel],
            "mine": mine,
            "own": own,
        },
        section="templates",
    )


def _editor(
    request: Request,
    who: Who,
    slot: dict[str, Any],
    *,
    sent: dict[str, str] | None = None,
    error: InvalidInput | None = None,
    notice: str = "",
    done: str = "",
) -> HTMLResponse:
    rt = rt_of(request)
    current, own = _current(request, slot)
    if current is None and sent is None:
        raise NotFound("no such template")
    errors: dict[str, str] = {}
    if error is not None:
        errors[error.field if error.field in PARTS else "form"] = str(error)
    return page(
        request,
        who,
        "templates/edit.html",
        {
            **_shown(slot),
            "own": own,
            "values": sent if sent is not None else parts_of(current),
            "errors": errors,
            "notice": notice,
            "done": done if done in DONE else "",
            "versions": list_versions(uow=rt.reader(), **slot),
            "locales": default_templates().locales(),
        },
        status_code=422 if error is not None else 200,
        section="templates",
    )


@router.get("/console/templates/edit")
def edit_page(request: Request, who: Reader, named: InQuery, done: str = "") -> HTMLResponse:
    return _editor(request, who, named.slot(who), done=done)


def _back(slot: dict[str, Any], done: str) -> RedirectResponse:
    query = urlencode(
        {
            "store": slot["store_id"],
            "key": slot["key"],
            "channel": slot["channel"],
            "locale": slot["locale"],
            "done": done,
        }
    )
    return RedirectResponse(f"/console/templates/edit?{query}", 303)


def _save(request: Request, who: Who, slot: dict[str, Any], sent: dict[str, str]) -> str:
    rt = rt_of(request)
    channel = Channel(slot["channel"])
    compiled = compile_store_template(
        key=slot["key"],
        locale=slot["locale"],
        channel=channel,
        subject=sent["subject"],
        html=sent["html"] if channel is Channel.EMAIL else None,
        text=sent["text"],
    )
    save_template(
        uow=rt.uow(),
        store_id=slot["store_id"],
        key=compiled.key,
        channel=compiled.channel.value,
        locale=compiled.locale,
        compiled=json.loads(compiled.to_json()),
        now=rt.clock(),
        cost_check=check_template_cost,
        actor=who.actor(rt),
    )
    return compiled.locale


@router.post("/console/templates/save")
async def save(
    request: Request,
    who: Worker,
    named: InForm,
    subject: Annotated[str, Form(max_length=70_000)] = "",
    html: Annotated[str, Form(max_length=300_000)] = "",
    text: Annotated[str, Form(max_length=70_000)] = "",
) -> Response:
    """The template checked and saved as the store's own; on an error nothing is saved and
    the form comes back with what was sent, the error beside its part."""
    slot = named.slot(who)
    sent = {"subject": subject, "html": html, "text": text}
    try:
        slot["locale"] = await run_in_threadpool(_save, request, who, slot, sent)
    except InvalidInput as exc:
        return await run_in_threadpool(_editor, request, who, slot, sent=sent, error=exc)
    return _back(slot, "templates.saved")


@router.post("/console/templates/reset")
async def reset(request: Request, who: Worker, named: InForm) -> Response:
    """Back to the default template (a version too)."""
    rt = rt_of(request)
    slot = named.slot(who)
    await run_in_threadpool(
        delete_template, uow=rt.uow(), actor=who.actor(rt), now=rt.clock(), **slot
    )
    return _back(slot, "templates.reset_done")


def _case_id(case: str) -> int | None:
    if not case.strip():
        return None
    if not case.strip().isdigit() or len(case.strip()) > 18:
        raise InvalidInput("a case number is digits only", field="case")
    return int(case.strip())


def _render(request: Request, who: Who, slot: dict[str, Any], case: str) -> Rendered:
    """The template rendered as the step engine renders it, for the sample customer or the
    store's case ``case``, in the slot's locale."""
    rt = rt_of(request)
    context = preview_context(
        uow=rt.reader(),
        store=who.store(slot["store_id"]),
        key=slot["key"],
        locale=slot["locale"],
        public_url=rt.settings.public_url,
        now=rt.clock(),
        case_id=_case_id(case),
    )
    return fresh_renderer(rt).render(
        key=slot["key"],
        channel=Channel(slot["channel"]),
        context=context,
        store_id=slot["store_id"],
    )


@router.get("/console/templates/preview")
def preview(
    request: Request,
    who: Reader,
    named: InQuery,
    case: str = "",
) -> HTMLResponse:
    slot = named.slot(who)
    rendered, error = None, None
    try:
        rendered = _render(request, who, slot, case)
    except InvalidInput as exc:
        error = exc
    return page(
        request,
        who,
        "templates/preview.html",
        {
            **_shown(slot),
            "case": case.strip()[:18],
            "rendered": rendered,
            "error": None if error is None else str(error),
            "error_field": None if error is None else error.field,
            "locales": default_templates().locales(),
        },
        status_code=200 if error is None else 422,
        section="templates",
    )


@router.get("/console/templates/frame")
def frame(
    request: Request,
    who: Reader,
    store: str = "",
    key: str = "",
    locale: str = "en",
    case: str = "",
) -> HTMLResponse:
    """The e-mail's HTML alone, for the preview's sandboxed frame, under its own CSP."""
    slot = _slot(who, store, key, "email", locale)
    rendered = _render(request, who, slot, case)
    return HTMLResponse(
        rendered.html or "",
        headers={
            "Content-Security-Policy": FRAME_CSP,
            "X-Frame-Options": "SAMEORIGIN",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def _send_test(request: Request, who: Who, slot: dict[str, Any], case: str) -> bool:
    """The e-mail rendered and sent to the signed-in user's own address; False when no
    SMTP server is configured."""
    rt = rt_of(request)
    store = who.store(slot["store_id"])
    rendered = _render(request, who, slot, case)
    senders = rt.senders()
    try:
        if not senders.available(Channel.EMAIL):
            return False
        sender = store.settings.sender_email or f"shop@{store.domain}"
        now = rt.clock()
        senders.send_email(
            OutgoingEmail(
                to=who.user.email,
                from_address=formataddr((store.settings.sender_name or store.name, sender)),
                subject=f"[test] {rendered.subject}",
                text=rendered.text,
                html=rendered.html or "",
                message_id=f"<test.{now.timestamp():.0f}.{who.user.id}@{store.domain}>",
                list_unsubscribe_url=f"{rt.settings.public_url}/u/preview",
            ),
            now=now,
        )
    finally:
        senders.close()
    return True


@router.post("/console/templates/test")
async def send_test(
    request: Request,
    who: Worker,
    store: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=110)] = "",
    locale: Annotated[str, Form(max_length=16)] = "en",
    case: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A test of the e-mail, in ``locale``, to the operator's own address."""
    slot = _slot(who, store, key, "email", locale)
    try:
        sent = await run_in_threadpool(_send_test, request, who, slot, case)
    except InvalidInput as exc:
        return await run_in_threadpool(_editor, request, who, slot, error=exc)
    except DeliveryError:
        return await run_in_threadpool(_editor, request, who, slot, notice="templates.send_failed")
    if not sent:
        return await run_in_threadpool(_editor, request, who, slot, notice="templates.no_smtp")
    return _back(slot, "templates.sent")


def _version_slot(version: Any) -> dict[str, Any]:
    return {
        "store_id": version.store_id,
        "key": version.key,
        "channel": version.channel,
        "locale": version.locale,
    }


@router.get("/console/templates/diff")
def diff_page(request: Request, who: Reader, store: str = "", id: int = 0) -> HTMLResponse:
    """Version ``id`` against the template as it stands (the default, where the store has
    none of its own now)."""
    rt = rt_of(request)
    old = get_version(uow=rt.reader(), store_id=who.store(store).id, version_id=id)
    slot = _version_slot(old)
    current, own = _current(request, slot)
    return page(
        request,
        who,
        "templates/diff.html",
        {**_shown(slot), "old": old, "own": own, "diff": diff_parts(old.compiled, current)},
        section="templates",
    )


@router.post("/console/templates/rollback")
async def rollback(
    request: Request,
    who: Worker,
    store: Annotated[str, Form(max_length=64)] = "",
    id: Annotated[int, Form()] = 0,
) -> Response:
    rt = rt_of(request)
    store_id = who.store(store).id
    old = await run_in_threadpool(
        rollback_template,
        uow=rt.uow(),
        store_id=store_id,
        version_id=id,
        now=rt.clock(),
        cost_check=check_template_cost,
        actor=who.actor(rt),
    )
    return _back(_version_slot(old), "templates.rolled_back")
