"""Shipments: each parcel's latest known state, merged like the other facts (SPEC S9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reclaim.domain.events import ShipmentObserved, ShipmentStatus
from reclaim.domain.facts import earliest, observation_digest

_SHIP_RANK = {
    ShipmentStatus.LABEL_CREATED: 0,
    ShipmentStatus.IN_TRANSIT: 1,
    ShipmentStatus.CUSTOMS_HOLD: 2,
    ShipmentStatus.EXCEPTION: 2,
    ShipmentStatus.OUT_FOR_DELIVERY: 3,
    ShipmentStatus.DELIVERED: 4,
    ShipmentStatus.RETURNED: 5,
}


@dataclass(eq=False)
class Shipment:
    store_id: str
    external_id: str
    order_external_id: str
    status: str
    first_event_at: datetime
    last_event_at: datetime
    version_tag: str
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    location: str | None = None
    estimated_delivery_at: datetime | None = None
    delivered_at: datetime | None = None
    id: int | None = None

    @classmethod
    def new(cls, store_id: str, obs: ShipmentObserved) -> Shipment:
        s = cls(
            store_id=store_id,
            external_id=obs.external_id,
            order_external_id=obs.order_external_id,
            status=obs.status,
            first_event_at=obs.occurred_at,
            last_event_at=obs.occurred_at,
            version_tag="",
        )
        s._take(obs)
        return s

    def observe(self, obs: ShipmentObserved) -> bool:
        before = (self.last_event_at, self.version_tag, self.first_event_at, self.delivered_at)
        if (obs.occurred_at, self._tag(obs)) > (self.last_event_at, self.version_tag):
            self._take(obs)
        self.first_event_at = min(self.first_event_at, obs.occurred_at)
        if obs.status == ShipmentStatus.DELIVERED:
            self.delivered_at = earliest(self.delivered_at, obs.occurred_at)
        return before != (
            self.last_event_at,
            self.version_tag,
            self.first_event_at,
            self.delivered_at,
        )

    @staticmethod
    def _tag(obs: ShipmentObserved) -> str:
        return f"{_SHIP_RANK[obs.status]}{observation_digest(obs)}"

    def _take(self, obs: ShipmentObserved) -> None:
        self.status = obs.status
        self.last_event_at = obs.occurred_at
        self.version_tag = self._tag(obs)
        self.carrier = obs.carrier or self.carrier
        self.tracking_number = obs.tracking_number or self.tracking_number
        self.tracking_url = obs.tracking_url or self.tracking_url
        self.location = obs.location
        self.estimated_delivery_at = obs.estimated_delivery_at or self.estimated_delivery_at
        if obs.status == ShipmentStatus.DELIVERED:
            self.delivered_at = earliest(self.delivered_at, obs.occurred_at)
