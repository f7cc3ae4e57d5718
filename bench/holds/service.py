"""Service level: ``holds.place_hold`` in ``C`` threads against plain conditional UPDATEs."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from bench.harness.db import pg_sessions
from bench.harness.stats import quantiles
from bench.holds.runs import CpuMeter, Result, Run, log_run
from bench.holds.stock import (
    DB_NAME,
    FLOOR_SQL,
    WAREHOUSE,
    Case,
    Order,
    Shop,
    audit,
    orders,
    reset,
)
from reclaim.bootstrap import Runtime
from reclaim.services import holds


def drive(
    call: Callable[[Order], str], work: Sequence[Order], clients: int
) -> tuple[float, list[float], Counter[str], list[str]]:
    """``clients`` threads take the next order until none is left; returns the elapsed time,
    the latencies, the outcomes and the first failures."""
    cursor = iter(range(len(work)))
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    lats: list[list[float]] = [[] for _ in range(clients)]
    outs: list[Counter[str]] = [Counter() for _ in range(clients)]
    failures: list[str] = []

    def worker(me: int) -> None:
        mine, seen = lats[me], outs[me]
        start.wait()
        while True:
            with lock:
                k = next(cursor, None)
            if k is None:
                return
            t = time.perf_counter()
            try:
                outcome = call(work[k])
            except Exception as exc:  # counted and shown: the audit then fails the run
                outcome = type(exc).__name__
                if len(failures) < 3:
                    failures.append(f"{outcome}: {exc}"[:200])
            mine.append(time.perf_counter() - t)
            seen[outcome] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    return elapsed, [x for lat in lats for x in lat], sum(outs, Counter()), failures


def service_calls(rt: Runtime, shop: Shop) -> dict[str, Callable[[Order], str]]:
    def real(order: Order) -> str:
        oid, items = order
        try:
            holds.place_hold(
                uow=rt.uow(),
                store_id=shop.store_id,
                order_external_id=oid,
                items=items,
                now=datetime.now(UTC),
            )
        except holds.OutOfStock:
            return "409"
        return "201"

    def floor(order: Order) -> str:
        _, items = order
        params = {"store": shop.store_id, "warehouse": WAREHOUSE, "sku": items[0][0]}
        with rt.engine.begin() as conn:
            taken = conn.execute(FLOOR_SQL, params).rowcount
        return "201" if taken else "409"

    return {"floor": floor, "real": real}


def bench_service(
    db: str,
    url: str,
    rt: Runtime,
    shop: Shop,
    case: Case,
    *,
    n: int,
    warm: int,
    rounds: int,
    clients: int,
    skus: int,
) -> Result:
    result = Result(db=db, level="service", case=case.name)
    calls = service_calls(rt, shop)
    dbname = DB_NAME if db == "postgresql" else None
    plan = [(0, k) for k in ("floor", "real")] + [
        (r, k) for r in range(1, rounds + 1) for k in ("floor", "real")
    ]
    for rnd, kind in plan:
        size = warm if rnd == 0 else n
        work = orders(case.name, size, f"s{rnd}", skus)
        reset(rt, shop, case, size)
        sessions0 = pg_sessions(url) if dbname else 0
        meter = CpuMeter(None, dbname)
        meter.start()
        elapsed, lat, answers, failures = drive(calls[kind], work, clients)
        cpu = meter.stop(elapsed)
        sessions = pg_sessions(url) - sessions0 if dbname else 0
        p50, p99, worst = quantiles(lat)
        run = Run(
            db=db,
            level="service",
            case=case.name,
            kind=kind,
            round=rnd,
            n=size,
            lines=sum(len(lines) for _, lines in work),
            elapsed=elapsed,
            rate=size / elapsed,
            answers=dict(answers),
            p50_ms=p50,
            p99_ms=p99,
            max_ms=worst,
            app_cpu_ms=1000 * cpu["app"] / size,
            client_cpu_ms=0.0,
            pg_cpu_ms=1000 * cpu["pg"] / size,
            pg_sessions=sessions,
            box_busy=cpu["box_busy"],
            rest_cores=cpu["rest_cores"],
            problems=audit(rt, case=case, kind=kind, work=work, answers=answers),
            failures=failures,
        )
        result.runs.append(run)
        log_run(run)
    return result
