"""One case (SPEC S11): the customer, the cart, the timeline, the reasons, where the cart
can ship from, and what a person can do (operators and admins; each action audited and on
the timeline): take the case out of automation or give it back, assign it, mark the customer
contacted, add a note, send the next step now, stop the flow, extend the hold, cancel the
order, issue a coupon (created on the store's platform as a flow's coupon is; its code shown
here for the operator to give the customer). The queue's row actions post here too
(``back`` says where to return)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from reclaim.bootstrap import Runtime
from reclaim.entrypoints.console.auth import Reader, Who, Worker, rt_of
from reclaim.entrypoints.console.pages.ops_support import local_time
from reclaim.entrypoints.console.render import page
from reclaim.entrypoints.console.words import Words, catalogue
from reclaim.errors import InvalidInput, NotFound
from reclaim.services import case_view, casework
from reclaim.services import cases as case_service
from reclaim.services import holds as hold_service

router = APIRouter(include_in_schema=False)
T = TypeVar("T")

ACTIONS = (
    "take_out",
    "resume",
    "assign_me",
    "unassign",
    "contacted",
    "note",
    "send_now",
    "stop",
    "extend_hold",
    "cancel_order",
)
OUTCOMES = tuple(o.value for o in casework.Outcome)
FIELDS = ("action", "outcome", "note", "until")
COUPON_FIELDS = ("kind", "value", "days")
# the flashes after an action; a coupon's says where it stands on the store's platform
DONE = (*ACTIONS, "coupon_pushed", "coupon_exported", "coupon_failed")


async def call(fn: Callable[..., T], /, **kw: Any) -> T:
    return await run_in_threadpool(lambda: fn(**kw))


def labeller(words: Words) -> Callable[[str, str | None], str]:
    """``label(prefix, code)``: the words of ``prefix.code`` where the console has them, else
    the code as it is (a new reason or event type is still shown)."""

    def label(prefix: str, code: str | None) -> str:
        if not code:
            return "—"
        key = f"{prefix}.{code}"
        return words.t(key) if key in catalogue() else code.replace("_", " ")

    return label


def back_to(target: str, default: str) -> str:
    """A console path to return to (never another site)."""
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return default
    return target


async def store_of_case(rt: Runtime, who: Who, case_id: int) -> str:
    """The case's store, if the user sees it; NotFound (404) otherwise, as for no case."""
    store_id = await call(case_view.store_of, uow=rt.reader(), case_id=case_id)
    if store_id is None or not who.sees(store_id):
        raise NotFound(f"no case {case_id}")
    return store_id


async def _render(
    request: Request,
    who: Who,
    case_id: int,
    *,
    done: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    rt = rt_of(request)
    store = who.store(await store_of_case(rt, who, case_id))
    view = await call(
        case_view.case_view, uow=rt.reader(), store=store, case_id=case_id, now=rt.clock()
    )
    hold_end = view.hold.expires_at if view.hold is not None else None
    zone = ZoneInfo(who.user.timezone)
    return page(
        request,
        who,
        "cases/case.html",
        {
            "v": view,
            "c": view.case,
            "done": done if done in DONE else "",
            "values": values or {},
            "errors": errors or {},
            "outcomes": OUTCOMES,
            "note_max": casework.NOTE_MAX,
            "coupon_kinds": casework.COUPON_KINDS,
            "coupon_days": casework.COUPON_DAYS,
            "hold_default": hold_end.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
            if hold_end
            else "",
            "back": request.url.path,
            "label": labeller(Words(who.user.locale)),
        },
        section="queue",
        status_code=status_code,
    )


@router.get("/console/cases/{case_id}")
async def case_page(request: Request, who: Reader, case_id: int, done: str = "") -> Response:
    return await _render(request, who, case_id, done=done)


@router.post("/console/cases/{case_id}/act")
async def act(
    request: Request,
    who: Worker,
    case_id: int,
    action: Annotated[str, Form(max_length=32)] = "",
    outcome: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=20_000)] = "",
    until: Annotated[str, Form(max_length=64)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    rt = rt_of(request)
    store_id = await store_of_case(rt, who, case_id)
    words = Words(who.user.locale)
    now, actor = rt.clock(), who.actor(rt)
    common = {"uow": rt.uow(), "store_id": store_id, "case_id": case_id, "now": now}
    values = {"outcome": outcome, "note": note, "until": until, "action": action}
    try:
        if action in ("take_out", "resume"):
            await call(casework.set_manual, **common, manual=action == "take_out", actor=actor)
        elif action in ("assign_me", "unassign"):
            me = action == "assign_me"
            await call(
                casework.assign,
                **common,
                user_id=who.user.id if me else None,
                name=who.user.email if me else None,
                actor=actor,
            )
        elif action == "contacted":
            await call(casework.mark_contacted, **common, outcome=outcome, note=note, actor=actor)
        elif action == "note":
            await call(casework.add_note, **common, text=note, actor=actor)
        elif action == "send_now":
            await call(casework.send_now, **common, actor=actor)
        elif action == "stop":
            await call(case_service.stop_case, **common, actor=actor)
        elif action == "cancel_order":
            await call(casework.cancel_order, **common, actor=actor)
        elif action == "extend_hold":
            await _extend(rt, who, store_id, case_id, until)
        else:
            raise InvalidInput("unknown action", field="action")
    except InvalidInput as exc:
        field = exc.field if exc.field in FIELDS else "action"
        errors = {field: words.t(f"cases.error.{field}", n=casework.NOTE_MAX)}
        return await _render(request, who, case_id, values=values, errors=errors, status_code=422)
    target = back_to(back, f"/console/cases/{case_id}")
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}done={action}", status_code=303)


async def _extend(rt: Runtime, who: Who, store_id: str, case_id: int, until: str) -> None:
    at = local_time(until, who.user.timezone)
    if at is None:
        raise InvalidInput("give a date and time", field="until")
    view = await call(
        case_view.case_view,
        uow=rt.reader(),
        store=who.store(store_id),
        case_id=case_id,
        now=rt.clock(),
    )
    order = view.case.order_external_id
    if view.hold is None or order is None:
        raise InvalidInput("the case's order has no hold", field="until")
    await call(
        hold_service.extend_hold,
        uow=rt.uow(),
        store_id=store_id,
        order_external_id=order,
        until=at,
        now=rt.clock(),
        actor=who.actor(rt),
    )


@router.post("/console/cases/{case_id}/coupon")
async def issue_coupon(
    request: Request,
    who: Worker,
    case_id: int,
    kind: Annotated[str, Form(max_length=16)] = "",
    value: Annotated[str, Form(max_length=32)] = "",
    days: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Issue a coupon for the case and create it on the store's platform (outside the
    database transaction); its code is on the case's page."""
    rt = rt_of(request)
    store_id = await store_of_case(rt, who, case_id)
    words = Words(who.user.locale)
    try:
        coupon = await call(
            casework.issue_coupon,
            uow=rt.uow(),
            platforms=rt.platform_client,
            store_id=store_id,
            case_id=case_id,
            kind=kind,
            value=value,
            days=days,
            now=rt.clock(),
            actor=who.actor(rt),
        )
    except InvalidInput as exc:
        field = exc.field if exc.field in COUPON_FIELDS else "value"
        key = "value_floor" if str(exc) == casework.OVER_FLOOR else field
        values = {"kind": kind, "value": value, "days": days, "action": "coupon"}
        errors = {field: words.t(f"cases.error.coupon_{key}")}
        return await _render(request, who, case_id, values=values, errors=errors, status_code=422)
    done = f"coupon_{coupon.push_state or 'failed'}"
    return RedirectResponse(f"/console/cases/{case_id}?done={done}", status_code=303)


@router.post("/console/cases/{case_id}/coupon/push")
async def push_coupon(
    request: Request,
    who: Worker,
    case_id: int,
    code: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Try again to create a coupon of the case on the store's platform."""
    rt = rt_of(request)
    store_id = await store_of_case(rt, who, case_id)
    coupon = await call(
        casework.push_coupon_again,
        uow=rt.uow(),
        platforms=rt.platform_client,
        store_id=store_id,
        case_id=case_id,
        code=code,
        now=rt.clock(),
        actor=who.actor(rt),
    )
    done = f"coupon_{coupon.push_state or 'failed'}"
    return RedirectResponse(f"/console/cases/{case_id}?done={done}", status_code=303)
