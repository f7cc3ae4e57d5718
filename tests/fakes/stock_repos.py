"""Fake repositories of warehouses, stock, lanes, products and holds (SPEC S7-S8), platform
actions, and shipment scans (SPEC S9), with the SQL ones' semantics: conditional updates that
say whether they applied, upserts, orderings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from fakes.base import Repo
from fakes.state import ActionRow, LaneRow, LevelRow, ProductRow, ScanRow, clone_row
from fakes.store_repos import by_id
from reclaim.domain.alternatives import Product
from reclaim.domain.events import ShipmentStatus
from reclaim.domain.fulfilment import Lane
from reclaim.domain.holds import Hold, HoldLine, HoldStatus
from reclaim.domain.logistics import Scan
from reclaim.domain.shipments import Shipment
from reclaim.services.ports import (
    ActionState,
    DeliveredParcel,
    PlatformAction,
    StockLevel,
    WarehouseRow,
)

_FINISHED = (ShipmentStatus.DELIVERED.value, ShipmentStatus.RETURNED.value)


class FakeStock(Repo):
    def put_warehouse(self, row: WarehouseRow, *, now: datetime) -> None:
        self.t.warehouses[(row.store_id, row.code)] = row

    def warehouses(self, store_id: str) -> Sequence[WarehouseRow]:
        return [w for (s, _), w in sorted(self.t.warehouses.items()) if s == store_id]

    def set_level(
        self, store_id: str, warehouse: str, sku: str, on_hand: int, *, now: datetime
    ) -> None:
        """A count: a new row starts with nothing reserved; an existing one keeps its
        reservations."""
        found = self.t.levels.get((store_id, warehouse, sku))
        if found is None:
            self.t.levels[(store_id, warehouse, sku)] = LevelRow(on_hand, 0, now)
        else:
            found.on_hand, found.updated_at = on_hand, now

    def add_delta(
        self, store_id: str, warehouse: str, sku: str, delta: int, *, now: datetime
    ) -> bool:
        found = self.t.levels.get((store_id, warehouse, sku))
        if found is None or found.on_hand + delta < 0:
            return False
        found.on_hand, found.updated_at = found.on_hand + delta, now
        return True

    def levels(self, store_id: str, skus: Sequence[str] | None = None) -> Sequence[StockLevel]:
        """By SKU, then warehouse."""
        rows = sorted(
            ((sku, wh), row)
            for (s, wh, sku), row in self.t.levels.items()
            if s == store_id and (skus is None or sku in skus)
        )
        return [StockLevel(wh, sku, row.on_hand, row.reserved) for (sku, wh), row in rows]

    def reserve(self, store_id: str, line: HoldLine, *, now: datetime) -> bool:
        found = self.t.levels.get((store_id, line.warehouse, line.sku))
        if found is None or found.on_hand - found.reserved < line.quantity:
            return False
        found.reserved, found.updated_at = found.reserved + line.quantity, now
        return True

    def unreserve(self, store_id: str, line: HoldLine, *, consume: bool, now: datetime) -> None:
        found = self.t.levels.get((store_id, line.warehouse, line.sku))
        if found is None or found.reserved < line.quantity:
            return
        found.reserved, found.updated_at = found.reserved - line.quantity, now
        if consume:
            found.on_hand -= line.quantity

    def put_lane(self, store_id: str, lane: Lane, *, now: datetime) -> None:
        key = "|".join(str(part or "") for part in lane.key)
        self.t.lanes[(store_id, key)] = LaneRow(lane, now)

    def lanes(self, store_id: str) -> Sequence[Lane]:
        return [row.lane for (s, _), row in sorted(self.t.lanes.items()) if s == store_id]

    def _product_row(self, store_id: str, sku: str, now: datetime) -> ProductRow:
        found = self.t.products.get((store_id, sku))
        if found is None:
            found = self.t.products[(store_id, sku)] = ProductRow(now)
        found.updated_at = now
        return found

    def put_weight(self, store_id: str, sku: str, weight_kg: Decimal, *, now: datetime) -> None:
        self._product_row(store_id, sku, now).weight_kg = weight_kg

    def weights(self, store_id: str, skus: Sequence[str]) -> dict[str, Decimal]:
        return {
            sku: row.weight_kg
            for (s, sku), row in self.t.products.items()
            if s == store_id and sku in skus and row.weight_kg is not None
        }

    def put_product(self, store_id: str, product: Product, *, now: datetime) -> None:
        """The catalogue half of a product's row; its shipping weight stays as it is."""
        self._product_row(store_id, product.sku, now).product = product

    def products(self, store_id: str, skus: Sequence[str]) -> dict[str, Product]:
        return {
            sku: row.product if row.product is not None else Product(sku=sku)
            for (s, sku), row in self.t.products.items()
            if s == store_id and sku in skus
        }

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
        found: list[tuple[Product, int]] = []
        for (s, sku), row in self.t.products.items():
            p = row.product
            if s != store_id or p is None or sku in exclude:
                continue
            if p.category != category or p.currency != currency:
                continue
            if p.price is None or p.name is None:
                continue
            levels = [v for (ls, _, lsku), v in self.t.levels.items() if (ls, lsku) == (s, sku)]
            free = sum(max(v.on_hand - v.reserved, 0) for v in levels)
            if levels and free > 0:
                found.append((p, free))
        found.sort(key=lambda pf: (abs((pf[0].price or 0) - near), pf[0].price, pf[0].sku))
        return found[:limit]

    def hold(self, store_id: str, order_external_id: str, *, lock: bool = False) -> Hold | None:
        return next(
            (
                h
                for h in by_id(self.t.holds)
                if (h.store_id, h.order_external_id) == (store_id, order_external_id)
            ),
            None,
        )

    def holds_for(self, store_id: str, order_external_ids: Sequence[str]) -> dict[str, Hold]:
        wanted = set(order_external_ids)
        found: dict[str, Hold] = {}
        for h in by_id(self.t.holds):
            if h.store_id == store_id and h.order_external_id in wanted:
                found.setdefault(h.order_external_id, h)
        return found

    def add_hold(self, hold: Hold) -> int | None:
        """Keep a copy of ``hold`` (a Core INSERT: ``hold`` itself stays the caller's); its
        new id, or ``None`` when the order has a hold already."""
        if self.hold(hold.store_id, hold.order_external_id) is not None:
            return None
        kept = clone_row(hold)
        kept.id = self._next_id("holds")
        self.t.holds[kept.id] = kept
        return kept.id

    def shorten(self, hold_id: int, short: Sequence[str]) -> None:
        found = self.t.holds.get(hold_id)
        if found is not None:
            found.status, found.lines, found.short = HoldStatus.SHORT, [], list(short)

    def expired_holds(self, *, now: datetime, limit: int) -> Sequence[Hold]:
        due = [
            h
            for h in self.t.holds.values()
            if h.status == HoldStatus.ACTIVE and h.expires_at <= now
        ]
        return sorted(due, key=lambda h: (h.expires_at, h.id))[:limit]

    def level_page(
        self, store_id: str, *, sku: str | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[StockLevel]:
        rows = [
            lv
            for lv in self.levels(store_id)
            if (not sku or lv.sku.startswith(sku))
            and (after is None or (lv.sku, lv.warehouse) > after)
        ]
        return rows[:limit]

    def hold_page(
        self, store_id: str, *, status: str | None, after: tuple[datetime, int] | None, limit: int
    ) -> Sequence[Hold]:
        rows = sorted(
            (
                h
                for h in self.t.holds.values()
                if h.store_id == store_id and (status is None or h.status == status)
            ),
            key=lambda h: (h.expires_at, h.id or 0),
        )
        return [h for h in rows if after is None or (h.expires_at, h.id or 0) > after][:limit]


class FakePlatformActions(Repo):
    def add(self, *, store_id: str, action: str, order_external_id: str, now: datetime) -> bool:
        key = (store_id, action, order_external_id)
        if any(
            (a.store_id, a.action, a.order_external_id) == key
            for a in self.t.platform_actions.values()
        ):
            return False
        action_id = self._next_id("platform_actions")
        self.t.platform_actions[action_id] = ActionRow(
            action_id, store_id, action, order_external_id, "pending", 0, now, now
        )
        return True

    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[PlatformAction]:
        due = [
            a for a in self.t.platform_actions.values() if a.status == "pending" and a.due_at <= now
        ]
        picked = sorted(due, key=lambda a: (a.due_at, a.id))[:limit]
        for a in picked:
            a.due_at, a.attempts = lease_until, a.attempts + 1
            a.first_attempt_at = a.first_attempt_at or now
        return [
            PlatformAction(
                a.id, a.store_id, a.action, a.order_external_id, a.attempts, a.first_attempt_at
            )
            for a in sorted(picked, key=lambda a: a.id)
        ]

    def finish(
        self,
        action_id: int,
        *,
        status: str,
        error: str | None,
        now: datetime,
        retry_at: datetime | None,
    ) -> None:
        found = self.t.platform_actions.get(action_id)
        if found is None:
            return
        found.status, found.error = status, error
        if status == "pending" and retry_at is not None:
            found.due_at = retry_at
        else:
            found.done_at = now

    def for_order(self, store_id: str, order_external_id: str) -> Sequence[ActionState]:
        return [
            ActionState(a.action, a.status, a.error, a.due_at)
            for a in by_id(self.t.platform_actions)
            if (a.store_id, a.order_external_id) == (store_id, order_external_id)
        ]


class FakeLogistics(Repo):
    def add_scan(
        self,
        store_id: str,
        shipment_external_id: str,
        *,
        status: str,
        location: str | None,
        occurred_at: datetime,
    ) -> bool:
        """Keep one scan; ``False`` when the identical scan is kept already."""
        row = ScanRow(
            0, store_id, shipment_external_id, status, (location or "")[:255], occurred_at
        )
        if any(replace(r, id=0) == row for r in self.t.scans.values()):
            return False
        scan_id = self._next_id("shipment_scans")  # the row above has id 0 until kept
        self.t.scans[scan_id] = replace(row, id=scan_id)
        return True

    def scans(self, store_id: str, shipment_external_id: str) -> Sequence[Scan]:
        rows = [
            r
            for r in self.t.scans.values()
            if (r.store_id, r.shipment_external_id) == (store_id, shipment_external_id)
        ]
        return [
            Scan(ShipmentStatus(r.status), r.occurred_at, r.location or None)
            for r in sorted(rows, key=lambda r: (r.occurred_at, r.id))
        ]

    def scans_for(
        self, store_id: str, shipment_external_ids: Sequence[str]
    ) -> dict[str, list[Scan]]:
        wanted = set(shipment_external_ids)
        found: dict[str, list[Scan]] = {}
        for r in sorted(self.t.scans.values(), key=lambda r: (r.occurred_at, r.id)):
            if r.store_id == store_id and r.shipment_external_id in wanted:
                found.setdefault(r.shipment_external_id, []).append(
                    Scan(ShipmentStatus(r.status), r.occurred_at, r.location or None)
                )
        return found

    def active_shipments(self, *, after_id: int, limit: int) -> Sequence[Shipment]:
        return [
            s
            for s in by_id(self.t.shipments)
            if s.status not in _FINISHED and (s.id or 0) > after_id
        ][:limit]

    def for_order(self, store_id: str, order_external_id: str, *, limit: int) -> Sequence[Shipment]:
        found = [
            s
            for s in self.t.shipments.values()
            if s.store_id == store_id and s.order_external_id == order_external_id
        ]
        return sorted(found, key=lambda s: (s.first_event_at, s.id or 0))[:limit]

    def delivered_parcels(
        self, store_id: str, *, since: datetime, promised_only: bool
    ) -> Sequence[DeliveredParcel]:
        found: list[DeliveredParcel] = []
        for s in self.delivered_shipments(store_id, since=since):
            assert s.delivered_at is not None
            if promised_only and s.estimated_delivery_at is None:
                continue
            key = (store_id, s.order_external_id)
            order = next(
                (o for o in by_id(self.t.orders) if (o.store_id, o.external_id) == key), None
            )
            hold = next(
                (h for h in by_id(self.t.holds) if (h.store_id, h.order_external_id) == key), None
            )
            found.append(
                DeliveredParcel(
                    s.external_id,
                    s.order_external_id,
                    s.delivered_at,
                    s.estimated_delivery_at,
                    order.contact if order is not None else None,
                    tuple(hold.hold_lines()) if hold is not None else (),
                )
            )
        return found

    def delivered_shipments(self, store_id: str, *, since: datetime) -> Sequence[Shipment]:
        done = [
            s
            for s in self.t.shipments.values()
            if s.store_id == store_id and s.delivered_at is not None and s.delivered_at >= since
        ]
        return sorted(done, key=lambda s: (s.delivered_at, s.id))
