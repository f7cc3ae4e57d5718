"""Part 3, claim cost vs backlog: one claim of a batch with 10k and then 1M future steps."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, select

from bench.harness.db import settle
from bench.harness.output import console
from bench.send.seeding import seed
from bench.send.shop import BATCH, MARKETS, T_CLAIM, new_shop, runtime
from reclaim.adapters.db.tables import steps
from reclaim.bootstrap import Runtime
from reclaim.services import steps as delivery


@dataclass
class ClaimResult:
    db: str
    future: int
    due: int
    seed_s: float
    statement_us: float  # median: the claim's UPDATE … RETURNING
    transaction_us: float  # median: with its BEGIN and COMMIT, as run_due_steps does it
    claimed: int
    plan: list[str]


def claim(uow: Any, now: datetime) -> Sequence[int]:
    """One claim as ``run_due_steps`` makes it (its batch, its lease, a claim token)."""
    return uow.steps.claim(  # type: ignore[no-any-return]
        now=now, lease_until=now + delivery.LEASE, limit=BATCH, token="bench-claims"
    )


def claim_sql(rt: Runtime, now: datetime) -> tuple[str, Any]:
    """The claim statement exactly as the driver receives it, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def listen(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        head = statement.lstrip().upper()
        if head.startswith("UPDATE STEPS") or (head.startswith("WITH") and "UPDATE STEPS" in head):
            seen.append((statement, params))

    event.listen(rt.engine, "before_cursor_execute", listen)
    try:
        with rt.uow() as uow:
            claim(uow, now)
            uow.rollback()
    finally:
        event.remove(rt.engine, "before_cursor_execute", listen)
    return seen[0]


def explain_claim(rt: Runtime, now: datetime) -> list[str]:
    statement, params = claim_sql(rt, now)
    raw = rt.engine.raw_connection()
    try:
        cur = raw.cursor()
        if rt.engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            lines = [str(r[0]) for r in cur.fetchall()]
            raw.rollback()  # EXPLAIN ANALYZE ran the UPDATE
        else:
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            lines = [f"{'  ' * 0}{r[3]} (id {r[0]}, parent {r[1]})" for r in cur.fetchall()]
        cur.close()
    finally:
        raw.close()
    return lines


def time_claims(rt: Runtime, now: datetime, reps: int) -> tuple[float, float, int]:
    """Median µs of the claim statement alone and of the claim as ``run_due_steps`` makes it
    (a fresh unit of work: connection, BEGIN, the statement, COMMIT), over ``reps`` claims
    each; every claimed batch is put back (untimed), so each claim sees the same table."""

    def put_back(ids: Sequence[int]) -> None:
        with rt.engine.begin() as conn:
            conn.execute(
                steps.update()
                .where(steps.c.id.in_(list(ids)))
                .values(status="scheduled", lease_until=None, attempts=0)
            )

    statement, transaction, claimed = [], [], 0
    for rep in range(reps + 5):  # the first five warm the caches
        with rt.uow() as uow:
            uow.execute(select(1))  # connection, BEGIN: not the statement's cost
            t0 = time.perf_counter()
            ids = claim(uow, now)
            t1 = time.perf_counter()
            uow.commit()
        put_back(ids)
        uow = rt.uow()
        t2 = time.perf_counter()
        with uow:
            again = claim(uow, now)
            uow.commit()
        t3 = time.perf_counter()
        put_back(again)
        if rep >= 5:
            statement.append(1e6 * (t1 - t0))
            transaction.append(1e6 * (t3 - t2))
            claimed = len(ids)
    return statistics.median(statement), statistics.median(transaction), claimed


def bench_claim(
    db: str, url: str, *, sizes: Sequence[int], due: int, reps: int
) -> list[ClaimResult]:
    rt = runtime(url, None)
    results = []
    try:
        shop = new_shop(rt, now=T_CLAIM)
        # Due steps of the last hour, and future ones spread over the next 72 h (the 24 h and
        # 72 h steps of running flows), all with their cases.
        seed(
            rt,
            shop,
            lambda k: T_CLAIM - timedelta(seconds=1 + (k * 7) % 3600),
            due,
            markets=MARKETS,
            label=f"{due:,} due steps",
        )
        seeded = 0
        for size in sorted(sizes):
            seed_s = seed(
                rt,
                shop,
                lambda k: T_CLAIM + timedelta(seconds=60 + (k * 7919) % (72 * 3600)),
                size - seeded,
                markets=MARKETS,
                label=f"future steps {seeded:,}→{size:,}",
            )
            seeded = size
            settle(rt)
            plan = explain_claim(rt, T_CLAIM)
            stmt_us, tx_us, claimed = time_claims(rt, T_CLAIM, reps)
            results.append(ClaimResult(db, size, due, seed_s, stmt_us, tx_us, claimed, plan))
            console.print(
                f"  {db:10} {size:>9,} future steps: claim of {claimed} "
                f"{stmt_us:7.0f} µs (statement), {tx_us:7.0f} µs (with its transaction)"
            )
            for line in plan:
                console.print(f"      {line}", highlight=False, markup=False)
    finally:
        rt.close()
    return results
