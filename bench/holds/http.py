"""HTTP: ``POST /api/v1/holds`` against the floor route, from a separate client process."""

from __future__ import annotations

import multiprocessing as mp
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from bench.harness import server as bench_server
from bench.harness.client import Tally, raw_load
from bench.harness.db import pg_sessions
from bench.harness.stats import quantiles
from bench.holds.runs import CpuMeter, Result, Run, log_run
from bench.holds.stock import (
    DB_NAME,
    FLOOR_PATH,
    FLOOR_SQL,
    WAREHOUSE,
    Case,
    Shop,
    audit,
    orders,
    reset,
)
from reclaim.bootstrap import Runtime


def add_floor_route(app: FastAPI, rt: Runtime, store_id: str) -> None:
    """The HTTP floor: the plain conditional UPDATE, in the threadpool like the real handler."""

    def take(sku: str) -> bool:
        params = {"store": store_id, "warehouse": WAREHOUSE, "sku": sku}
        with rt.engine.begin() as conn:
            return bool(conn.execute(FLOOR_SQL, params).rowcount)

    @app.post(FLOOR_PATH, include_in_schema=False)
    async def floor(request: Request, sku: str) -> JSONResponse:
        await request.body()  # the same body as the real request travels and is read
        taken = await run_in_threadpool(take, sku)
        return JSONResponse({"sku": sku}, status_code=201 if taken else 409)


class HoldTally(Tally):
    """Answers counted by status code (201 reserved, 409 out of stock, anything else)."""

    def answer(self, started: float, code: int, data: bytes) -> None:
        self.latencies.append(time.perf_counter() - started)
        self.statuses[str(code)] += 1
        if code not in (201, 409) and len(self.failures) < 3:
            self.failures.append(f"{code} {data[:160].decode(errors='replace')}")


_PREPARED: dict[str, Any] = {}


def client_prepare(spec: dict[str, Any]) -> None:
    """In the client process: build the run's requests, before any clock starts."""
    host, port, real = spec["host"], spec["port"], spec["kind"] == "real"
    requests = []
    for oid, lines in orders(spec["case"], spec["n"], spec["tag"], spec["skus"]):
        body = orjson.dumps(
            {"order_id": oid, "items": [{"sku": s, "quantity": q} for s, q in lines]}
        )
        path = "/api/v1/holds" if real else FLOOR_PATH.format(sku=lines[0][0])
        auth = f"Authorization: Bearer {spec['api_key']}\r\n" if real else ""
        requests.append(
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\n{auth}Content-Length: {len(body)}\r\n\r\n"
            ).encode("latin-1")
            + body
        )
    _PREPARED.clear()
    _PREPARED.update(spec, requests=requests)


def client_go() -> dict[str, Any]:
    """In the client process: post the prepared requests, ``clients`` at a time."""
    spec = _PREPARED
    tally = HoldTally()
    cpu0 = time.process_time()
    elapsed = asyncio_run(
        raw_load(spec["host"], spec["port"], spec["requests"], spec["clients"], tally)
    )
    p50, p99, worst = quantiles(tally.latencies)
    return {
        "elapsed": elapsed,
        "answers": dict(tally.statuses),
        "failures": tally.failures,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": worst,
        "client_cpu": time.process_time() - cpu0,
    }


def asyncio_run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


def bench_http(
    db: str,
    url: str,
    rt: Runtime,
    shop: Shop,
    cases: Sequence[Case],
    *,
    n: int,
    warm: int,
    rounds: int,
    clients: int,
    skus: int,
) -> list[Result]:
    ctx = mp.get_context("spawn")
    dbname = DB_NAME if db == "postgresql" else None
    results = []
    with (
        bench_server.running(url, add_floor_route, shop.store_id, ready_timeout=120) as server,
        ProcessPoolExecutor(max_workers=1, mp_context=ctx) as client,
    ):
        common = {"host": "127.0.0.1", "port": server.port, "clients": clients, "skus": skus,
                  "api_key": shop.api_key}  # fmt: skip
        for case in cases:
            result = Result(db=db, level="http", case=case.name)
            results.append(result)
            plan = [(0, k) for k in ("floor", "real")] + [
                (r, k) for r in range(1, rounds + 1) for k in ("floor", "real")
            ]
            for rnd, kind in plan:
                size = warm if rnd == 0 else n
                tag = f"h{rnd}"
                spec = {**common, "case": case.name, "kind": kind, "n": size, "tag": tag}
                client.submit(client_prepare, spec).result()
                reset(rt, shop, case, size)
                sessions0 = pg_sessions(url) if dbname else 0
                meter = CpuMeter(server.proc.pid, dbname)
                meter.start()
                out = client.submit(client_go).result()
                cpu = meter.stop(out["elapsed"], out["client_cpu"])
                sessions = pg_sessions(url) - sessions0 if dbname else 0
                work = orders(case.name, size, tag, skus)
                answers = Counter(out["answers"])
                run = Run(
                    db=db,
                    level="http",
                    case=case.name,
                    kind=kind,
                    round=rnd,
                    n=size,
                    lines=sum(len(lines) for _, lines in work),
                    elapsed=out["elapsed"],
                    rate=size / out["elapsed"],
                    answers=dict(answers),
                    p50_ms=out["p50_ms"],
                    p99_ms=out["p99_ms"],
                    max_ms=out["max_ms"],
                    app_cpu_ms=1000 * cpu["app"] / size,
                    client_cpu_ms=1000 * out["client_cpu"] / size,
                    pg_cpu_ms=1000 * cpu["pg"] / size,
                    pg_sessions=sessions,
                    box_busy=cpu["box_busy"],
                    rest_cores=cpu["rest_cores"],
                    problems=audit(rt, case=case, kind=kind, work=work, answers=answers),
                    failures=out["failures"],
                )
                result.runs.append(run)
                log_run(run)
    return results
