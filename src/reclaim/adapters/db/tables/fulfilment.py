"""Fulfilment (SPEC S8): shipping lanes, and what Reclaim knows of a store's products."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table, Text, UniqueConstraint

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import Amount, UTCDateTime

lanes = Table(
    "lanes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("lane_key", String(255), nullable=False),  # origin|country|region|carrier|service
    Column("origin", String(32), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("store_id", "lane_key"),
)

# What Reclaim knows of a store's products: the shipping weight (fulfilment options), and the
# catalogue entry a message shows when it offers the product instead of a sold-out one
# (reclaim.domain.alternatives). Either half may be missing.
products = Table(
    "products",
    metadata,
    Column("store_id", String(32), primary_key=True),
    Column("sku", String(255), primary_key=True),
    Column("weight_kg", Amount),
    Column("name", String(255)),
    Column("category", String(128)),
    Column("price", Amount),
    Column("currency", String(3)),
    Column("url", Text),
    Column("image_url", Text),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_products_category", "store_id", "category"),
)
