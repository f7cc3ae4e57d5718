"""One measured run in a process of its own: ``python -m bench.reports.measure URL STORE
report|floor|queries`` prints one JSON line: the seconds of the run, and the process's peak RSS
(``ru_maxrss``) before and after it.

The engine has opened its connection (``SELECT 1``) before the clock starts, for both.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from bench.reports.seed import MONTH, NOW
from reclaim.adapters.db.tables import cases
from reclaim.bootstrap import Runtime, bootstrap
from reclaim.config import Settings
from reclaim.services.reports import build_report, report_json, resolve

SLOW_S = 0.05  # statements slower than this are EXPLAINed (``--queries``)


def report(rt: Runtime, store_id: str) -> str:
    """What ``reclaim report --store ID --period MONTH --format json`` computes."""
    made = build_report(uow=rt.reader(), store_id=store_id, now=NOW, month=MONTH)
    return json.dumps(report_json(made), ensure_ascii=False, indent=2)


def floor(rt: Runtime, store_id: str) -> str:
    """One scan of the cases table with the report's filter (store and period)."""
    period = resolve(timezone="Europe/Paris", now=NOW, month=MONTH)
    q = select(func.count(), func.sum(cases.c.value)).where(
        cases.c.store_id == store_id,
        cases.c.created_at >= period.start_at,
        cases.c.created_at < period.end_at,
    )
    with rt.engine.connect() as conn:
        n, total = conn.execute(q).one()
    return f"{n} {total}"


def queries(rt: Runtime, store_id: str) -> str:
    """The report, with the seconds of each statement it ran (``--queries``)."""
    took: list[tuple[float, str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_began"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        took.append((time.perf_counter() - conn.info.pop("bench_began"), statement, parameters))

    event.listen(rt.engine, "before_cursor_execute", before)
    event.listen(rt.engine, "after_cursor_execute", after)
    report(rt, store_id)
    event.remove(rt.engine, "before_cursor_execute", before)
    event.remove(rt.engine, "after_cursor_execute", after)
    postgres = rt.engine.dialect.name == "postgresql"
    raw = rt.engine.raw_connection()
    try:
        for seconds, statement, parameters in took:
            print(f"{seconds * 1000:9.1f} ms  {' '.join(statement.split())[:300]}", file=sys.stderr)
            if seconds < SLOW_S:
                continue
            cur = raw.cursor()
            cur.execute(("EXPLAIN ANALYZE " if postgres else "EXPLAIN QUERY PLAN ") + statement,
                        parameters)  # fmt: skip
            for row in cur.fetchall():
                print("             " + " | ".join(str(v) for v in row), file=sys.stderr)
            cur.close()
    finally:
        raw.close()
    return ""


def _peak_mb() -> float:
    """The process's peak RSS (``VmHWM``, Linux). Not ``ru_maxrss``: that one is carried over
    from the parent through fork and exec, and the parent has just seeded the database."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return float("nan")


def main() -> None:
    url, store_id, what = sys.argv[1:4]
    rt = bootstrap(Settings(database_url=url))
    try:
        with rt.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        before = _peak_mb()
        began = time.perf_counter()
        out = {"report": report, "floor": floor, "queries": queries}[what](rt, store_id)
        seconds = time.perf_counter() - began
    finally:
        rt.close()
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "before_mb": before,
                      "bytes": len(out)}))  # fmt: skip


if __name__ == "__main__":
    main()
