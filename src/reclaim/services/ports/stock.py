"""Stock and holds, logistics, and the outbox of calls to the platforms (SPEC S7-S9)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from reclaim.domain.alternatives import Product
from reclaim.domain.events import Contact
from reclaim.domain.fulfilment import Lane
from reclaim.domain.holds import Hold, HoldLine
from reclaim.domain.logistics import Scan
from reclaim.domain.shipments import Shipment


@dataclass(frozen=True, slots=True)
class WarehouseRow:
    store_id: str
    code: str
    country: str
    region: str | None
    timezone: str
    cutoff: str  # "HH:MM" local
    working_days: str  # ISO weekdays, e.g. "12345"


@dataclass(frozen=True, slots=True)
class StockLevel:
    warehouse: str
    sku: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return max(self.on_hand - self.reserved, 0)


class StockRepository(Protocol):
    def put_warehouse(self, row: WarehouseRow, *, now: datetime) -> None: ...
    def warehouses(self, store_id: str) -> Sequence[WarehouseRow]: ...
    def set_level(
        self, store_id: str, warehouse: str, sku: str, on_hand: int, *, now: datetime
    ) -> None: ...
    def add_delta(
        self, store_id: str, warehouse: str, sku: str, delta: int, *, now: datetime
    ) -> bool: ...
    def levels(self, store_id: str, skus: Sequence[str] | None = None) -> Sequence[StockLevel]: ...
    def reserve(self, store_id: str, line: HoldLine, *, now: datetime) -> bool: ...
    def unreserve(self, store_id: str, line: HoldLine, *, consume: bool, now: datetime) -> None: ...
    def put_lane(self, store_id: str, lane: Lane, *, now: datetime) -> None: ...
    def lanes(self, store_id: str) -> Sequence[Lane]: ...
    def put_weight(self, store_id: str, sku: str, weight_kg: Decimal, *, now: datetime) -> None: ...
    def weights(self, store_id: str, skus: Sequence[str]) -> dict[str, Decimal]: ...
    def put_product(self, store_id: str, product: Product, *, now: datetime) -> None: ...
    def products(self, store_id: str, skus: Sequence[str]) -> dict[str, Product]: ...
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
        """Named, priced products of ``category`` in ``currency`` with units available (the
        sum over warehouses, returned with each), not in ``exclude``; the ``limit`` nearest in
        price to ``near``, ties to the cheaper, then by SKU."""
        ...

    def hold(self, store_id: str, order_external_id: str, *, lock: bool = False) -> Hold | None: ...
    def holds_for(self, store_id: str, order_external_ids: Sequence[str]) -> dict[str, Hold]:
        """The holds of those of ``order_external_ids`` that have one, by order, one query
        (callers pass a few hundred ids at a time)."""
        ...

    def add_hold(self, hold: Hold) -> int | None: ...
    def shorten(self, hold_id: int, short: Sequence[str]) -> None: ...
    def expired_holds(self, *, now: datetime, limit: int) -> Sequence[Hold]: ...
    def level_page(
        self, store_id: str, *, sku: str | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[StockLevel]:
        """Stock levels by SKU then warehouse, those after ``after`` (sku, warehouse);
        ``sku``: only SKUs starting with it."""
        ...

    def hold_page(
        self, store_id: str, *, status: str | None, after: tuple[datetime, int] | None, limit: int
    ) -> Sequence[Hold]:
        """The store's holds (``status``: only those), soonest end first, those after
        ``after`` (expires_at, id)."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveredParcel:
    """A delivered shipment with what its lane and zone are read from: its order's contact
    (None: no such order) and its hold's lines (none: no hold)."""

    external_id: str
    order_external_id: str
    delivered_at: datetime
    estimated_delivery_at: datetime | None
    contact: Contact | None
    hold_lines: tuple[HoldLine, ...]


class LogisticsRepository(Protocol):
    """Shipment scans and the shipments the logistics sweep looks at (SPEC S9)."""

    def add_scan(
        self,
        store_id: str,
        shipment_external_id: str,
        *,
        status: str,
        location: str | None,
        occurred_at: datetime,
    ) -> bool: ...
    def scans(self, store_id: str, shipment_external_id: str) -> Sequence[Scan]: ...
    def scans_for(
        self, store_id: str, shipment_external_ids: Sequence[str]
    ) -> dict[str, list[Scan]]:
        """The scans of those of ``shipment_external_ids`` that have any, by shipment, each
        as :meth:`scans` orders them, one query (callers pass a few hundred ids at a time)."""
        ...

    def active_shipments(self, *, after_id: int, limit: int) -> Sequence[Shipment]: ...
    def delivered_shipments(self, store_id: str, *, since: datetime) -> Sequence[Shipment]: ...
    def delivered_parcels(
        self, store_id: str, *, since: datetime, promised_only: bool
    ) -> Sequence[DeliveredParcel]:
        """:meth:`delivered_shipments` with their orders' contacts and holds' lines, one
        query (``promised_only``: only those with an ``estimated_delivery_at``)."""
        ...

    def for_order(self, store_id: str, order_external_id: str, *, limit: int) -> Sequence[Shipment]:
        """The order's shipments (at most ``limit``), first shipped first."""
        ...


@dataclass(frozen=True, slots=True)
class PlatformAction:
    id: int
    store_id: str
    action: str  # cancel_order
    order_external_id: str
    attempts: int
    first_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActionState:
    """Where one of an order's platform actions stands."""

    action: str  # cancel_order
    status: str  # pending | done | failed | skipped
    error: str | None
    due_at: datetime  # pending: when it is (next) tried


class PlatformActionRepository(Protocol):
    def add(self, *, store_id: str, action: str, order_external_id: str, now: datetime) -> bool: ...
    def claim(
        self, *, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[PlatformAction]: ...
    def finish(
        self,
        action_id: int,
        *,
        status: str,
        error: str | None,
        now: datetime,
        retry_at: datetime | None,
    ) -> None: ...
    def for_order(self, store_id: str, order_external_id: str) -> Sequence[ActionState]: ...
