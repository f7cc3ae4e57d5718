"""The outbox of calls to the stores' platforms."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import UTCDateTime

# What Reclaim must tell a store's platform (cancel an unpaid order at its hold's end): an
# outbox, sent by the worker outside any transaction, retried with backoff.
platform_actions = Table(
    "platform_actions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("action", String(32), nullable=False),
    Column("order_external_id", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # pending | done | failed | skipped
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime, nullable=False),
    Column("first_attempt_at", UTCDateTime),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("done_at", UTCDateTime),
    UniqueConstraint("store_id", "action", "order_external_id"),
    Index("ix_platform_actions_due", "status", "due_at"),
)
