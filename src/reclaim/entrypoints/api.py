"""The HTTP API: platform webhooks, the generic events API, cases, health.

Thin: read the request, call one service, translate its errors. Webhook handlers answer
after the raw delivery is stored; processing happens on the worker.
"""

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text

from reclaim import __version__
from reclaim.bootstrap import Runtime
from reclaim.domain.alternatives import Product
from reclaim.entrypoints.api_io import (
    CaseId,
    Cursor,
    ExtendIn,
    HoldIn,
    ProductsIn,
    StockIn,
    WarehousesIn,
    _model,
    _problems,
    case_json,
    hold_json,
    instant,
    iso,
    not_sent_json,
    takes,
)
from reclaim.entrypoints.docs import add_docs
from reclaim.entrypoints.edge import (
    BodyLimit,
    RateLimit,
    SecurityHeaders,
    read_json,
)
from reclaim.entrypoints.tracking import add_tracking_routes
from reclaim.errors import AuthError, Conflict, Forbidden, InvalidInput, NotFound, SignatureError
from reclaim.services import alerts as alert_service
from reclaim.services import alternatives as alternatives_service
from reclaim.services import cases as case_service
from reclaim.services import coupons as coupon_service
from reclaim.services import feedback as feedback_service
from reclaim.services import fulfilment as fulfilment_service
from reclaim.services import holds as holds_service
from reclaim.services import ingest
from reclaim.services import logistics as logistics_service
from reclaim.services import suppressions as suppression_service
from reclaim.services.ports import WarehouseRow
from reclaim.services.stores import authenticate

log = logging.getLogger(__name__)

PLATFORMS = ("shopify", "woocommerce", "stripe")


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
    if docs:
        add_docs(app)
    # The last added runs first: headers on every answer, then rate, then body limits.
    app.add_middleware(BodyLimit)
    app.add_middleware(RateLimit, settings=rt.settings)
    app.add_middleware(SecurityHeaders, https=rt.settings.public_url.startswith("https://"))

    @app.exception_handler(RequestValidationError)
    async def _unreadable(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = _problems(list(exc.errors()))
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        return JSONResponse(
            {"detail": f"{first['field']}: {first['message']}", "problems": problems},
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        route = request.scope.get("route")
        where = getattr(route, "path", "?")
        log.error("unexpected %s answering %s %s", type(exc).__name__, request.method, where)
        return JSONResponse({"detail": "internal error; it has been logged"}, status_code=500)

    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(NotFound)
    async def _missing(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(AuthError)
    async def _auth(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(Forbidden)
    async def _forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @app.exception_handler(SignatureError)
    async def _signature(_: Request, exc: SignatureError) -> JSONResponse:
        return JSONResponse({"detail": f"signature rejected: {exc}"}, status_code=401)

    async def store_from_key(request: Request, scope: str) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthError("send the store API key as Authorization: Bearer rk_…")
        return await run_in_threadpool(
            authenticate, uow=rt.reader(), token=token.strip(), scope=scope
        )

    async def writer(request: Request) -> str:
        return await store_from_key(request, "events:write")

    async def reader(request: Request) -> str:
        return await store_from_key(request, "cases:read")

    async def operator(request: Request) -> str:
        return await store_from_key(request, "cases:write")

    @app.post("/webhooks/{platform}/{store_id}", tags=["webhooks"], summary="Platform webhook")
    async def webhook(
        request: Request,
        platform: Annotated[str, Path(description="shopify | woocommerce | stripe")],
        store_id: Annotated[str, Path(max_length=64)],
    ) -> JSONResponse:
        if platform not in PLATFORMS:
            raise NotFound(f"no webhook endpoint for {platform[:40]!r}")
        body = await request.body()  # at most its limit: BodyLimit counts it
        answer = await run_in_threadpool(
            ingest.accept_webhook,
            uow=rt.uow(),
            connector=rt.connectors[platform],
            store_id=store_id,
            headers=dict(request.headers),
            body=body,
            now=rt.clock(),
        )
        if answer.status == "ping":
            return JSONResponse({"status": "ping", "delivery_id": None})
        if answer.status == "rejected":
            return JSONResponse(
                {"detail": answer.error, "delivery_id": answer.delivery_id, "status": "rejected"},
                status_code=422,
            )
        return JSONResponse({"status": answer.status, "delivery_id": answer.delivery_id})

    @app.post("/api/v1/events", tags=["events"], summary="Send one event or a list of events")
    async def events(request: Request, store_id: Annotated[str, Depends(writer)]) -> JSONResponse:
        body = await request.body()  # at most its limit: BodyLimit counts it
        answers = await run_in_threadpool(
            ingest.accept_events,
            uow=rt.uow(),
            connector=rt.connectors["generic"],
            split=rt.split_batch,
            store_id=store_id,
            headers=dict(request.headers),
            body=body,
            now=rt.clock(),
        )
        counts = {
            s: sum(a.status == s for a in answers) for s in ("accepted", "duplicate", "rejected")
        }
        payload = {
            **counts,
            "results": [
                {
                    "index": a.index,
                    "status": a.status,
                    "delivery_id": a.delivery_id,
                    "error": a.error,
                }
                for a in answers
            ],
        }
        return JSONResponse(payload, status_code=422 if counts["rejected"] else 202)

    @app.get("/api/v1/cases", tags=["cases"], summary="List cases, newest first")
    async def list_cases(
        store_id: Annotated[str, Depends(reader)],
        status: Annotated[str | None, Query(description="open, recovered, lost, …")] = None,
        kind: Annotated[str | None, Query()] = None,
        since: Annotated[
            datetime | None, Query(description="created at or after (ISO 8601)")
        ] = None,
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=case_service.MAX_PAGE)] = 50,
    ) -> dict[str, Any]:
        since = instant(since, "since")
        page = await run_in_threadpool(
            case_service.list_cases,
            uow=rt.uow(),
            store_id=store_id,
            status=status,
            kind=kind,
            since=since,
            cursor=cursor,
            limit=limit,
        )
        found = [
            {**case_json(c), "why_not_sent": not_sent_json(page.why_not_sent(c))}
            for c in page.cases
        ]
        return {"cases": found, "next_cursor": page.next_cursor}

    @app.get("/api/v1/coupons", tags=["coupons"], summary="Coupons issued, in issue order")
    async def list_coupons(
        store_id: Annotated[str, Depends(reader)],
        push_state: Annotated[
            str | None,
            Query(description="pushed | exported (no connector: import them) | none (not tried)"),
        ] = None,
        since: Annotated[
            datetime | None, Query(description="issued at or after (ISO 8601)")
        ] = None,
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=coupon_service.MAX_PAGE)] = 100,
    ) -> dict[str, Any]:
        since = instant(since, "since")
        page = await run_in_threadpool(
            coupon_service.list_coupons,
            uow=rt.uow(),
            store_id=store_id,
            push_state=push_state,
            since=since,
            cursor=cursor,
            limit=limit,
        )
        return {"coupons": [c.to_json() for c in page.coupons], "next_cursor": page.next_cursor}

    @app.get(
        "/api/v1/alerts",
        tags=["operations"],
        summary="The store's alerts, newest first: complaint rate, sending paused",
    )
    async def list_alerts(
        store_id: Annotated[str, Depends(reader)],
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> dict[str, Any]:
        found = await run_in_threadpool(
            alert_service.list_alerts, uow=rt.uow(), store_id=store_id, limit=limit
        )
        return {
            "alerts": [
                {"at": iso(a.at), "type": a.type, "message": a.message, "data": a.data}
                for a in found
            ]
        }

    @app.get("/api/v1/cases/{case_id}", tags=["cases"], summary="One case with its timeline")
    async def get_case(
        case_id: CaseId, store_id: Annotated[str, Depends(reader)]
    ) -> dict[str, Any]:
        detail = await run_in_threadpool(
            case_service.get_case, uow=rt.uow(), store_id=store_id, case_id=case_id
        )
        return {
            **case_json(detail.case),
            "why_not_sent": not_sent_json(detail.why_not_sent),
            "messages": [
                {
                    "id": m.id,
                    "channel": m.channel,
                    "step": step,
                    "template": m.template,
                    "locale": m.locale,
                    "status": m.status,
                    "subject": m.subject,
                    "sent_at": iso(m.sent_at),
                    "opened_at": iso(m.opened_at),
                    "clicked_at": iso(m.clicked_at),
                    "opens": m.opens,
                    "clicks": m.clicks,
                    "coupon": m.coupon_code,
                    "error": m.error,
                }
                for m, step in detail.messages
            ],
            "steps": [
                {
                    "step": s.key,
                    "status": s.status,
                    "due_at": iso(s.due_at),
                    "channel": s.channel,
                    "outcome": s.outcome,
                    "attempts": s.attempts,
                }
                for s in detail.steps
            ],
            "timeline": [{"at": iso(at), "type": t, "data": d} for at, t, d in detail.events],
        }

    @app.post("/api/v1/cases/{case_id}/stop", tags=["cases"], summary="Stop the case's flow")
    async def stop_case(
        case_id: CaseId, store_id: Annotated[str, Depends(operator)]
    ) -> JSONResponse:
        cancelled = await run_in_threadpool(
            case_service.stop_case,
            uow=rt.uow(),
            store_id=store_id,
            case_id=case_id,
            now=rt.clock(),
        )
        return JSONResponse({"status": "stopped", "steps_cancelled": cancelled})

    @app.post(
        "/api/v1/feedback",
        tags=["messages"],
        summary="Report a complaint or a late bounce from your mail provider",
    )
    async def feedback(request: Request, store_id: Annotated[str, Depends(writer)]) -> JSONResponse:
        data = read_json(await request.body())  # at most its limit: BodyLimit counts it
        if not isinstance(data, dict):
            raise InvalidInput("body must be a JSON object: {type, email, message_id?}")
        header = data.get("message_id")
        result = await run_in_threadpool(
            feedback_service.record_feedback,
            uow=rt.uow(),
            store_id=store_id,
            kind=str(data.get("type", "")),
            email=str(data.get("email", "")),
            message_header_id=str(header) if header else None,
            now=rt.clock(),
        )
        return JSONResponse(
            {
                "suppressed": result.suppressed,
                "flows_stopped": result.flows_stopped,
                "complaint_state": result.complaint_state,
                "paused": result.paused,
            }
        )

    async def _on_list(request: Request, action: Any, **more: Any) -> Any:
        """Run a suppression-list ``action`` on the ``{channel, address}`` of a JSON body
        (never a URL: addresses stay out of access logs)."""
        data = read_json(await request.body())  # at most its limit: BodyLimit counts it
        if not isinstance(data, dict):
            raise InvalidInput("body must be a JSON object: {channel, address}")
        return await run_in_threadpool(
            action,
            uow=rt.uow(),
            channel=str(data.get("channel", "email")),
            address=str(data.get("address", "")),
            **more,
        )

    def _entry(found: suppression_service.Entry | None) -> dict[str, Any]:
        if found is None:
            return {"suppressed": False, "reason": None, "since": None}
        return {"suppressed": True, "reason": found.reason, "since": iso(found.since)}

    @app.post(
        "/api/v1/suppressions/check",
        tags=["messages"],
        summary="Is this address on the store's suppression list? (and why, since when)",
    )
    async def check_suppression(
        request: Request, store_id: Annotated[str, Depends(reader)]
    ) -> dict[str, Any]:
        return _entry(await _on_list(request, suppression_service.check, store_id=store_id))

    @app.post(
        "/api/v1/suppressions",
        tags=["messages"],
        summary="Put an address on the suppression list (do not contact); its flows stop",
    )
    async def add_suppression(
        request: Request, store_id: Annotated[str, Depends(writer)]
    ) -> dict[str, Any]:
        added = await _on_list(request, suppression_service.add, store_id=store_id, now=rt.clock())
        return {"suppressed": True, "new": added.new, "flows_stopped": added.flows_stopped}

    @app.post(
        "/api/v1/suppressions/remove",
        tags=["messages"],
        summary="Take an address off the suppression list (stopped flows stay stopped)",
    )
    async def remove_suppression(
        request: Request, store_id: Annotated[str, Depends(writer)]
    ) -> dict[str, Any]:
        found = await _on_list(request, suppression_service.remove, store_id=store_id)
        return {"removed": found is not None, "was": _entry(found)}

    @app.post(
        "/api/v1/warehouses",
        tags=["stock"],
        summary="Create or update warehouses",
        openapi_extra=takes(WarehousesIn),
    )
    async def put_warehouses(
        request: Request, store_id: Annotated[str, Depends(writer)]
    ) -> dict[str, int]:
        body = await _model(request, WarehousesIn)
        rows = [
            WarehouseRow(
                store_id=store_id,
                code=w.code,
                country=w.country.upper(),
                region=w.region,
                timezone=w.timezone,
                cutoff=w.cutoff,
                working_days=w.working_days,
            )
            for w in body.warehouses
        ]
        n = await run_in_threadpool(
            holds_service.import_warehouses,
            uow=rt.uow(),
            store_id=store_id,
            rows=rows,
            now=rt.clock(),
        )
        return {"warehouses": n}

    @app.post(
        "/api/v1/stock",
        tags=["stock"],
        summary="Set stock levels or move them",
        openapi_extra=takes(StockIn),
    )
    async def put_stock(
        request: Request, store_id: Annotated[str, Depends(writer)]
    ) -> dict[str, int]:
        body = await _model(request, StockIn)
        changes = [
            holds_service.StockChange(x.warehouse, x.sku, on_hand=x.on_hand, delta=x.delta)
            for x in body.levels
        ]
        n = await run_in_threadpool(
            holds_service.update_stock,
            uow=rt.uow(),
            store_id=store_id,
            changes=changes,
            now=rt.clock(),
        )
        return {"updated": n}

    @app.post(
        "/api/v1/products",
        tags=["stock"],
        summary="Set products: weight and catalogue",
        openapi_extra=takes(ProductsIn),
    )
    async def put_products(
        request: Request, store_id: Annotated[str, Depends(writer)]
    ) -> dict[str, int]:
        """What ``reclaim products import`` reads from a CSV: a product's shipping weight
        and/or its catalogue entry (what a message offers instead of a sold-out item). All or
        none: the first wrong entry is named and nothing is written."""
        body = await _model(request, ProductsIn)
        entries = [
            Product(
                sku=p.sku,
                name=p.name,
                category=p.category,
                price=p.price,
                currency=None if p.currency is None else p.currency.upper(),
                url=p.url,
                image_url=p.image_url,
            )
            for p in body.products
            if p.has_catalogue()
        ]
        weights = [(p.sku, p.weight_kg) for p in body.products if p.weight_kg is not None]
        catalogue, weighed = await run_in_threadpool(
            alternatives_service.import_products,
            uow=rt.uow(),
            store_id=store_id,
            products=entries,
            weights=weights,
            now=rt.clock(),
        )
        return {"catalogue": catalogue, "weights": weighed}

    @app.get("/api/v1/stock", tags=["stock"], summary="Stock of a SKU per warehouse")
    async def get_stock(
        store_id: Annotated[str, Depends(reader)],
        sku: Annotated[str | None, Query(max_length=255)] = None,
    ) -> dict[str, Any]:
        levels = await run_in_threadpool(
            holds_service.stock_of, uow=rt.uow(), store_id=store_id, sku=sku
        )
        return {
            "sku": sku,
            "available": sum(lv.available for lv in levels),
            "levels": [
                {
                    "warehouse": lv.warehouse,
                    "sku": lv.sku,
                    "on_hand": lv.on_hand,
                    "reserved": lv.reserved,
                    "available": lv.available,
                }
                for lv in levels
            ],
        }

    @app.post(
        "/api/v1/holds",
        tags=["stock"],
        summary="Reserve a pending order's items",
        openapi_extra=takes(HoldIn),
    )
    async def place_hold(
        request: Request, store_id: Annotated[str, Depends(writer)]
    ) -> JSONResponse:
        body = await _model(request, HoldIn)
        try:
            hold = await run_in_threadpool(
                holds_service.place_hold,
                uow=rt.uow(),
                store_id=store_id,
                order_external_id=body.order_id,
                items=[(i.sku, i.quantity) for i in body.items],
                now=rt.clock(),
            )
        except holds_service.OutOfStock as exc:
            return JSONResponse({"detail": str(exc), "skus": exc.skus}, status_code=409)
        return JSONResponse(hold_json(hold), status_code=201)

    @app.post(
        "/api/v1/orders/{order_id}/hold",
        tags=["stock"],
        summary="Extend an order's hold",
        openapi_extra=takes(ExtendIn),
    )
    async def extend_hold(
        order_id: Annotated[str, Path(max_length=255)],
        request: Request,
        store_id: Annotated[str, Depends(operator)],
    ) -> dict[str, Any]:
        body = await _model(request, ExtendIn)
        until = instant(body.until, "until")
        hold = await run_in_threadpool(
            holds_service.extend_hold,
            uow=rt.uow(),
            store_id=store_id,
            order_external_id=order_id,
            until=until,
            now=rt.clock(),
        )
        return hold_json(hold)

    @app.get(
        "/api/v1/fulfilment-options",
        tags=["stock"],
        summary="Ways to ship a cart to a destination: nearest, fastest, cheapest, greenest, split",
    )
    async def get_fulfilment_options(
        store_id: Annotated[str, Depends(reader)],
        country: Annotated[str, Query(pattern=r"^[A-Za-z]{2}$")],
        item: Annotated[list[str], Query(description="sku:quantity, repeated")],
        region: Annotated[str | None, Query(max_length=64)] = None,
    ) -> dict[str, Any]:
        items = []
        for i, raw in enumerate(item):
            sku, _, qty = raw.rpartition(":")
            if not sku or not qty.isdigit() or int(qty) < 1:
                raise InvalidInput(
                    f"item {raw!r} must be sku:quantity, e.g. MUG-1:2", field=f"item[{i}]"
                )
            items.append((sku, int(qty)))
        found = await run_in_threadpool(
            fulfilment_service.fulfilment_options,
            uow=rt.uow(),
            store_id=store_id,
            items=items,
            country=country.upper(),
            region=region,
            now=rt.clock(),
        )
        return {
            "unavailable": list(found.unavailable),
            "options": [
                {
                    "labels": [str(label) for label in o.labels],
                    "split": o.is_split,
                    "origin_country": o.origin_country,
                    "cost": str(o.cost),
                    "currency": o.currency,
                    "co2_kg": str(o.co2_kg),
                    "ship_on": o.promise.ship_on.isoformat(),
                    "delivery_earliest": o.promise.earliest.isoformat(),
                    "delivery_latest": o.promise.latest.isoformat(),
                    "days_min": o.promise.days_min,
                    "days_max": o.promise.days_max,
                    "parcels": [
                        {
                            "warehouse": p.warehouse.code,
                            "carrier": p.lane.carrier,
                            "service": p.lane.service,
                            "skus": [list(x) for x in p.items],
                            "cost": str(p.cost),
                        }
                        for p in o.parcels
                    ],
                }
                for o in found.options
            ],
        }

    @app.get(
        "/api/v1/logistics",
        tags=["logistics"],
        summary="The operations queue: logistics cases (stalled, customs hold, late, lost)",
    )
    async def get_logistics(
        store_id: Annotated[str, Depends(reader)],
        status: Annotated[str | None, Query(max_length=16)] = "open",
    ) -> dict[str, Any]:
        entries = await run_in_threadpool(
            logistics_service.queue, uow=rt.uow(), store_id=store_id, status=status, now=rt.clock()
        )
        return {
            "cases": [
                {
                    "case_id": e.case_id,
                    "status": e.status,
                    "kind": e.kind,
                    "shipment_id": e.shipment_id,
                    "order_id": e.order_id,
                    "carrier": e.carrier,
                    "tracking_number": e.tracking_number,
                    "tracking_url": e.tracking_url,
                    "shipment_status": e.shipment_status,
                    "detected_at": e.detected_at.isoformat(),
                    "opened_at": e.opened_at.isoformat(),
                    "days_late": e.days_late,
                }
                for e in entries
            ]
        }

    @app.get(
        "/api/v1/logistics/lanes",
        tags=["logistics"],
        summary="Per lane (warehouse → country): recent late share, median delay, slipping",
    )
    async def get_logistics_lanes(store_id: Annotated[str, Depends(reader)]) -> dict[str, Any]:
        rows = await run_in_threadpool(
            logistics_service.lanes, uow=rt.uow(), store_id=store_id, now=rt.clock()
        )
        return {
            "lanes": [
                {
                    "origin": r.origin,
                    "destination_country": r.destination_country,
                    "deliveries": r.deliveries,
                    "late": r.late,
                    "late_share": r.late_share,
                    "median_delay_days": r.median_delay_days,
                    "slipping": r.slipping,
                    "delay_days": r.delay_days,
                }
                for r in rows
            ]
        }

    @app.get("/healthz", tags=["operations"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["operations"], summary="The database answers and is migrated")
    async def readyz() -> JSONResponse:
        def check() -> str | None:
            try:
                with rt.engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return (
                    None
                    if rt.schema_ready()
                    else "database schema is not current: run `reclaim init`"
                )
            except Exception as exc:
                return f"database unavailable: {type(exc).__name__}"

        problem = await run_in_threadpool(check)
        if problem:
            return JSONResponse({"status": "unavailable", "detail": problem}, status_code=503)
        return JSONResponse({"status": "ready"})

    add_tracking_routes(app, rt)
    return app
