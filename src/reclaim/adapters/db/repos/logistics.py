"""SQLAlchemy repository for shipment scans and the shipments the logistics sweep reads
(SPEC S9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import upsert
from reclaim.adapters.db.tables import shipment_scans, shipments
from reclaim.domain.events import ShipmentStatus
from reclaim.domain.logistics import Scan
from reclaim.domain.shipments import Shipment

_FINISHED = (ShipmentStatus.DELIVERED.value, ShipmentStatus.RETURNED.value)


class SqlLogistics:
    def __init__(self, session: Session) -> None:
        self.s = session

    def add_scan(
        self,
        store_id: str,
        shipment_external_id: str,
        *,
        status: str,
        location: str | None,
        occurred_at: datetime,
    ) -> bool:
        """Keep one scan; ``False`` when the identical scan is already kept (a redelivery)."""
        insert: Any = upsert(self.s, shipment_scans)
        made = self.s.execute(
            insert.values(
                store_id=store_id,
                shipment_external_id=shipment_external_id,
                status=status,
                location=(location or "")[:255],
                occurred_at=occurred_at,
            )
            .on_conflict_do_nothing()
            .returning(shipment_scans.c.id)
        ).scalar()
        return made is not None  # (the rowcount of DO NOTHING is -1 on PostgreSQL)

    def scans(self, store_id: str, shipment_external_id: str) -> Sequence[Scan]:
        rows = self.s.execute(
            select(shipment_scans.c.status, shipment_scans.c.occurred_at, shipment_scans.c.location)
            .where(
                shipment_scans.c.store_id == store_id,
                shipment_scans.c.shipment_external_id == shipment_external_id,
            )
            .order_by(shipment_scans.c.occurred_at, shipment_scans.c.id)
        )
        return [Scan(ShipmentStatus(st), at, loc or None) for st, at, loc in rows]

    def active_shipments(self, *, after_id: int, limit: int) -> Sequence[Shipment]:
        """Shipments not yet delivered or returned, by id, after ``after_id`` (paging)."""
        return self.s.scalars(
            select(Shipment)
            .where(shipments.c.status.not_in(_FINISHED), shipments.c.id > after_id)
            .order_by(shipments.c.id)
            .limit(limit)
        ).all()

    def delivered_shipments(self, store_id: str, *, since: datetime) -> Sequence[Shipment]:
        """The store's shipments delivered at or after ``since``, oldest delivery first."""
        return self.s.scalars(
            select(Shipment)
            .where(
                shipments.c.store_id == store_id,
                shipments.c.delivered_at.is_not(None),
                shipments.c.delivered_at >= since,
            )
            .order_by(shipments.c.delivered_at, shipments.c.id)
        ).all()
