"""Stock and holds (SPEC S7): warehouses, stock levels, holds."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import UTCDateTime

warehouses = Table(
    "warehouses",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("code", String(32), nullable=False),
    Column("country", String(2), nullable=False),
    Column("region", String(64)),
    Column("timezone", String(64), nullable=False),
    Column("cutoff", String(5), nullable=False),  # "HH:MM", local time
    Column("working_days", String(7), nullable=False),  # ISO weekdays, "12345"
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("store_id", "code"),
)

# Reservations never exceed what is available: conditional updates (reserved + q <= on_hand)
# decide. A recount may still set on_hand below reserved; that shortfall is reported.
stock_levels = Table(
    "stock_levels",
    metadata,
    Column("store_id", String(32), primary_key=True),
    Column("warehouse", String(32), primary_key=True),
    Column("sku", String(255), primary_key=True),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    CheckConstraint("reserved >= 0 AND on_hand >= 0", name="not_negative"),
    Index("ix_stock_levels_sku", "store_id", "sku"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("order_external_id", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("lines", JSON, nullable=False),
    Column("short", JSON, nullable=False),
    Column("closed_at", UTCDateTime),
    UniqueConstraint("store_id", "order_external_id"),
    Index("ix_holds_expiry", "status", "expires_at"),
)
