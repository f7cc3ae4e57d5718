"""Part 2, lateness under a burst: ``N`` steps due at one instant, done by real workers."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from bench.harness.db import settle
from bench.harness.output import console
from bench.harness.sink import SinkProcess
from bench.harness.stats import quantile
from bench.send.seeding import seed
from bench.send.shop import FAR, awake, new_shop, runtime
from bench.send.throughput import CpuMeter
from reclaim.adapters.db.tables import messages, steps
from reclaim.entrypoints import worker


@dataclass
class BurstResult:
    db: str
    workers: int
    n: int
    seed_s: float
    ref_rate: float  # part 1's engine rate for this database and W (NaN: not measured)
    due_at: float  # epoch seconds
    received: int
    duplicates: int
    lateness: dict[str, float]  # s: first, p50, p99, max
    excess: dict[str, float]  # s: p50, p99, max (lateness - rank / ref_rate)
    excess_own: dict[str, float]  # s: p50, p99, max (lateness - rank / the burst's own rate)
    rate: float  # the burst's own sustained rate: (N - 1) / (last arrival - first arrival)
    rate_tenths: list[float]  # messages/s in each tenth of the arrivals
    steps: dict[str, int]  # first steps by status at the end
    sent_at_behind: dict[str, float]  # s: arrival - the message's recorded sent_at (p50, p99, max)
    messages: dict[str, int]  # messages by status
    cpu: dict[str, float]


def bench_burst(
    db: str,
    url: str,
    sink: SinkProcess,
    *,
    workers: int,
    n: int,
    ref_rate: float,
) -> BurstResult:
    rt = runtime(url, sink)  # the system clock: the workers' now is the wall clock
    dbname = url.rsplit("/", 1)[1] if db == "postgresql" else None
    try:
        start = datetime.now(UTC)
        shop = new_shop(rt, now=start)
        expected_h = n / (ref_rate if ref_rate == ref_rate else 50) / 3600 + 0.25
        markets = awake(start, hours=expected_h)
        seed_s = seed(rt, shop, lambda k: FAR, n, markets=markets, label=f"burst of {n:,}")
        settle(rt)
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=worker.run_forever,
                args=(rt, stop),
                kwargs={"poll_seconds": rt.settings.worker_poll_seconds},
                name=f"worker-{k}",
                daemon=True,
            )
            for k in range(workers)
        ]
        for th in threads:
            th.start()
        time.sleep(1.5)  # their first (idle) rounds are done: they poll
        sink.take()
        due = math.ceil(time.time()) + 2
        due_at = datetime.fromtimestamp(due, UTC)
        with rt.engine.begin() as conn:
            conn.execute(
                steps.update()
                .where(steps.c.status == "scheduled", steps.c.due_at == FAR)
                .values(due_at=due_at)
            )
        if db == "postgresql":  # what autovacuum's ANALYZE would know of a table this busy
            with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE steps")
        released = time.time()
        if released > due:
            console.print(
                f"[red]  the burst was released {released - due:.1f} s after its due time"
            )
        meter = CpuMeter(sink, dbname)
        meter.start()
        progress = Progress(
            TextColumn(f"  burst {db} W={workers}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task("", total=n)
            last, last_change = 0, time.monotonic()
            while True:
                time.sleep(0.5)
                got = int(sink.call("count"))
                progress.update(task, completed=got)
                if got != last:
                    last, last_change = got, time.monotonic()
                if got >= n or time.monotonic() - last_change > 60:
                    break
            time.sleep(1.0)  # a straggler sent twice would arrive now
        cpu = meter.stop()
        stop.set()
        for th in threads:
            th.join(60)
        times, ids, _, _ = sink.take()
        with rt.engine.connect() as conn:
            step_counts = {
                str(s): int(c)
                for s, c in conn.exec_driver_sql(
                    "SELECT status, count(*) FROM steps WHERE position = 0 GROUP BY status"
                )
            }
            message_counts = {
                str(s): int(c)
                for s, c in conn.exec_driver_sql(
                    "SELECT status, count(*) FROM messages GROUP BY status"
                )
            }
            recorded = {i: t for i, t in conn.execute(select(messages.c.id, messages.c.sent_at))}
    finally:
        rt.close()
    # How far before its real send each message's recorded sent_at (and Date header) lies.
    behind = sorted(
        t - recorded[i].timestamp()
        for t, i in zip(times, ids, strict=True)
        if recorded.get(i) is not None
    )
    arrivals = sorted(times)
    lateness = [t - due for t in arrivals]
    excess = sorted(
        lat - (k + 1) / ref_rate if ref_rate == ref_rate else float("nan")
        for k, lat in enumerate(lateness)
    )
    # The same against the burst's own sustained rate (first to last arrival): what is left
    # is the start-up delay and any unevenness, not a difference between the two runs' rates.
    own = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else float("nan")
    excess_own = sorted(lat - (k + 1) / own for k, lat in enumerate(lateness))
    tenth = max(1, len(arrivals) // 10)
    tenths = []
    for k in range(0, len(arrivals) - tenth + 1, tenth):
        chunk = arrivals[k : k + tenth]
        span = chunk[-1] - (arrivals[k - 1] if k else chunk[0])
        tenths.append(len(chunk) / span if span > 0 else float("nan"))
    return BurstResult(
        db=db,
        workers=workers,
        n=n,
        seed_s=seed_s,
        ref_rate=ref_rate,
        due_at=due,
        received=len(times),
        duplicates=sum(c - 1 for c in Counter(ids).values() if c > 1),
        lateness={
            "first": lateness[0] if lateness else float("nan"),
            "p50": quantile(lateness, 0.50),
            "p99": quantile(lateness, 0.99),
            "max": lateness[-1] if lateness else float("nan"),
        },
        excess={
            "p50": quantile(excess, 0.50),
            "p99": quantile(excess, 0.99),
            "max": excess[-1] if excess else float("nan"),
        },
        excess_own={
            "p50": quantile(excess_own, 0.50),
            "p99": quantile(excess_own, 0.99),
            "max": excess_own[-1] if excess_own else float("nan"),
        },
        rate=own,
        rate_tenths=tenths,
        steps=step_counts,
        sent_at_behind={
            "p50": quantile(behind, 0.50),
            "p99": quantile(behind, 0.99),
            "max": behind[-1] if behind else float("nan"),
        },
        messages=message_counts,
        cpu=cpu,
    )
