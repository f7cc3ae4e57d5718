"""The stores Reclaim works for, and their API keys."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, ForeignKey, String, Table

from reclaim.adapters.db.tables.base import metadata
from reclaim.adapters.db.types import UTCDateTime

stores = Table(
    "stores",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("platform", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("domain", String(253), nullable=False),
    Column("webhook_secret", String(256), nullable=False),
    Column("activated_at", UTCDateTime, nullable=False),
    Column("settings_json", JSON, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("prefix", String(16), primary_key=True),
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("digest", String(64), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("expires_at", UTCDateTime),  # refused from then on; NULL: never
    Column("last_used_at", UTCDateTime),  # written at most once a minute
)
