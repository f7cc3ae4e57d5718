"""CPU sampling from /proc (Linux): one process, the whole box, a database's backends.

A benchmark reports the CPU each side of a measurement used (the engine or server, the client
or sink, PostgreSQL) and what the rest of the box used meanwhile, since other work shares it.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def pg_backends_cpu(dbname: str | None) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving ``dbname`` (from /proc, by cmdline)."""
    if not dbname:
        return {}
    out = {}
    needle = f" {dbname} ".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if cmd.startswith(b"postgres: ") and needle in cmd + b" ":
            out[int(pid)] = cpu_seconds(int(pid))
    return out


class PgBackends:
    """CPU of one database's PostgreSQL backends over a run, the short-lived ones included.

    A pool that closes its overflow connections makes PostgreSQL fork a backend for many
    requests (the "PG sessions" column), and a backend that has exited is gone from /proc;
    so /proc is scanned every 0.1 s and a backend's last reading is kept. One that exits
    loses at most its last 0.1 s. The scanning thread's own CPU is reported, so that it can
    be taken out of this process's figure.
    """

    def __init__(self, dbname: str | None, interval: float = 0.1) -> None:
        self.needle = f" {dbname} ".encode() if dbname else None
        self.interval = interval
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.not_postgres: set[str] = set()
        self.own_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _scan(self, *, starting: bool = False) -> None:
        if self.needle is None:
            return
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or pid in self.not_postgres:
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if b"postgres" not in cmd:  # (a backend just forked still shows the server's)
                self.not_postgres.add(pid)
                continue
            if not (cmd.startswith(b"postgres: ") and self.needle in cmd + b" "):
                continue
            cpu = cpu_seconds(int(pid))
            if cpu == cpu:  # not NaN: it was still there
                # a backend that started during the run counts from its fork
                self.first.setdefault(int(pid), cpu if starting else 0.0)
                self.last[int(pid)] = cpu

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            t = time.thread_time()
            self._scan()
            self.own_cpu += time.thread_time() - t

    def start(self) -> None:
        self._scan(starting=True)
        if self.needle is not None:
            self._thread.start()

    def stop(self) -> float:
        """CPU seconds the database's backends used since ``start``."""
        if self.needle is None:
            return 0.0
        self._stop.set()
        self._thread.join()
        self._scan()
        return sum(cpu - self.first[pid] for pid, cpu in self.last.items())
