"""Suppressions (SPEC S5, S11): who is never messaged. Entries are kept hashed, so the page
counts them by reason and looks an address up, but never lists addresses; operators and
admins add one ("do not contact": the customer's running flows stop) or take one off, as
``reclaim suppressions add|remove`` and the API do (audited under the address's keyed hash,
never the address). Addresses travel in form bodies, never in a URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from reclaim.domain.stores import Store
from reclaim.entrypoints.console.auth import Reader, Who, Worker, rt_of
from reclaim.entrypoints.console.pages.ops_support import Form as Values
from reclaim.entrypoints.console.pages.ops_support import StoreQuery, call, pick, words_of
from reclaim.entrypoints.console.render import page
from reclaim.errors import InvalidInput
from reclaim.services import suppressions as service

router = APIRouter(include_in_schema=False)


async def _render(
    request: Request,
    who: Who,
    store: Store | None,
    *,
    form: Values | None = None,
    result: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    counts: dict[str, int] = {}
    if store is not None:
        counts = await call(service.counts, uow=rt_of(request).reader(), store_id=store.id)
    context = {
        "store": store,
        "counts": sorted(counts.items()),
        "total": sum(counts.values()),
        "channels": service.CHANNELS,
        "form": form or Values(values={"channel": "email"}),
        "result": result,
    }
    return page(
        request,
        who,
        "suppressions/index.html",
        context,
        section="suppressions",
        status_code=status_code,
    )


@router.get("/console/suppressions")
async def suppressions(request: Request, who: Reader, store: StoreQuery = "") -> Response:
    return await _render(request, who, pick(who, store))


def _checked(who: Who, channel: str, address: str) -> Values:
    t = words_of(who)
    form = Values(values={"channel": channel, "address": address})
    if channel not in service.CHANNELS:
        form.fail("channel", t("suppressions.channel.invalid"))
    if not address.strip():
        form.fail("address", t("suppressions.address.missing"))
    return form


@dataclass(frozen=True, slots=True)
class Asked:
    """The address form as posted."""

    store: str
    channel: str
    address: str


def _asked(
    store: Annotated[str, Form(max_length=64)],
    channel: Annotated[str, Form(max_length=16)] = "email",
    address: Annotated[str, Form(max_length=320)] = "",
) -> Asked:
    return Asked(store, channel, address)


Posted = Annotated[Asked, Depends(_asked)]


async def _act(request: Request, who: Who, asked: Posted, action: str) -> Response:
    chosen = who.store(asked.store)
    channel, address = asked.channel, asked.address
    form = _checked(who, channel, address)
    if not form.ok:
        return await _render(request, who, chosen, form=form, status_code=422)
    rt = rt_of(request)
    result: dict[str, Any] = {"action": action, "channel": channel}
    key = {"store_id": chosen.id, "channel": channel, "address": address}
    try:
        if action == "check":
            result["entry"] = await call(service.check, uow=rt.reader(), **key)
        elif action == "add":
            added = await call(
                service.add, uow=rt.uow(), now=rt.clock(), actor=who.actor(rt), **key
            )
            result |= {"new": added.new, "stopped": added.flows_stopped}
        else:
            result["entry"] = await call(service.remove, uow=rt.uow(), actor=who.actor(rt), **key)
    except InvalidInput as exc:
        field = exc.field if exc.field in ("channel", "address") else "address"
        form.fail(field, words_of(who)(f"suppressions.{field}.invalid"))
        return await _render(request, who, chosen, form=form, status_code=422)
    # The address is not echoed back into the form: the answer says what was done.
    kept = Values(values={"channel": channel})
    return await _render(request, who, chosen, form=kept, result=result)


@router.post("/console/suppressions/check")
async def check(request: Request, who: Reader, asked: Posted) -> Response:
    """Look an address up (a read: every role may; POST so that it stays out of URLs)."""
    return await _act(request, who, asked, "check")


@router.post("/console/suppressions/add")
async def add(request: Request, who: Worker, asked: Posted) -> Response:
    return await _act(request, who, asked, "add")


@router.post("/console/suppressions/remove")
async def remove(request: Request, who: Worker, asked: Posted) -> Response:
    return await _act(request, who, asked, "remove")
