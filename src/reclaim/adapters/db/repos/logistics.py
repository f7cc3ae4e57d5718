"""SQLAlchemy repository for shipment scans and the shipments the logistics sweep reads
(SPEC S9)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from reclaim.adapters.db.dialect import upsert
from reclaim.adapters.db.tables import holds, orders, shipment_scans, shipments
from reclaim.domain.events import ShipmentStatus
from reclaim.domain.holds import HoldLine
from reclaim.domain.logistics import Scan
from reclaim.domain.shipments import Shipment
from reclaim.services.ports import DeliveredParcel

_FINISHED = (ShipmentStatus.DELIVERED.value, ShipmentStatus.RETURNED.value)


def _hold_line(x: dict[str, object]) -> HoldLine:
    """One of a hold's lines as kept (as :meth:`Hold.hold_lines` reads them)."""
    return HoldLine(str(x["warehouse"]), str(x["sku"]), int(str(x["quantity"])))


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

    def scans_for(
        self, store_id: str, shipment_external_ids: Sequence[str]
    ) -> dict[str, list[Scan]]:
        if not shipment_external_ids:
            return {}
        c = shipment_scans.c
        rows = self.s.execute(
            select(c.shipment_external_id, c.status, c.occurred_at, c.location)
            .where(
                c.store_id == store_id,
                c.shipment_external_id.in_(sorted(set(shipment_external_ids))),
            )
            .order_by(c.shipment_external_id, c.occurred_at, c.id)
        )
        found: dict[str, list[Scan]] = {}
        for ship, st, at, loc in rows:
            found.setdefault(ship, []).append(Scan(ShipmentStatus(st), at, loc or None))
        return found

    def active_shipments(self, *, after_id: int, limit: int) -> Sequence[Shipment]:
        """Shipments not yet delivered or returned, by id, after ``after_id`` (paging)."""
        return self.s.scalars(
            select(Shipment)
            .where(shipments.c.status.not_in(_FINISHED), shipments.c.id > after_id)
            .order_by(shipments.c.id)
            .limit(limit)
        ).all()

    def for_order(self, store_id: str, order_external_id: str, *, limit: int) -> Sequence[Shipment]:
        return self.s.scalars(
            select(Shipment)
            .where(
                shipments.c.store_id == store_id,
                shipments.c.order_external_id == order_external_id,
            )
            .order_by(shipments.c.first_event_at, shipments.c.id)
            .limit(limit)
        ).all()

    def delivered_parcels(
        self, store_id: str, *, since: datetime, promised_only: bool
    ) -> Sequence[DeliveredParcel]:
        s, o, h = shipments.c, orders.c, holds.c
        q = (
            select(
                s.external_id,
                s.order_external_id,
                s.delivered_at,
                s.estimated_delivery_at,
                o.id.label("order_id"),
                o.contact,
                h.lines,
            )
            .select_from(
                shipments.outerjoin(
                    orders,
                    and_(o.store_id == s.store_id, o.external_id == s.order_external_id),
                ).outerjoin(
                    holds,
                    and_(h.store_id == s.store_id, h.order_external_id == s.order_external_id),
                )
            )
            .where(s.store_id == store_id, s.delivered_at.is_not(None), s.delivered_at >= since)
            .order_by(s.delivered_at, s.id)
        )
        if promised_only:
            q = q.where(s.estimated_delivery_at.is_not(None))
        return [
            DeliveredParcel(
                r.external_id,
                r.order_external_id,
                r.delivered_at,
                r.estimated_delivery_at,
                r.contact if r.order_id is not None else None,
                tuple(_hold_line(x) for x in r.lines or ()),
            )
            for r in self.s.execute(q)
        ]

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
