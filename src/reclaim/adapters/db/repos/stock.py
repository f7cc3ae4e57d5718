"""SQLAlchemy repository for warehouses, stock levels and holds (SPEC S7), with the lanes
and products fulfilment reads (SPEC S8)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CursorResult,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import is_postgres, upsert
from reclaim.adapters.db.tables import (
    holds,
    lanes,
    products,
    stock_levels,
    warehouses,
)
from reclaim.adapters.db.types import Amount
from reclaim.domain.alternatives import Product
from reclaim.domain.fulfilment import CostBand, Lane
from reclaim.domain.holds import Hold, HoldLine, HoldStatus
from reclaim.services.ports import StockLevel, WarehouseRow


def lane_to_json(lane: Lane) -> dict[str, object]:
    return {
        "origin": lane.origin,
        "destination_country": lane.destination_country,
        "destination_region": lane.destination_region,
        "carrier": lane.carrier,
        "service": lane.service,
        "transit_min": lane.transit_min,
        "transit_max": lane.transit_max,
        "cost_bands": [[str(b.max_weight_kg), str(b.cost), b.currency] for b in lane.cost_bands],
        "co2_per_kg": str(lane.co2_per_kg),
    }


def lane_from_json(d: dict[str, Any]) -> Lane:
    return Lane(
        origin=d["origin"],
        destination_country=d["destination_country"],
        destination_region=d.get("destination_region"),
        carrier=d["carrier"],
        service=d["service"],
        transit_min=int(d["transit_min"]),
        transit_max=int(d["transit_max"]),
        cost_bands=tuple(CostBand(Decimal(w), Decimal(c), cur) for w, c, cur in d["cost_bands"]),
        co2_per_kg=Decimal(d["co2_per_kg"]),
    )


_PRODUCT = (
    products.c.sku,
    products.c.name,
    products.c.category,
    products.c.price,
    products.c.currency,
    products.c.url,
    products.c.image_url,
)


def _product(r: Any) -> Product:
    return Product(
        sku=r.sku,
        name=r.name,
        category=r.category,
        price=r.price,
        currency=r.currency,
        url=r.url,
        image_url=r.image_url,
    )


# The reservation path's statements, built once (SQLAlchemy otherwise builds and cache-keys a
# new statement object per call: ~0.4 ms of CPU each, most of a reservation's cost).
_LEVELS = (
    select(stock_levels)
    .where(
        stock_levels.c.store_id == bindparam("p_store"),
        stock_levels.c.sku.in_(bindparam("p_skus", expanding=True)),
    )
    .order_by(stock_levels.c.sku, stock_levels.c.warehouse)
)
_RESERVE = (
    update(stock_levels)
    .where(
        stock_levels.c.store_id == bindparam("p_store"),
        stock_levels.c.warehouse == bindparam("p_warehouse"),
        stock_levels.c.sku == bindparam("p_sku"),
        stock_levels.c.on_hand - stock_levels.c.reserved >= bindparam("p_quantity"),
    )
    .values(
        reserved=stock_levels.c.reserved + bindparam("p_quantity"),
        updated_at=bindparam("p_now", type_=stock_levels.c.updated_at.type),
    )
)
_ADD_HOLD = {
    name: insert(holds).on_conflict_do_nothing().returning(holds.c.id)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_SHORTEN = (
    update(holds)
    .where(holds.c.id == bindparam("p_id"))
    .values(status=HoldStatus.SHORT, lines=[], short=bindparam("p_short", type_=holds.c.short.type))
)


class SqlStock:
    def __init__(self, session: Session) -> None:
        self.s = session

    def put_warehouse(self, row: WarehouseRow, *, now: datetime) -> None:
        values = {
            "store_id": row.store_id,
            "code": row.code,
            "country": row.country,
            "region": row.region,
            "timezone": row.timezone,
            "cutoff": row.cutoff,
            "working_days": row.working_days,
            "updated_at": now,
        }
        stmt = upsert(self.s, warehouses).values(**values)
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["store_id", "code"],
                set_={k: stmt.excluded[k] for k in values if k not in ("store_id", "code")},
            )
        )

    def warehouses(self, store_id: str) -> Sequence[WarehouseRow]:
        rows = self.s.execute(
            select(warehouses).where(warehouses.c.store_id == store_id).order_by(warehouses.c.code)
        )
        return [
            WarehouseRow(
                store_id=r.store_id,
                code=r.code,
                country=r.country,
                region=r.region,
                timezone=r.timezone,
                cutoff=r.cutoff,
                working_days=r.working_days,
            )
            for r in rows
        ]

    def set_level(
        self, store_id: str, warehouse: str, sku: str, on_hand: int, *, now: datetime
    ) -> None:
        stmt = upsert(self.s, stock_levels).values(
            store_id=store_id,
            warehouse=warehouse,
            sku=sku,
            on_hand=on_hand,
            reserved=0,
            updated_at=now,
        )
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["store_id", "warehouse", "sku"],
                set_={"on_hand": stmt.excluded.on_hand, "updated_at": now},
            )
        )

    def add_delta(
        self, store_id: str, warehouse: str, sku: str, delta: int, *, now: datetime
    ) -> bool:
        """Move on_hand by ``delta`` (never below 0). False when the row does not exist or
        the result would be negative."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            update(stock_levels)
            .where(
                stock_levels.c.store_id == store_id,
                stock_levels.c.warehouse == warehouse,
                stock_levels.c.sku == sku,
                stock_levels.c.on_hand + delta >= 0,
            )
            .values(on_hand=stock_levels.c.on_hand + delta, updated_at=now)
        )
        return bool(res.rowcount)

    def levels(self, store_id: str, skus: Sequence[str] | None = None) -> Sequence[StockLevel]:
        if skus is not None:
            rows = self.s.execute(_LEVELS, {"p_store": store_id, "p_skus": list(skus)})
        else:
            rows = self.s.execute(
                select(stock_levels)
                .where(stock_levels.c.store_id == store_id)
                .order_by(stock_levels.c.sku, stock_levels.c.warehouse)
            )
        return [StockLevel(r.warehouse, r.sku, r.on_hand, r.reserved) for r in rows]

    def reserve(self, store_id: str, line: HoldLine, *, now: datetime) -> bool:
        """Take ``line.quantity`` units if that many are available; one conditional UPDATE,
        so concurrent reservations of the last units cannot both succeed."""
        res: CursorResult[Any] = self.s.execute(  # type: ignore[assignment]
            _RESERVE,
            {
                "p_store": store_id,
                "p_warehouse": line.warehouse,
                "p_sku": line.sku,
                "p_quantity": line.quantity,
                "p_now": now,
            },
        )
        return bool(res.rowcount)

    def unreserve(self, store_id: str, line: HoldLine, *, consume: bool, now: datetime) -> None:
        """Give the units back, or (``consume``: the order was paid) take them off on_hand."""
        values: dict[str, Any] = {
            "reserved": stock_levels.c.reserved - line.quantity,
            "updated_at": now,
        }
        if consume:
            values["on_hand"] = stock_levels.c.on_hand - line.quantity
        self.s.execute(
            update(stock_levels)
            .where(
                stock_levels.c.store_id == store_id,
                stock_levels.c.warehouse == line.warehouse,
                stock_levels.c.sku == line.sku,
                stock_levels.c.reserved >= line.quantity,
            )
            .values(**values)
        )

    # -- lanes and product weights (SPEC S8) ----------------------------------------------------

    def put_lane(self, store_id: str, lane: Lane, *, now: datetime) -> None:
        key = "|".join(str(part or "") for part in lane.key)
        values = {
            "store_id": store_id,
            "lane_key": key,
            "origin": lane.origin,
            "definition": lane_to_json(lane),
            "updated_at": now,
        }
        stmt = upsert(self.s, lanes).values(**values)
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["store_id", "lane_key"],
                set_={"definition": stmt.excluded.definition, "updated_at": now},
            )
        )

    def lanes(self, store_id: str) -> Sequence[Lane]:
        rows = self.s.execute(
            select(lanes.c.definition)
            .where(lanes.c.store_id == store_id)
            .order_by(lanes.c.lane_key)
        )
        return [lane_from_json(r.definition) for r in rows]

    def put_weight(self, store_id: str, sku: str, weight_kg: Decimal, *, now: datetime) -> None:
        stmt = upsert(self.s, products).values(
            store_id=store_id, sku=sku, weight_kg=weight_kg, updated_at=now
        )
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["store_id", "sku"],
                set_={"weight_kg": stmt.excluded.weight_kg, "updated_at": now},
            )
        )

    def weights(self, store_id: str, skus: Sequence[str]) -> dict[str, Decimal]:
        rows = self.s.execute(
            select(products.c.sku, products.c.weight_kg).where(
                products.c.store_id == store_id, products.c.sku.in_(list(skus))
            )
        )
        return {r.sku: r.weight_kg for r in rows if r.weight_kg is not None}

    def put_product(self, store_id: str, product: Product, *, now: datetime) -> None:
        """The catalogue half of a product's row; its shipping weight stays as it is."""
        values = {
            "name": product.name,
            "category": product.category,
            "price": product.price,
            "currency": product.currency,
            "url": product.url,
            "image_url": product.image_url,
            "updated_at": now,
        }
        stmt = upsert(self.s, products).values(store_id=store_id, sku=product.sku, **values)
        self.s.execute(
            stmt.on_conflict_do_update(
                index_elements=["store_id", "sku"],
                set_={k: stmt.excluded[k] for k in values},
            )
        )

    def products(self, store_id: str, skus: Sequence[str]) -> dict[str, Product]:
        rows = self.s.execute(
            select(*_PRODUCT).where(products.c.store_id == store_id, products.c.sku.in_(list(skus)))
        )
        return {r.sku: _product(r) for r in rows}

    def in_stock_alike(
        self,
        store_id: str,
        *,
        category: str,
        currency: str,
        near: Decimal,
        exclude: Sequence[str],
        limit: int,
    ) -> Sequence[tuple[Product, int]]:
        free = func.sum(
            case(
                (
                    stock_levels.c.on_hand > stock_levels.c.reserved,
                    stock_levels.c.on_hand - stock_levels.c.reserved,
                ),
                else_=0,
            )
        )
        q = (
            select(*_PRODUCT, free.label("available"))
            .join(
                stock_levels,
                (stock_levels.c.store_id == products.c.store_id)
                & (stock_levels.c.sku == products.c.sku),
            )
            .where(
                products.c.store_id == store_id,
                products.c.category == category,
                products.c.currency == currency,
                products.c.price.is_not(None),
                products.c.name.is_not(None),
                products.c.sku.not_in(list(exclude)),
            )
            .group_by(*_PRODUCT)
            .having(free > 0)
            .order_by(
                func.abs(products.c.price - literal(near, Amount())),
                products.c.price,
                products.c.sku,
            )
            .limit(limit)
        )
        return [(_product(r), int(r.available)) for r in self.s.execute(q)]

    # -- holds --------------------------------------------------------------------------------

    def hold(self, store_id: str, order_external_id: str, *, lock: bool = False) -> Hold | None:
        q = select(Hold).where(
            holds.c.store_id == store_id, holds.c.order_external_id == order_external_id
        )
        if lock and self.s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()
        return self.s.scalars(q).first()

    def holds_for(self, store_id: str, order_external_ids: Sequence[str]) -> dict[str, Hold]:
        if not order_external_ids:
            return {}
        found = self.s.scalars(
            select(Hold).where(
                holds.c.store_id == store_id,
                holds.c.order_external_id.in_(sorted(set(order_external_ids))),
            )
        )
        return {h.order_external_id: h for h in found}

    def add_hold(self, hold: Hold) -> int | None:
        """Insert ``hold`` (Core, not tracked by the session): its new id, or ``None`` when
        the order already has a hold (made earlier, or by a concurrent twin first)."""
        stmt = _ADD_HOLD["postgresql" if is_postgres(self.s) else "sqlite"]
        new_id: int | None = self.s.execute(
            stmt,
            {
                "store_id": hold.store_id,
                "order_external_id": hold.order_external_id,
                "status": hold.status,
                "created_at": hold.created_at,
                "expires_at": hold.expires_at,
                "lines": hold.lines,
                "short": hold.short,
            },
        ).scalar()
        return new_id

    def shorten(self, hold_id: int, short: Sequence[str]) -> None:
        """Turn a hold inserted as active into a short one (nothing reserved)."""
        self.s.execute(_SHORTEN, {"p_id": hold_id, "p_short": list(short)})

    def expired_holds(self, *, now: datetime, limit: int) -> Sequence[Hold]:
        q = (
            select(Hold)
            .where(holds.c.status == HoldStatus.ACTIVE, holds.c.expires_at <= now)
            .order_by(holds.c.expires_at)
            .limit(limit)
        )
        if self.s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        return self.s.scalars(q).all()

    def level_page(
        self, store_id: str, *, sku: str | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[StockLevel]:
        q = select(stock_levels).where(stock_levels.c.store_id == store_id)
        if sku:
            q = q.where(stock_levels.c.sku.startswith(sku, autoescape=True))
        if after is not None:
            q = q.where(
                or_(
                    stock_levels.c.sku > after[0],
                    and_(stock_levels.c.sku == after[0], stock_levels.c.warehouse > after[1]),
                )
            )
        q = q.order_by(stock_levels.c.sku, stock_levels.c.warehouse).limit(limit)
        return [StockLevel(r.warehouse, r.sku, r.on_hand, r.reserved) for r in self.s.execute(q)]

    def hold_page(
        self, store_id: str, *, status: str | None, after: tuple[datetime, int] | None, limit: int
    ) -> Sequence[Hold]:
        q = select(Hold).where(holds.c.store_id == store_id)
        if status is not None:
            q = q.where(holds.c.status == status)
        if after is not None:
            q = q.where(
                or_(
                    holds.c.expires_at > after[0],
                    and_(holds.c.expires_at == after[0], holds.c.id > after[1]),
                )
            )
        return self.s.scalars(q.order_by(holds.c.expires_at, holds.c.id).limit(limit)).all()
