"""Part 1, send throughput: the engine in ``W`` threads against the smtplib floor.

Floor and engine alternate; the floor replays the engine's own warm-up messages, byte for
byte. :class:`CpuMeter` splits the CPU between this process, the sink, the run's PostgreSQL
backends and the rest of the box.
"""

from __future__ import annotations

import cProfile
import itertools
import os
import smtplib
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness.cpu import cpu_seconds, machine_busy, pg_backends_cpu
from bench.harness.output import console
from bench.harness.sink import SinkProcess
from bench.send.phases import phase_split, phase_timers, profile_top
from bench.send.seeding import seed
from bench.send.shop import DOMAIN, HELO, T_SEND, awake, new_shop, runtime
from reclaim.bootstrap import Runtime
from reclaim.services import steps as delivery


class CpuMeter:
    """CPU used between ``start`` and ``stop``: this process, the sink, the run's PostgreSQL
    backends, and the rest of the box (other engineers' work included)."""

    def __init__(self, sink: SinkProcess, dbname: str | None) -> None:
        self.sink, self.dbname = sink, dbname

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self.own0 = time.process_time()
        self.sink0 = cpu_seconds(self.sink.proc.pid or 0)
        self.pg0 = pg_backends_cpu(self.dbname)
        self.box0 = machine_busy()

    def stop(self) -> dict[str, float]:
        elapsed = time.perf_counter() - self.t0
        own = time.process_time() - self.own0
        sink = cpu_seconds(self.sink.proc.pid or 0) - self.sink0
        pg1 = pg_backends_cpu(self.dbname)
        pg = sum(v - self.pg0.get(p, 0.0) for p, v in pg1.items())
        box1 = machine_busy()
        tick = os.sysconf("SC_CLK_TCK")
        busy = (box1[0] - self.box0[0]) / tick
        return {
            "elapsed": elapsed,
            "own": own,
            "sink": sink,
            "pg": pg,
            "box_busy": (box1[0] - self.box0[0]) / max(1, box1[1] - self.box0[1]),
            "rest_cores": max(0.0, busy - own - sink - pg) / max(elapsed, 1e-9),
        }


# -- part 1: throughput ------------------------------------------------------------------------


@dataclass
class SendRun:
    kind: str  # floor | engine | engine+dkim
    workers: int
    n: int
    received: int
    elapsed: float
    rate: float
    own_cpu_ms: float  # this process (the engine or the smtplib client), per message
    sink_cpu_ms: float
    pg_cpu_ms: float
    box_busy: float
    rest_cores: float
    avg_kb: float
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class ThroughputResult:
    db: str
    workers: int
    n: int
    runs: list[SendRun] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # ms per message, W = 1 only
    profile_top: list[str] = field(default_factory=list)

    def median(self, kind: str, attr: str = "rate") -> float:
        values = [getattr(r, attr) for r in self.runs if r.kind == kind]
        return statistics.median(values) if values else float("nan")

    @property
    def ratio(self) -> float:
        return self.median("engine") / self.median("floor")


def timed_threads(
    sink: SinkProcess,
    dbname: str | None,
    barrier: threading.Barrier,
    errors: list[BaseException],
    threads: Sequence[threading.Thread],
) -> tuple[list[float], int, dict[str, float]]:
    """Start ``threads`` (each waits on ``barrier``, then works), time them from their common
    start to the last one's end with the CPU meter; the sink's arrival times, bytes, CPU."""
    for th in threads:
        th.start()
    sink.take()
    meter = CpuMeter(sink, dbname)
    meter.start()
    barrier.wait()
    for th in threads:
        th.join()
    cpu = meter.stop()
    if errors:
        raise errors[0]
    times, _, size, _ = sink.take()
    return times, size, cpu


def send_run(
    kind: str,
    workers: int,
    n: int,
    times: Sequence[float],
    size: int,
    cpu: dict[str, float],
    outcomes: dict[str, int] | None = None,
) -> SendRun:
    got = max(1, len(times))
    return SendRun(
        kind=kind,
        workers=workers,
        n=n,
        received=len(times),
        elapsed=cpu["elapsed"],
        rate=len(times) / cpu["elapsed"],
        own_cpu_ms=1000 * cpu["own"] / got,
        sink_cpu_ms=1000 * cpu["sink"] / got,
        pg_cpu_ms=1000 * cpu["pg"] / got,
        box_busy=cpu["box_busy"],
        rest_cores=cpu["rest_cores"],
        avg_kb=size / got / 1024,
        outcomes=outcomes or {},
    )


def run_engine(
    rt: Runtime,
    sink: SinkProcess,
    workers: int,
    now: datetime,
    *,
    dbname: str | None,
    expect: int,
    kind: str = "engine",
    wrap: Callable[[Callable[[], Any]], Any] | None = None,
) -> SendRun:
    """``workers`` threads, each with its own ``ChannelSenders``, run ``run_due_steps`` at
    ``now`` until nothing is due; timed from their common start to the last one's end."""
    barrier = threading.Barrier(workers + 1)
    stats: list[delivery.DeliveryStats | None] = [None] * workers
    errors: list[BaseException] = []

    def work(k: int) -> None:
        senders = rt.senders()
        barrier.wait()
        try:

            def go() -> delivery.DeliveryStats:
                return delivery.run_due_steps(
                    uow=rt.uow(), senders=senders, renderer=rt.renderer, links=rt.links(), now=now
                )

            stats[k] = wrap(go) if wrap else go()
        except BaseException as exc:
            errors.append(exc)
        finally:
            senders.close()

    times, size, cpu = timed_threads(
        sink,
        dbname,
        barrier,
        errors,
        [threading.Thread(target=work, args=(k,)) for k in range(workers)],
    )
    outcomes: Counter[str] = Counter()
    for s in stats:
        assert s is not None
        outcomes.update(s.outcomes)
        outcomes["released"] += s.released
        outcomes["possibly_sent"] += s.possibly_sent
    outcomes = +outcomes
    if len(times) != expect or outcomes.get("sent", 0) != expect:
        console.print(f"[red]  {kind}: {len(times)} received, expected {expect}: {dict(outcomes)}")
    return send_run(kind, workers, expect, times, size, cpu, outcomes=dict(outcomes))


def run_floor(
    sink: SinkProcess,
    messages: Sequence[tuple[str, str, bytes]],
    workers: int,
    n: int,
    *,
    dbname: str | None,
) -> SendRun:
    """The same sink fed the engine's own messages, pre-built, by ``smtplib`` over ``workers``
    connections: connect, EHLO, then ``MAIL``/``RCPT``/``DATA`` per message, ``QUIT``."""
    cursor = itertools.count()  # next() is atomic under the GIL: the threads share the work
    barrier = threading.Barrier(workers + 1)
    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            conn = smtplib.SMTP(sink.host, sink.port, local_hostname=HELO, timeout=30)
            conn.ehlo()
            while (k := next(cursor)) < n:
                sender, recipient, data = messages[k % len(messages)]
                for code, _ in (conn.mail(sender), conn.rcpt(recipient), conn.data(data)):
                    if code != 250:
                        raise RuntimeError(f"floor: SMTP answered {code}")
            conn.quit()
        except BaseException as exc:
            errors.append(exc)

    times, size, cpu = timed_threads(
        sink, dbname, barrier, errors, [threading.Thread(target=work) for _ in range(workers)]
    )
    return send_run("floor", workers, n, times, size, cpu)


def dkim_settings(workdir: Path) -> dict[str, str]:
    """A fresh 2048-bit RSA key for ``RECLAIM_DKIM_*`` (the channel's default algorithm)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = workdir / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return {"dkim_domain": DOMAIN, "dkim_selector": "rc2026", "dkim_key_file": str(path)}


def bench_throughput(
    db: str,
    url: str,
    sink: SinkProcess,
    *,
    workers: Sequence[int],
    n: int,
    rounds: int,
    warm: int,
    dkim: dict[str, str] | None,
    profile: bool,
    profile_dump: Path | None = None,
) -> list[ThroughputResult]:
    rt = runtime(url, sink)
    dbname = url.rsplit("/", 1)[1] if db == "postgresql" else None
    shop = new_shop(rt, now=T_SEND)
    markets = awake(T_SEND, hours=1)
    results: list[ThroughputResult] = []
    clock = itertools.count(1)  # each engine run at its own minute: only its steps are due

    def batch(count: int) -> datetime:
        now = T_SEND + timedelta(minutes=next(clock))
        seed(rt, shop, lambda k: now - timedelta(seconds=k % 300), count, markets=markets)
        return now

    try:
        for w in workers:
            result = ThroughputResult(db=db, workers=w, n=n)
            results.append(result)
            # Warm-up, which also yields the floor's bytes: the engine's own messages.
            now = batch(warm)
            sink.call("keep", min(warm, 400))
            run_engine(rt, sink, w, now, dbname=dbname, expect=warm, kind="warm-up")
            kept = sink.call("kept")
            run_floor(sink, kept, w, warm, dbname=dbname)
            for r in range(rounds):
                result.runs.append(run_floor(sink, kept, w, n, dbname=dbname))
                floor = result.runs[-1]
                now = batch(n)
                result.runs.append(run_engine(rt, sink, w, now, dbname=dbname, expect=n))
                eng = result.runs[-1]
                console.print(
                    f"  {db:10} W={w} round {r + 1}/{rounds}: floor {floor.rate:7.0f}/s, "
                    f"engine {eng.rate:6.0f}/s ({eng.rate / floor.rate:4.0%}); CPU ms/msg: "
                    f"engine {eng.own_cpu_ms:.2f}, floor client {floor.own_cpu_ms:.2f}, sink "
                    f"{eng.sink_cpu_ms:.2f}/{floor.sink_cpu_ms:.2f}, PostgreSQL "
                    f"{eng.pg_cpu_ms:.2f}; rest of box {eng.rest_cores:.2f} cores; "
                    f"{eng.avg_kb:.1f} kB/msg"
                )
            if w == 1:
                acc: dict[str, float] = {}
                now = batch(n)
                with phase_timers(acc):
                    run = run_engine(rt, sink, 1, now, dbname=dbname, expect=n, kind="timed")
                result.phases = phase_split(acc, run.elapsed, n)
                console.print(
                    f"  {db:10} W=1 phases (ms/msg): "
                    + ", ".join(f"{k} {v:.2f}" for k, v in result.phases.items())
                )
                if profile:
                    prof = cProfile.Profile()
                    now = batch(n)
                    run_engine(
                        rt,
                        sink,
                        1,
                        now,
                        dbname=dbname,
                        expect=n,
                        kind="profiled",
                        wrap=prof.runcall,
                    )
                    result.profile_top = profile_top(prof)
                    if profile_dump is not None:
                        profile_dump.mkdir(parents=True, exist_ok=True)
                        prof.dump_stats(profile_dump / f"{db}.prof")
                if dkim is not None:
                    signed_rt = runtime(url, sink, **dkim)
                    try:
                        now = batch(warm)
                        run_engine(
                            signed_rt, sink, 1, now, dbname=dbname, expect=warm, kind="warm-up"
                        )
                        for _ in range(rounds):
                            now = batch(n)
                            result.runs.append(
                                run_engine(
                                    signed_rt,
                                    sink,
                                    1,
                                    now,
                                    dbname=dbname,
                                    expect=n,
                                    kind="engine+dkim",
                                )
                            )
                        console.print(
                            f"  {db:10} W=1 with DKIM (rsa-sha256, 2048 bits): "
                            f"{result.median('engine+dkim'):.0f}/s"
                        )
                    finally:
                        signed_rt.close()
    finally:
        rt.close()
    return results
