"""Shipment scans (SPEC S9): every tracking event of a parcel."""

from __future__ import annotations

from sqlalchemy import Column, String, Table, UniqueConstraint

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import UTCDateTime

# Every tracking event of a parcel, so its timeline can be judged (reclaim.domain.logistics).
# No location is stored as "" so that the unique constraint drops identical redeliveries.
shipment_scans = Table(
    "shipment_scans",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("shipment_external_id", String(255), nullable=False),
    Column("status", String(24), nullable=False),
    Column("location", String(255), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    UniqueConstraint(
        "store_id",
        "shipment_external_id",
        "occurred_at",
        "status",
        "location",
        name="uq_shipment_scans_scan",
    ),
)
