"""Seeded cases with due steps: open, running abandoned-checkout cases and their first step."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from bench.harness.db import insert_rows, secondary_indexes, settle, sqlite_time
from bench.harness.output import console
from bench.ingest.customers import ASCII, FIRST, LAST, checkout_token
from bench.send.shop import DOMAIN, KIND, Market, Shop, cart
from reclaim.adapters.db.tables import cases, steps
from reclaim.bootstrap import Runtime

CASE_COLS = [
    "id",
    "store_id",
    "kind",
    "subject_id",
    "customer_key",
    "email",
    "contact",
    "value",
    "currency",
    "items",
    "reason",
    "occurred_at",
    "created_at",
    "checkout_external_id",
    "recovery_url",
    "expires_at",
    "status",
    "merged_from",
    "flow_id",
    "flow_state",
    "holdout",
    "next_step_at",
]
STEP_COLS = [
    "id",
    "store_id",
    "case_id",
    "flow_id",
    "position",
    "key",
    "due_at",
    "status",
    "attempts",
    "created_at",
]


def seed_rows(
    shop: Shop,
    first_case: int,
    first_step: int,
    dues: Sequence[datetime],
    markets: Sequence[Market],
    *,
    dialect: str,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows for open, running abandoned-checkout cases ``first_case …`` (one distinct customer
    each) and their first step, due at ``dues[k]``, as ``detection`` + ``start_flow`` leave
    them. Values are what the column types store for ``dialect`` (as in bench.ingest)."""
    sqlite = dialect == "sqlite"

    def t(at: datetime) -> Any:
        return sqlite_time(at) if sqlite else at

    case_rows, step_rows = [], []
    for k, due in enumerate(dues):
        cid, sid = first_case + k, first_step + k
        m = markets[cid % len(markets)]
        first = FIRST[cid % len(FIRST)]
        last = LAST[(cid // 7) % len(LAST)]
        email = f"{first}.{last}.{cid}".lower().translate(ASCII) + f"@{m.mail}"
        items, total = cart(cid, m.currency)
        contact = {
            "email": email,
            "first_name": first,
            "last_name": last,
            "locale": m.locale,
            "country": m.country,
            "timezone": m.timezone,
            "accepts_email_marketing": True,
            "customer_ref": str(7_712_345_000_000 + cid),
            "orders_count": cid % 3,
        }
        token = checkout_token(f"send-{cid}")
        occurred = due - timedelta(hours=1)  # the reminder is due 1 h after the last activity
        created = occurred + timedelta(minutes=30)  # detection opens it after 30 min
        case_rows.append(
            (
                cid,
                shop.store_id,
                KIND,
                token,
                email,
                email,
                orjson.dumps(contact).decode(),
                int(total * 10_000),
                m.currency,
                orjson.dumps(items).decode(),
                "checkout_abandoned",
                t(occurred),
                t(created),
                token,
                f"https://{DOMAIN}/71234567/checkouts/ac/{token}/recover?key={token[-16:]}",
                t(created + timedelta(days=30)),
                "open",
                "[]",
                shop.flow_id,
                "running",
                0 if sqlite else False,
                t(due),
            )
        )
        step_rows.append(
            (
                sid,
                shop.store_id,
                cid,
                shop.flow_id,
                0,
                "reminder",
                t(due),
                "scheduled",
                0,
                t(created),
            )
        )
    return case_rows, step_rows


def seed(
    rt: Runtime,
    shop: Shop,
    dues: Callable[[int], datetime],
    count: int,
    *,
    markets: Sequence[Market],
    label: str = "",
    chunk: int = 20_000,
) -> float:
    """Store ``count`` running cases with one due step each (step ``k`` due at ``dues(k)``);
    returns the seconds it took. A large load drops the non-unique indexes of ``cases`` and
    ``steps`` first and builds them again at the end, as a bulk load does."""
    dialect = rt.engine.dialect.name
    began = time.perf_counter()
    with rt.engine.connect() as conn:
        first_case = 1 + int(
            conn.execute(select(func.coalesce(func.max(cases.c.id), 0))).scalar_one()
        )
        first_step = 1 + int(
            conn.execute(select(func.coalesce(func.max(steps.c.id), 0))).scalar_one()
        )
    indexes = secondary_indexes(rt, ("cases", "steps")) if count > 200_000 else []
    with rt.engine.begin() as conn:
        for name, _ in indexes:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    progress = Progress(
        TextColumn(f"  seeding {dialect} {label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=count < 50_000,
    )
    with progress:
        task = progress.add_task("", total=count)
        for lo in range(0, count, chunk):
            hi = min(count, lo + chunk)
            case_rows, step_rows = seed_rows(
                shop,
                first_case + lo,
                first_step + lo,
                [dues(k) for k in range(lo, hi)],
                markets,
                dialect=dialect,
            )
            insert_rows(rt, {"cases": (CASE_COLS, case_rows), "steps": (STEP_COLS, step_rows)})
            progress.advance(task, hi - lo)
        for name, sql in indexes:
            progress.update(task, description=f"index {name}")
            with rt.engine.begin() as conn:
                conn.exec_driver_sql(sql)
        if dialect == "postgresql":  # explicit ids: move the sequences past them
            with rt.engine.begin() as conn:
                for table in ("cases", "steps"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
        if count >= 10_000:
            progress.update(task, description="statistics, checkpoint")
            settle(rt)
        progress.update(task, description="")
    return time.perf_counter() - began
