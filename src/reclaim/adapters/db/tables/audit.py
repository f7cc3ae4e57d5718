"""The audit log (SPEC S13): every change made through the CLI or the API, who made it and
when, what it acted on and the values before and after (secrets masked, no personal data in
clear: a subject is an id or a keyed hash)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import UTCDateTime

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("store_id", String(32)),  # NULL: a change of no one store (an inbox replay of all)
    Column("actor", String(120), nullable=False),  # cli:<os user> | api:<key prefix> | …
    Column("action", String(48), nullable=False),  # store.set | key.add | customer.erase | …
    Column("subject", String(200), nullable=False),  # a store or case id, a prefix, hash:…
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_audit_log_store", "store_id", "at"),
)
