"""Health: the process is alive (``/healthz``); the database answers and is migrated
(``/readyz``)."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from reclaim import __version__
from reclaim.entrypoints.api.answers import Health, Ready, Unready
from reclaim.entrypoints.api.deps import Rt

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive", response_model=Health)
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@router.get(
    "/readyz",
    summary="The database answers and is migrated",
    response_model=Ready,
    responses={503: {"model": Unready}},
)
async def readyz(rt: Rt) -> JSONResponse:
    problem = await run_in_threadpool(rt.not_ready)
    if problem:
        return JSONResponse({"status": "unavailable", "detail": problem}, status_code=503)
    return JSONResponse({"status": "ready"})
