"""One measured run in a process of its own: ``python -m bench.reports.measure URL STORE
report|floor|tables|queries`` prints one JSON line: the seconds of the run, and the process's
peak RSS (``VmHWM``) before and after it.

The engine has opened its connection (``SELECT 1``) before the clock starts, for both.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import and_, event, func, select

from bench.reports.seed import MONTH, NOW
from reclaim.adapters.db.tables import (
    case_reasons,
    cases,
    checkouts,
    coupons,
    messages,
    orders,
    shipments,
)
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


def tables(rt: Runtime, store_id: str) -> str:
    """The honest bound: one scan of each table the report must read, with the period's
    filter, ``count(*)`` of the same rows the report reads: the period's cases (and the range
    of their ids), the reasons, messages and coupons of that id range, the period's checkouts
    and orders, and the shipments of those orders. The test-mode marks (a partial index of a
    few rows) are left out."""
    period = resolve(timezone="Europe/Paris", now=NOW, month=MONTH)
    a, b = period.start_at, period.end_at
    with rt.engine.connect() as conn:
        n, total, lo, hi = conn.execute(
            select(
                func.count(), func.sum(cases.c.value), func.min(cases.c.id), func.max(cases.c.id)
            ).where(cases.c.store_id == store_id, cases.c.created_at >= a, cases.c.created_at < b)
        ).one()
        found = [n, total]
        for table in (case_reasons, messages, coupons):
            q = select(func.count()).where(table.c.case_id >= lo, table.c.case_id <= hi)
            found.append(conn.execute(q.select_from(table)).scalar())
        for table in (checkouts, orders):
            q = select(func.count()).where(
                table.c.store_id == store_id, table.c.created_at >= a, table.c.created_at < b
            )
            found.append(conn.execute(q.select_from(table)).scalar())
        shipped = (
            select(func.count())
            .select_from(
                orders.join(
                    shipments,
                    and_(
                        shipments.c.store_id == orders.c.store_id,
                        shipments.c.order_external_id == orders.c.external_id,
                    ),
                )
            )
            .where(orders.c.store_id == store_id, orders.c.created_at >= a, orders.c.created_at < b)
        )
        found.append(conn.execute(shipped).scalar())
    return " ".join(map(str, found))


def queries(rt: Runtime, store_id: str) -> str:
    """The report, with the seconds of each statement it ran (``--queries``): as the report
    ran it (until the first row), then run again with all its rows fetched."""
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
            # Again, with every row fetched: SQLite runs a statement as its rows are fetched,
            # after ``after_cursor_execute``.
            cur = raw.cursor()
            began = time.perf_counter()
            cur.execute(statement, parameters)
            rows = len(cur.fetchall())
            again = time.perf_counter() - began
            cur.close()
            print(f"{seconds * 1000:9.1f} ms, again with its {rows} rows fetched"
                  f" {again * 1000:7.1f} ms  {' '.join(statement.split())[:300]}",
                  file=sys.stderr)  # fmt: skip
            if max(seconds, again) < SLOW_S:
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
        out = {"report": report, "floor": floor, "tables": tables, "queries": queries}[what](
            rt, store_id
        )
        seconds = time.perf_counter() - began
    finally:
        rt.close()
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "before_mb": before,
                      "bytes": len(out)}))  # fmt: skip


if __name__ == "__main__":
    main()
