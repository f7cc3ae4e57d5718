"""What the console adds (SPEC S11): its users, the stores each may see, their signed-in
sessions, and every saved version of a store's templates (history, diff and rollback).
Defined after every older table, so that ``metadata.tables`` keeps its order."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import UTCDateTime

# ``password_hash`` is argon2id's encoded string.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("role", String(16), nullable=False),  # admin | operator | viewer
    Column("password_hash", String(200), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Column("last_login_at", UTCDateTime),
)

# The stores a non-admin user may see (an agency's operator: some of its clients' stores).
user_stores = Table(
    "user_stores",
    metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
)

# Signed-in browsers: the cookie's token is never stored, only its SHA-256.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)

# What ``templates`` held after each save, who saved it and when; a delete is a row whose
# ``compiled`` is NULL.
template_versions = Table(
    "template_versions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("key", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("compiled", JSON),
    Column("saved_at", UTCDateTime, nullable=False),
    Column("saved_by", String(120), nullable=False),
    Index("ix_template_versions", "store_id", "key", "channel", "locale", "id"),
)
