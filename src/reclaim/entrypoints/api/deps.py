"""What a route depends on: the runtime (``app.state.rt``, set by :func:`create_app`) and
the store whose API key the request carries, for the scope the route needs."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from reclaim.bootstrap import Runtime
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
    return await run_in_threadpool(authenticate, uow=rt.reader(), token=token.strip(), scope=scope)


async def writer(request: Request, rt: Rt) -> str:
    return await store_from_key(request, rt, "events:write")


async def reader(request: Request, rt: Rt) -> str:
    return await store_from_key(request, rt, "cases:read")


async def operator(request: Request, rt: Rt) -> str:
    return await store_from_key(request, rt, "cases:write")


# The store id of a request whose key may send events, read cases, or act on cases.
Writer = Annotated[str, Depends(writer)]
Reader = Annotated[str, Depends(reader)]
Operator = Annotated[str, Depends(operator)]
