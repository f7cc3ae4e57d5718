"""Part 2's stored history: a store's cases, checkouts and orders, loaded in bulk.

Case ``i`` belongs to customer ``i // 2``; its status, times and facts follow from ``i``, so
the deliveries of :mod:`bench.ingest.processing` can touch stored customers and checkouts.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bench.harness.db import insert_rows, secondary_indexes, settle, sqlite_time
from bench.harness.output import console
from bench.ingest.customers import (
    ITEM_SETS,
    SECRET,
    SHOP,
    UA,
    checkout_token,
    customer,
    items_json,
    pick_items,
)
from reclaim.bootstrap import Runtime
from reclaim.domain.stores import StoreSettings
from reclaim.services.stores import add_store

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # the processing part's clock; data lies before it


def new_store(rt: Runtime, *, activated: datetime) -> str:
    return add_store(
        uow=rt.uow(),
        name="Nordwolle",
        platform="shopify",
        currency="EUR",
        timezone="Europe/Berlin",
        domain=SHOP,
        webhook_secret=SECRET,
        settings=StoreSettings(),
        now=activated,
    ).id


CASE_COLS = [
    "store_id",
    "kind",
    "subject_id",
    "customer_key",
    "email",
    "phone",
    "contact",
    "value",
    "currency",
    "items",
    "reason",
    "reason_code",
    "occurred_at",
    "created_at",
    "updated_at",
    "checkout_external_id",
    "order_external_id",
    "intent_id",
    "recovery_url",
    "expires_at",
    "status",
    "closed_at",
    "close_reason",
    "recovered_order_external_id",
    "recovered_value",
    "attribution",
    "merged_from",
]
CHECKOUT_COLS = [
    "store_id",
    "external_id",
    "customer_key",
    "email",
    "phone",
    "contact",
    "currency",
    "total",
    "items",
    "created_at",
    "updated_at",
    "version_tag",
    "state",
    "completed_at",
    "order_external_id",
    "recovery_url",
    "expired_at",
    "user_agent",
    "is_test",
    "shipping_quote",
    "abandon_due_at",
    "ignore_reason",
]
ORDER_COLS = [
    "store_id",
    "external_id",
    "customer_key",
    "email",
    "phone",
    "contact",
    "currency",
    "total",
    "items",
    "created_at",
    "updated_at",
    "version_tag",
    "financial_status",
    "checkout_external_id",
    "paid_at",
    "cancelled_at",
    "payment_method",
    "user_agent",
    "is_test",
    "order_number",
    "payment_url",
    "watch",
    "pending_due_at",
]
SCALE = 10_000  # Amount: integer 1/10,000 of a major unit
OPEN, RECOVERED, CANCELLED, EXPIRED = "open", "recovered", "cancelled", "expired"


def case_status(i: int) -> str:
    """10 % open, 30 % recovered, 20 % cancelled, 40 % expired: a store that has run a while.

    Open ones are cases ``20k`` (abandoned checkouts) and ``20k + 3`` (pending orders), so no
    customer has two open cases.
    """
    r = i % 20
    if r in (0, 3):
        return OPEN
    if 4 <= r < 10:
        return RECOVERED
    if 10 <= r < 14:
        return CANCELLED
    return EXPIRED


def is_checkout_case(i: int) -> bool:
    return i % 4 != 3  # three abandoned checkouts for one pending order


def seeded_order_id(i: int) -> int:
    return 5_000_000_000_000 + i


def seeded_occurred(i: int) -> datetime:
    """When stored case ``i``'s opportunity arose: open ones within their 30-day life."""
    status = case_status(i)
    span = 25 * 86400 if status == OPEN else 330 * 86400
    occurred = T0 - timedelta(seconds=3600 + (i * 7919) % span)
    if status == EXPIRED:  # expired cases are older than their 30-day life
        occurred -= timedelta(days=31)
    return occurred


def seed_rows(
    store_id: str, start: int, stop: int, *, dialect: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The stored history for cases ``start..stop``, as (table, raw column values).

    Case ``i`` belongs to customer ``i // 2``; abandoned checkouts keep their checkout row,
    pending orders their order row, recovered checkouts the paid order that recovered them.
    Values are what the column types store for ``dialect`` (JSON text, integer amounts;
    aware datetimes for PostgreSQL, naive-UTC text for SQLite; booleans 0/1 on SQLite).
    """
    sqlite = dialect == "sqlite"
    no = 0 if sqlite else False
    for i in range(start, stop):
        cust = customer(i // 2)
        country, region, _, currency, locale, _, _ = cust.market
        status = case_status(i)
        occurred = seeded_occurred(i)
        created = occurred + timedelta(minutes=30)
        expires = created + timedelta(days=30)
        items = pick_items(i)
        value = sum(p[5] * p[7] for p in items) + 490
        factor = SCALE if currency == "JPY" else SCALE // 100
        cart = items_json(i % len(ITEM_SETS), currency)
        contact = orjson.dumps(
            {
                "email": cust.email,
                "phone": cust.phone,
                "first_name": cust.first,
                "last_name": cust.last,
                "locale": locale,
                "country": country,
                "region": region,
                "accepts_email_marketing": cust.index % 3 == 0,
                "customer_ref": str(cust.id),
            }
        ).decode()
        common = {
            "store_id": store_id,
            "customer_key": cust.email,
            "email": cust.email,
            "phone": cust.phone,
            "contact": contact,
            "currency": currency,
            "items": cart,
        }
        closed = (
            None
            if status == OPEN
            else (expires if status == EXPIRED else created + timedelta(hours=20))
        )
        started = occurred - timedelta(minutes=12)
        if sqlite:
            occurred, created, expires, started = (
                sqlite_time(t) for t in (occurred, created, expires, started)
            )
            closed = None if closed is None else sqlite_time(closed)
        token = checkout_token(f"seed-{i}")
        order_id = str(seeded_order_id(i))
        recovered_by = order_id if status == RECOVERED else None
        if is_checkout_case(i):
            yield (
                "checkouts",
                {
                    **common,
                    "external_id": token,
                    "total": value * factor,
                    "created_at": started,
                    "updated_at": occurred,
                    "version_tag": "0" + token[:16],
                    "state": "completed" if status == RECOVERED else "abandoned",
                    "completed_at": closed if status == RECOVERED else None,
                    "order_external_id": recovered_by,
                    "recovery_url": f"https://{SHOP}/71234567/checkouts/ac/{token}/recover",
                    "expired_at": None,
                    "user_agent": UA,
                    "is_test": no,
                    "shipping_quote": 490 * factor,
                    "abandon_due_at": None,
                    "ignore_reason": None,
                },
            )
        if not is_checkout_case(i) or status == RECOVERED:
            paid = status == RECOVERED
            yield (
                "orders",
                {
                    **common,
                    "external_id": order_id,
                    "total": value * factor,
                    "created_at": closed if paid and is_checkout_case(i) else occurred,
                    "updated_at": closed or occurred,
                    "version_tag": ("2" if paid else "0") + token[:16],
                    "financial_status": "paid"
                    if paid
                    else ("voided" if status == CANCELLED else "pending"),
                    "checkout_external_id": token if is_checkout_case(i) else None,
                    "paid_at": closed if paid else None,
                    "cancelled_at": closed if status == CANCELLED else None,
                    "payment_method": "shopify_payments" if paid else "bank_transfer",
                    "user_agent": UA,
                    "is_test": no,
                    "order_number": f"#{1000 + i}",
                    "payment_url": f"https://{SHOP}/71234567/orders/{order_id}/authenticate",
                    "watch": "done" if paid else "detected",
                    "pending_due_at": None,
                },
            )
        kind = "abandoned_checkout" if is_checkout_case(i) else "pending_order"
        close_reason = {
            OPEN: None,
            RECOVERED: "checkout_completed" if kind == "abandoned_checkout" else "order_paid",
            CANCELLED: "superseded" if kind == "abandoned_checkout" else "order_cancelled",
            EXPIRED: "ttl",
        }[status]
        yield (
            "cases",
            {
                **common,
                "kind": kind,
                "subject_id": token if is_checkout_case(i) else order_id,
                "value": value * factor,
                "reason": "checkout_abandoned" if is_checkout_case(i) else "awaiting_payment",
                "reason_code": None if is_checkout_case(i) else "bank_transfer",
                "occurred_at": occurred,
                "created_at": created,
                "updated_at": closed,
                "checkout_external_id": token if is_checkout_case(i) else None,
                "order_external_id": None if is_checkout_case(i) else order_id,
                "intent_id": None,
                "recovery_url": f"https://{SHOP}/71234567/checkouts/ac/{token}/recover",
                "expires_at": expires,
                "status": status,
                "closed_at": closed,
                "close_reason": close_reason,
                "recovered_order_external_id": recovered_by,
                "recovered_value": value * factor if status == RECOVERED else None,
                "attribution": "organic" if status == RECOVERED else None,
                "merged_from": "[]",
            },
        )


COLUMNS = {"cases": CASE_COLS, "checkouts": CHECKOUT_COLS, "orders": ORDER_COLS}
ROW = {table: operator.itemgetter(*cols) for table, cols in COLUMNS.items()}


def seed(rt: Runtime, store_id: str, start: int, stop: int, chunk: int = 20_000) -> float:
    """Store cases ``start..stop`` with their facts; returns the seconds it took.

    A large load drops the non-unique indexes first and builds them again at the end (what
    a bulk load does; the unique ones stay and are checked row by row). Then the statistics
    and a checkpoint, as autovacuum and the checkpointer would have done by the time a real
    store has gathered that many cases, so neither lands inside a measurement.
    """
    dialect = rt.engine.dialect.name
    began = time.perf_counter()
    progress = Progress(
        TextColumn(f"  seeding {dialect} cases {start:,}→{stop:,}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    )
    indexes = secondary_indexes(rt, tuple(COLUMNS)) if stop - start > 100_000 else []
    with progress:
        task = progress.add_task("", total=stop - start)
        with rt.engine.begin() as conn:
            for name, _ in indexes:
                conn.exec_driver_sql(f"DROP INDEX {name}")
        for lo in range(start, stop, chunk):
            hi = min(stop, lo + chunk)
            rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
            for table, values in seed_rows(store_id, lo, hi, dialect=dialect):
                rows[table].append(ROW[table](values))
            insert_rows(rt, {t: (COLUMNS[t], batch) for t, batch in rows.items()})
            progress.advance(task, hi - lo)
        for name, sql in indexes:
            progress.update(task, description=f"index {name}")
            with rt.engine.begin() as conn:
                conn.exec_driver_sql(sql)
        progress.update(task, description="statistics, checkpoint")
        settle(rt, ("cases", "checkouts", "orders", "inbox"))
        progress.update(task, description="")
    return time.perf_counter() - began
