"""What a route depends on: the runtime (``app.state.rt``, set by :func:`create_app`), the
store whose API key the request carries, for the scope the route needs, and who the audit
log names as making a change (``api:<key prefix>``)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from reclaim.bootstrap import Runtime
from reclaim.domain.audit import Actor
from reclaim.domain.stores import split_api_key
from reclaim.errors import AuthError
from reclaim.services.stores import authenticate


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


Rt = Annotated[Runtime, Depends(runtime)]


async def store_from_key(request: Request, rt: Runtime, scope: str) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AuthError("send the store API key as Authorization: Bearer rk_…")
    return await run_in_threadpool(
        authenticate,
        uow=rt.reader(),
        token=token.strip(),
        scope=scope,
        now=rt.clock(),
        touch=rt.uow(),  # the key's last use, written at most once a minute
    )


async def writer(request: Request, rt: Rt) -> str:
    return await store_from_key(request, rt, "events:write")


async def reader(request: Request, rt: Rt) -> str:
    return await store_from_key(request, rt, "cases:read")


async def operator(request: Request, rt: Rt) -> str:
    return await store_from_key(request, rt, "cases:write")


async def admin(request: Request, rt: Rt) -> str:
    return await store_from_key(request, rt, "admin")


def actor(request: Request, rt: Rt) -> Actor:
    """``api:<prefix>`` of the request's key (checked by the route's store dependency), at
    the runtime's clock."""
    token = request.headers.get("authorization", "").partition(" ")[2].strip()
    return Actor(f"api:{split_api_key(token) or '?'}", rt.clock())


# The store id of a request whose key may send events, read cases, act on cases, or
# administer the store (its audit log, customers' access and erasure requests).
Writer = Annotated[str, Depends(writer)]
Reader = Annotated[str, Depends(reader)]
Operator = Annotated[str, Depends(operator)]
Admin = Annotated[str, Depends(admin)]
# Who the audit log names for a change the request makes.
ApiActor = Annotated[Actor, Depends(actor)]
