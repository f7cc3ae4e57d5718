"""What a holds run measured: its CPU meter, its record, the results and the run's log line."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field

from bench.harness.cpu import PgBackends, cpu_seconds, machine_busy
from bench.harness.output import make_console

console = make_console(190)  # wide tables


class CpuMeter:
    """CPU used between ``start`` and ``stop``: the application process (this one, or the
    server), the client process, the run's PostgreSQL backends, and the rest of the box
    (other engineers' work included)."""

    def __init__(self, app_pid: int | None, dbname: str | None) -> None:
        self.app_pid = app_pid
        self.pg = PgBackends(dbname)

    def _app(self) -> float:
        if self.app_pid is None:
            return time.process_time()
        return cpu_seconds(self.app_pid)

    def start(self) -> None:
        self.pg.start()
        self.app0, self.box0 = self._app(), machine_busy()

    def stop(self, elapsed: float, client_cpu: float = 0.0) -> dict[str, float]:
        app, box1 = self._app() - self.app0, machine_busy()
        pg = self.pg.stop()
        if self.app_pid is None:  # the /proc scanner ran in this process
            app -= self.pg.own_cpu
        busy = (box1[0] - self.box0[0]) / os.sysconf("SC_CLK_TCK")
        return {
            "app": app,
            "pg": pg,
            "scanner": self.pg.own_cpu,
            "box_busy": (box1[0] - self.box0[0]) / max(1, box1[1] - self.box0[1]),
            "rest_cores": max(0.0, busy - app - pg - client_cpu - self.pg.own_cpu)
            / max(elapsed, 1e-9),
        }


# -- results ---------------------------------------------------------------------------------


@dataclass
class Run:
    db: str
    level: str  # service | http
    case: str
    kind: str  # floor | real
    round: int  # 0 = warm-up
    n: int
    lines: int  # UPDATEs the real code runs for these orders (the floor runs n)
    elapsed: float
    rate: float  # answered orders per second
    answers: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    app_cpu_ms: float  # the process running Reclaim (this one, or the server), per order
    client_cpu_ms: float  # HTTP: the load generator, per order
    pg_cpu_ms: float  # this run's PostgreSQL backends, per order
    pg_sessions: int  # PostgreSQL sessions opened during the run
    box_busy: float
    rest_cores: float
    problems: list[str]
    failures: list[str] = field(default_factory=list)


@dataclass
class Result:
    db: str
    level: str
    case: str
    runs: list[Run] = field(default_factory=list)

    def timed(self, kind: str) -> list[Run]:
        return [r for r in self.runs if r.kind == kind and r.round > 0]

    def median(self, kind: str, attr: str = "rate") -> float:
        values = [getattr(r, attr) for r in self.timed(kind)]
        return statistics.median(values) if values else float("nan")

    def ratio(self) -> float:
        return self.median("real") / self.median("floor")


def log_run(run: Run) -> None:
    label = "warm-up" if run.round == 0 else f"round {run.round}"
    check = "[green]audit ok" if not run.problems else f"[red]{'; '.join(run.problems)}"
    answers = " ".join(f"{k}×{v}" for k, v in sorted(run.answers.items()))
    console.print(
        f"  {run.db:10} {run.level:7} {run.case:7} {run.kind:5} {label:8} {run.rate:6.0f}/s"
        f"  p50 {run.p50_ms:6.1f} p99 {run.p99_ms:7.1f} max {run.max_ms:7.1f} ms"
        f"  CPU ms app {run.app_cpu_ms:.2f} pg {run.pg_cpu_ms:.2f}"
        f"  rest {run.rest_cores:.2f}  {answers}  {check}"
        + (f"  [red]{run.failures}" if run.failures else ""),
        soft_wrap=True,
    )
