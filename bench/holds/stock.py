"""The holds workload: its cases and orders, the store and its stock, reset and audit."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from bench.harness.db import autocommit
from reclaim.adapters.db.tables import holds as holds_table
from reclaim.adapters.db.tables import stock_levels
from reclaim.bootstrap import Runtime
from reclaim.domain.stores import StoreSettings
from reclaim.services import holds
from reclaim.services.ports import WarehouseRow
from reclaim.services.stores import add_store

DB_NAME = "reclaim_bench_holds"
WAREHOUSE = "PAR"
HOT_SKU = "HOT-0001"
SELL_SKU = "SELL-0001"
PLENTY = 1_000_000_000  # units on hand where the case has "enough stock" (int4 holds it)
FLOOR_PATH = "/_bench/floor/{sku}"


FLOOR_SQL = text(
    "UPDATE stock_levels SET reserved = reserved + 1 "
    "WHERE store_id = :store AND warehouse = :warehouse AND sku = :sku "
    "AND on_hand - reserved >= 1"
)


Order = tuple[str, list[tuple[str, int]]]  # order id, (sku, quantity) lines


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    what: str
    sellout: bool = False  # stock for half the orders, else for all of them


CASES = {
    "hot": Case("hot", "1 SKU, 1 unit per order, stock for all"),
    "spread": Case("spread", "1-3 SKUs of N per order, 1 unit each, stock for all"),
    "sellout": Case("sellout", "1 SKU, 1 unit per order, stock for half", sellout=True),
}


def spread_sku(k: int) -> str:
    return f"SKU-{k:04d}"


def orders(case: str, n: int, tag: str, skus: int) -> list[Order]:
    """The ``n`` orders of run ``tag``: the same for the floor and the real run of a round."""
    rng = random.Random(f"{case}-{tag}")
    out: list[Order] = []
    for k in range(n):
        if case == "spread":
            picked = rng.sample(range(skus), rng.choice((1, 2, 3)))
            lines = [(spread_sku(s), 1) for s in picked]
        else:
            lines = [(SELL_SKU if case == "sellout" else HOT_SKU, 1)]
        out.append((f"{case}-{tag}-{k}", lines))
    return out


def stock_for(case: Case, n: int) -> int:
    return n // 2 if case.sellout else PLENTY


# -- the store, its stock, reset and audit --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shop:
    store_id: str
    api_key: str


def new_shop(rt: Runtime, skus: int) -> Shop:
    now = datetime.now(UTC)
    store = add_store(
        uow=rt.uow(),
        name="Nordwolle",
        platform="custom",
        currency="EUR",
        timezone="Europe/Paris",
        domain="nordwolle.example",
        webhook_secret="whsec_bench_holds_4a1f",
        settings=StoreSettings(),
        now=now - timedelta(days=1),
    )
    holds.import_warehouses(
        uow=rt.uow(),
        store_id=store.id,
        rows=[
            WarehouseRow(store.id, WAREHOUSE, "FR", None, "Europe/Paris", "14:00", "12345"),
        ],
        now=now,
    )
    changes = [holds.StockChange(WAREHOUSE, HOT_SKU, on_hand=PLENTY)]
    changes += [holds.StockChange(WAREHOUSE, SELL_SKU, on_hand=0)]
    changes += [holds.StockChange(WAREHOUSE, spread_sku(k), on_hand=PLENTY) for k in range(skus)]
    holds.update_stock(uow=rt.uow(), store_id=store.id, changes=changes, now=now)
    return Shop(store.id, store.api_key)


def reset(rt: Runtime, shop: Shop, case: Case, n: int) -> None:
    """Untimed, before every run: no holds, nothing reserved, the case's stock on hand.

    Then what autovacuum and the checkpointer would keep up with in a steady state, so the
    dead row versions of one run do not slow the next (PostgreSQL: ``VACUUM``; SQLite: a WAL
    checkpoint).
    """
    with rt.engine.begin() as conn:
        conn.execute(holds_table.delete())
        conn.execute(stock_levels.update().where(stock_levels.c.reserved != 0).values(reserved=0))
        conn.execute(
            stock_levels.update()
            .where(stock_levels.c.store_id == shop.store_id, stock_levels.c.sku == SELL_SKU)
            .values(on_hand=stock_for(CASES["sellout"], n))
        )
    if rt.engine.dialect.name == "postgresql":
        autocommit(rt, "VACUUM (ANALYZE) holds, stock_levels")
    else:
        autocommit(rt, "PRAGMA wal_checkpoint(TRUNCATE)")


def audit(
    rt: Runtime, *, case: Case, kind: str, work: Sequence[Order], answers: Counter[str]
) -> list[str]:
    """What is wrong in the database after a run, given the answers the clients got."""
    with rt.engine.connect() as conn:
        reserved, oversold = conn.execute(
            text(
                "SELECT coalesce(sum(reserved), 0), "
                "coalesce(sum(CASE WHEN reserved > on_hand THEN 1 ELSE 0 END), 0) "
                "FROM stock_levels"
            )
        ).one()
        by_status = Counter(
            {
                str(s): int(c)
                for s, c in conn.execute(
                    select(holds_table.c.status, text("count(*)")).group_by(holds_table.c.status)
                )
            }
        )
        held_units = sum(
            int(line["quantity"])
            for (lines,) in conn.execute(
                select(holds_table.c.lines).where(holds_table.c.status == "active")
            )
            for line in lines
        )
    ok, refused = answers["201"], answers["409"]
    problems = []
    if ok + refused != len(work):
        other = {k: v for k, v in answers.items() if k not in ("201", "409")}
        problems.append(f"{len(work) - ok - refused} not answered 201/409: {other}")
    if oversold:
        problems.append(f"{oversold} rows oversold")
    expected_ok = min(stock_for(case, len(work)), len(work))
    if ok != expected_ok:
        problems.append(f"{ok} succeeded, {expected_ok} expected")
    if kind == "floor":
        if reserved != ok:
            problems.append(f"reserved {reserved} != {ok} UPDATEs that took a unit")
        if by_status:
            problems.append(f"hold rows after a floor run: {dict(by_status)}")
    else:
        if reserved != held_units:
            problems.append(f"reserved {reserved} != {held_units} units in active holds")
        if by_status["active"] != ok or by_status["short"] != refused:
            problems.append(f"holds {dict(by_status)} for {ok} × 201, {refused} × 409")
        if case.name != "spread" and reserved != ok:
            problems.append(f"reserved {reserved} != {ok} reservations")
    return problems
