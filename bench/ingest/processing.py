"""Part 2, processing: deliveries accepted into the inbox, processed, and cases detected."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text

from bench.harness.output import console
from bench.ingest.customers import checkout_token, customer, pick_items
from bench.ingest.payloads import checkout_payload, dumps, order_payload, signed
from bench.ingest.seeding import T0, new_store, seed, seeded_occurred
from reclaim.bootstrap import Runtime, bootstrap, init_database
from reclaim.config import Settings
from reclaim.services import detection, ingest


@dataclass
class ProcRound:
    events: int
    processed: int
    failed: int
    accept_us: float  # service-level accept, per delivery
    process_us: float  # per event
    due: int
    opened: int
    detect_us: float  # per case opened


@dataclass
class ProcResult:
    db: str
    stored: int
    seed_s: float
    rows: dict[str, int]
    rounds: list[ProcRound] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in self.rounds)


def processing_deliveries(
    rng: random.Random, *, stored: int, n: int, at: datetime, tag: str
) -> Iterator[tuple[bytes, dict[str, str]]]:
    """``n`` Shopify deliveries: 40 % new customers' checkouts, 25 % stored customers' new
    checkouts, 15 % updates of stored open checkouts (their case refreshes), 10 % orders paid
    from a stored open checkout (its case recovers), 10 % orders paid by stored customers."""
    for k in range(n):
        roll = rng.random()
        updated = at - timedelta(seconds=rng.randrange(600))
        number = rng.randrange(10**9)
        items = pick_items(number)
        if roll < 0.65:
            cust = customer(20_000_000 + number if roll < 0.40 else rng.randrange(stored // 2))
            token = checkout_token(f"{tag}-{k}")
            payload = checkout_payload(
                token=token,
                number=number,
                cust=cust,
                items=items,
                created_at=updated - timedelta(minutes=3),
                updated_at=updated,
            )
            topic = "checkouts/update"
        elif roll < 0.80:
            i = 20 * rng.randrange(stored // 20)  # a stored open checkout (and its case)
            token = checkout_token(f"seed-{i}")
            payload = checkout_payload(
                token=token,
                number=i,
                cust=customer(i // 2),
                items=items,
                created_at=seeded_occurred(i) - timedelta(minutes=12),
                updated_at=updated,
            )
            topic = "checkouts/update"
        else:
            if roll < 0.90:
                i = 20 * rng.randrange(stored // 20)
                cust, checkout = customer(i // 2), checkout_token(f"seed-{i}")
                items = pick_items(i)
            else:
                cust, checkout = customer(rng.randrange(stored // 2)), None
            payload = order_payload(
                order_id=6_000_000_000_000 + number,
                cust=cust,
                items=items,
                checkout=checkout,
                created_at=updated - timedelta(minutes=1),
                updated_at=updated,
            )
            topic = "orders/paid"
        body = dumps(payload)
        yield body, signed(body, topic, f"{tag}-{k}", updated)


def table_counts(rt: Runtime) -> dict[str, int]:
    with rt.engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("cases", "checkouts", "orders", "inbox")
        }


def bench_processing(
    db: str, url: str, *, sizes: Sequence[int], events: int, rounds: int
) -> list[ProcResult]:
    rt = bootstrap(Settings(database_url=url))
    init_database(rt)
    store_id = new_store(rt, activated=T0 - timedelta(days=400))
    shopify = rt.connectors["shopify"]
    results = []
    seeded = 0
    try:
        for size_index, size in enumerate(sorted(sizes)):
            seed_s = seed(rt, store_id, seeded, size)
            seeded = size
            result = ProcResult(db=db, stored=size, seed_s=seed_s, rows=table_counts(rt))
            results.append(result)
            for r in range(rounds):
                # each round on its own hour, so only its own checkouts come due at detection
                now = T0 + timedelta(hours=2 * (size_index * rounds + r))
                rng = random.Random(f"{db}-{size}-{r}")
                batch = list(
                    processing_deliveries(rng, stored=size, n=events, at=now, tag=f"p{size}-{r}")
                )
                t = time.perf_counter()
                for body, headers in batch:
                    answer = ingest.accept_webhook(
                        uow=rt.uow(),
                        connector=shopify,
                        store_id=store_id,
                        headers=headers,
                        body=body,
                        now=now,
                    )
                    if answer.status != "accepted":
                        raise RuntimeError(f"delivery not accepted: {answer}")
                accept_s = time.perf_counter() - t
                if db == "postgresql":  # autovacuum's job on a real inbox, done here untimed
                    with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                        c.exec_driver_sql("ANALYZE inbox")
                stats = ingest.ProcessStats()
                t = time.perf_counter()
                while True:
                    done = ingest.process_inbox(uow=rt.uow(), connectors=rt.connectors, now=now)
                    stats.processed += done.processed
                    stats.ignored += done.ignored
                    stats.failed += done.failed
                    if done.total < 200:
                        break
                process_s = time.perf_counter() - t
                if stats.failed:
                    with rt.uow() as uow:
                        dead = uow.inbox.list(store_id=store_id, statuses=["failed"], limit=3)
                    console.print(
                        f"[red]{stats.failed} deliveries failed: {[d.error for d in dead]}"
                    )
                t = time.perf_counter()
                found = detection.detect_due(uow=rt.uow(), now=now + timedelta(minutes=31))
                detect_s = time.perf_counter() - t
                rnd = ProcRound(
                    events=events,
                    processed=stats.processed,
                    failed=stats.failed,
                    accept_us=1e6 * accept_s / events,
                    process_us=1e6 * process_s / max(1, stats.total),
                    due=found.opened + found.skipped,
                    opened=found.opened,
                    detect_us=1e6 * detect_s / max(1, found.opened),
                )
                result.rounds.append(rnd)
                console.print(
                    f"  {db:10} {size:>9,} stored, round {r + 1}/{rounds}: "
                    f"{rnd.process_us:7.0f} µs/event ({1e6 / rnd.process_us:5.0f}/s), "
                    f"accept {rnd.accept_us:5.0f} µs, detection {rnd.detect_us:6.0f} µs/case "
                    f"({rnd.opened} opened of {rnd.due} due), {rnd.failed} failed"
                )
    finally:
        rt.close()
    return results
