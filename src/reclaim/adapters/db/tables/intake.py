"""The inbox: every delivery, raw, before anything else happens to it (SPEC S1 "inbox
first")."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import UTCDateTime

inbox = Table(
    "inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("source", String(16), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("event_id", String(128)),
    Column("digest", String(64), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    # received -> processing -> processed | ignored | failed ; malformed deliveries start failed
    Column("status", String(16), nullable=False),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("duplicates", Integer, nullable=False, default=0),
    Column("lease_until", UTCDateTime),
    Column("processed_at", UTCDateTime),
    # A duplicate is the same bytes, or the same event id, under the same topic (issue 14):
    # one body sent under two topics is two deliveries.
    UniqueConstraint("store_id", "source", "topic", "digest"),
    Index("ix_inbox_status_id", "status", "id"),
    Index(
        "uq_inbox_event",
        "store_id",
        "source",
        "topic",
        "event_id",
        unique=True,
        sqlite_where=text("event_id IS NOT NULL"),
        postgresql_where=text("event_id IS NOT NULL"),
    ),
)
