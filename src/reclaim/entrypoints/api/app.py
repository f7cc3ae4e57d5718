"""The HTTP application: the edge middleware (``entrypoints/edge.py``), Reclaim's errors as
HTTP answers, and the routers, one per resource, which reach the runtime through
``app.state.rt`` (``api/deps.py``)."""

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from reclaim import __version__
from reclaim.bootstrap import DatabaseError, Runtime, explain_database_error
from reclaim.entrypoints.api import (
    alerts,
    cases,
    coupons,
    events,
    experiments,
    feedback,
    fulfilment,
    health,
    holds,
    logistics,
    privacy,
    reports,
    stock,
    suppressions,
    tracking,
    webhooks,
    what_stopped,
)
from reclaim.entrypoints.api.errors import error_responses
from reclaim.entrypoints.api.inputs import problems
from reclaim.entrypoints.console import add_console, console_error
from reclaim.entrypoints.docs import add_docs
from reclaim.entrypoints.edge import (
    BodyLimit,
    RateLimit,
    SecurityHeaders,
)
from reclaim.errors import (
    AuthError,
    Conflict,
    DatabaseBusy,
    DatabaseFull,
    Forbidden,
    InvalidInput,
    NotFound,
    SignatureError,
)

log = logging.getLogger(__name__)

# In the order their routes are matched (and listed in /openapi.json).
ROUTERS = (
    webhooks.router,
    events.router,
    cases.router,
    coupons.router,
    alerts.router,
    feedback.router,
    suppressions.router,
    stock.router,
    holds.router,
    fulfilment.router,
    logistics.router,
    reports.router,
    experiments.router,
    privacy.router,
    health.router,
    tracking.router,
    what_stopped.router,
)


def create_app(rt: Runtime) -> FastAPI:
    docs = rt.settings.api_docs
    app = FastAPI(
        title="Reclaim",
        version=__version__,
        description=(
            "Recovery of abandoned checkouts, pending orders and failed payments. "
            "Platform webhooks need the store's webhook secret; `/api/v1` needs a store "
            "API key as `Authorization: Bearer rk_…`."
        ),
        docs_url=None,  # Reclaim serves Swagger UI itself, without a CDN (entrypoints/docs.py)
        redoc_url=None,
    )
    app.state.rt = rt  # what the routes' dependencies reach (api/deps.py)
    if docs:
        add_docs(app)
    # The last added runs first: headers on every answer, then rate, then body limits.
    app.add_middleware(BodyLimit)
    app.add_middleware(RateLimit, settings=rt.settings)
    app.add_middleware(SecurityHeaders, https=rt.settings.public_url.startswith("https://"))
    add_error_handlers(app)
    for router in ROUTERS:
        add_routes(app, router)
    add_console(app)
    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add ``router``'s routes to the app itself, each as ``@app.get(...)`` would make it,
    with the refusals it may answer documented (``api/errors.py``) beside its own.

    FastAPI's ``include_router`` (0.16x) adds a router as one lazy branch: ``app.routes``
    would then list the branch, not its routes, and what reads that list (the hostile-server
    test probes every route it names) would find none.
    """
    for route in router.routes:
        assert isinstance(route, APIRoute), route
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses={**error_responses(route.path, route.methods), **route.responses},
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            openapi_extra=route.openapi_extra,
        )


def add_error_handlers(app: FastAPI) -> None:
    """Reclaim's errors as HTTP answers; anything unexpected as a 500 that says nothing."""

    @app.exception_handler(RequestValidationError)
    async def _unreadable(request: Request, exc: RequestValidationError) -> Response:
        found = problems(list(exc.errors()))
        first = found[0] if found else {"field": "", "message": "invalid request"}
        unread = InvalidInput(f"{first['field']}: {first['message']}", field=first["field"])
        if (page := console_error(request, unread)) is not None:
            return page
        return JSONResponse(
            {"detail": f"{first['field']}: {first['message']}", "problems": found},
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        route = request.scope.get("route")
        where = getattr(route, "path", "?")
        log.error("unexpected %s answering %s %s", type(exc).__name__, request.method, where)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)

    @app.exception_handler(DatabaseError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        """The database away for the moment (restarting, out of reach, locked by another
        process) or not usable as it is: 503 with Retry-After; its disk full: 507. The log
        says what the operator must do. Any other driver error is a bug: the 500 above."""
        url = request.app.state.rt.settings.database_url
        problem = await run_in_threadpool(explain_database_error, exc, url)
        if problem is None:
            raise exc
        route = getattr(request.scope.get("route"), "path", "?")
        log.warning("database problem answering %s %s: %s", request.method, route, problem)
        if isinstance(problem, DatabaseFull):
            detail = "the database's disk is full: nothing more can be stored until it has room"
            return JSONResponse({"detail": detail}, status_code=507)
        detail = (
            "the database is not available right now (restarting, out of reach or locked by "
            "another process); try again in a few seconds"
            if isinstance(problem, DatabaseBusy)
            else "the database is not available: the operator must fix it (the log says how)"
        )
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})

    async def _refused(request: Request, exc: Exception) -> Response:
        """A refusal: the console's page for it on a console route, else the API's JSON."""
        if (page := console_error(request, exc)) is not None:
            return page
        return _json_refusal(exc)

    for refusal in REFUSALS:
        app.add_exception_handler(refusal, _refused)

    @app.exception_handler(SignatureError)
    async def _signature(_: Request, exc: SignatureError) -> JSONResponse:
        return JSONResponse({"detail": f"signature rejected: {exc}"}, status_code=401)


# Reclaim's refusals and their HTTP status (a subclass, such as the console's SignInFirst,
# takes its base's).
REFUSALS: dict[type[Exception], int] = {
    InvalidInput: 422,
    NotFound: 404,
    AuthError: 401,
    Forbidden: 403,
    Conflict: 409,
}


def _json_refusal(exc: Exception) -> JSONResponse:
    status = next(code for cls, code in REFUSALS.items() if isinstance(exc, cls))
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, InvalidInput):
        body["field"] = exc.field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)
