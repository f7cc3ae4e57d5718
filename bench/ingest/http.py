"""Part 1, HTTP accept: the floor route, the client process, and the alternating runs.

The server is :func:`bench.harness.server.running` with :func:`add_floor_route`; the client
process builds and signs its deliveries before any clock starts and posts them with the
harness's load generator.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing as mp
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import insert

from bench.harness import server as bench_server
from bench.harness.client import Tally, httpx_load, raw_load
from bench.harness.cpu import cpu_seconds, machine_busy
from bench.harness.db import pg_sessions
from bench.harness.output import console
from bench.harness.stats import quantiles
from bench.ingest.payloads import http_delivery
from bench.ingest.seeding import new_store
from reclaim.adapters.db.tables import inbox
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings

FLOOR_PATH = "/_bench/floor/{store_id}"


def add_floor_route(app: Any, rt: Runtime) -> None:
    """The floor: keep the raw body with the least work the same server can do."""

    def keep(store_id: str, body: bytes) -> int:
        with rt.uow() as uow:
            delivery_id = uow.execute(
                insert(inbox)
                .values(
                    store_id=store_id,
                    source="bench",
                    topic="floor",
                    digest=hashlib.sha256(body).hexdigest(),
                    headers={},
                    body=body,
                    received_at=rt.clock(),
                    status="ignored",
                    attempts=0,
                    duplicates=0,
                )
                .returning(inbox.c.id)
            ).scalar_one()
            uow.commit()
        return int(delivery_id)

    @app.post(FLOOR_PATH, include_in_schema=False)
    async def floor(request: Request, store_id: str) -> JSONResponse:
        body = await request.body()
        delivery_id = await run_in_threadpool(keep, store_id, body)
        return JSONResponse({"status": "accepted", "delivery_id": delivery_id})


_PREPARED: dict[str, Any] = {}


def client_prepare(spec: dict[str, Any]) -> None:
    """In the client process: build and sign the run's deliveries, before any clock starts."""
    n, path, host, port = spec["n"], spec["path"], spec["host"], spec["port"]
    deliveries = [http_delivery(spec["tag"], k) for k in range(n)]
    _PREPARED.clear()
    _PREPARED.update(spec, deliveries=deliveries)
    if spec["client"] != "httpx":
        _PREPARED["requests"] = [
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Length: {len(body)}\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "\r\n"
            ).encode("latin-1")
            + body
            for body, headers in deliveries
        ]


def client_go() -> dict[str, Any]:
    """In the client process: post the prepared deliveries, ``concurrency`` at a time."""
    spec = _PREPARED
    n, concurrency, host, port = spec["n"], spec["concurrency"], spec["host"], spec["port"]
    tally = Tally()
    cpu0 = time.process_time()
    if spec["client"] == "httpx":
        base = f"http://{host}:{port}"
        load = httpx_load(base, spec["path"], spec["deliveries"], concurrency, tally)
    else:
        load = raw_load(host, port, spec["requests"], concurrency, tally)
    elapsed = asyncio.run(load)
    cpu = time.process_time() - cpu0
    p50, p99, _ = quantiles(tally.latencies)
    return {
        "n": n,
        "ok": tally.statuses["accepted"],
        "statuses": dict(tally.statuses),
        "failures": tally.failures,
        "elapsed": elapsed,
        "rate": n / elapsed,
        "p50_ms": p50,
        "p99_ms": p99,
        "client_cpu": cpu,
    }


@dataclass
class HttpRun:
    endpoint: str
    rate: float
    n: int
    ok: int
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float  # per request
    client_cpu_ms: float
    pg_sessions: int  # PostgreSQL sessions opened during the run (pool overflow churn)
    machine_busy: float  # 0..1 of all cores
    rest_cores: float  # CPU used meanwhile by the rest of the box: PostgreSQL, anything else
    statuses: dict[str, int]
    failures: list[str]


@dataclass
class HttpResult:
    db: str
    requests: int
    concurrency: int
    runs: list[HttpRun] = field(default_factory=list)

    def median(self, endpoint: str, attr: str = "rate") -> float:
        return statistics.median(getattr(r, attr) for r in self.runs if r.endpoint == endpoint)

    @property
    def ratio(self) -> float:
        return self.median("real") / self.median("floor")

    @property
    def failures(self) -> int:
        return sum(r.n - r.ok for r in self.runs)


def bench_http(
    db: str, url: str, *, requests: int, concurrency: int, rounds: int, client_kind: str
) -> HttpResult:
    rt = bootstrap(Settings(database_url=url))
    init_database(rt)
    store = new_store(rt, activated=datetime.now(UTC) - timedelta(days=1))
    rt.close()
    ctx = mp.get_context("spawn")
    result = HttpResult(db=db, requests=requests, concurrency=concurrency)
    pg = db == "postgresql"
    paths = {
        "floor": FLOOR_PATH.format(store_id=store),
        "real": f"/webhooks/shopify/{store}",
    }
    with (
        bench_server.running(url, add_floor_route) as server,
        ProcessPoolExecutor(max_workers=1, mp_context=ctx) as client,
    ):
        common = {"host": "127.0.0.1", "port": server.port, "concurrency": concurrency,
                  "client": client_kind}  # fmt: skip
        warm = min(requests, max(300, requests // 5))
        for endpoint in ("floor", "real"):
            spec = {**common, "path": paths[endpoint], "n": warm, "tag": f"warm-{endpoint}"}
            client.submit(client_prepare, spec).result()
            out = client.submit(client_go).result()
            if out["ok"] != warm:
                console.print(f"[red]warm-up {endpoint}: {out['statuses']} {out['failures']}")
        if pg:  # the statistics autovacuum keeps for a table that has been filling a while
            with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
                conn.execute("ANALYZE inbox")
        plan = [(r, e) for r in range(rounds) for e in ("floor", "real")]
        for r, endpoint in plan:
            # the same bodies go to both endpoints of a round (tag without the endpoint)
            spec = {**common, "path": paths[endpoint], "n": requests, "tag": f"run{r}"}
            client.submit(client_prepare, spec).result()
            sessions0 = pg_sessions(url) if pg else 0
            s0, m0 = cpu_seconds(server.proc.pid), machine_busy()
            out = client.submit(client_go).result()
            s1, m1 = cpu_seconds(server.proc.pid), machine_busy()
            sessions = pg_sessions(url) - sessions0 if pg else 0
            tick = os.sysconf("SC_CLK_TCK")
            rest = (m1[0] - m0[0]) / tick - (s1 - s0) - out["client_cpu"]
            run = HttpRun(
                endpoint=endpoint,
                rate=out["rate"],
                n=out["n"],
                ok=out["ok"],
                p50_ms=out["p50_ms"],
                p99_ms=out["p99_ms"],
                server_cpu_ms=1000 * (s1 - s0) / requests,
                client_cpu_ms=1000 * out["client_cpu"] / requests,
                pg_sessions=sessions,
                machine_busy=(m1[0] - m0[0]) / max(1, m1[1] - m0[1]),
                rest_cores=max(0.0, rest / out["elapsed"]),
                statuses=out["statuses"],
                failures=out["failures"],
            )
            result.runs.append(run)
            note = "" if run.ok == run.n else f"  [red]{run.n - run.ok} failed: {run.failures}"
            console.print(
                f"  {db:10} {endpoint:5} round {r + 1}/{rounds}: {run.rate:8.0f} deliveries/s"
                f"  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms"
                f"  CPU ms/req: server {run.server_cpu_ms:.2f} client {run.client_cpu_ms:.2f}"
                f"  box {run.machine_busy:.0%}, rest of box {run.rest_cores:.2f} cores"
                + (f", {run.pg_sessions} PostgreSQL sessions opened" if pg else "")
                + note
            )
    return result
