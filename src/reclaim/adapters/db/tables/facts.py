"""The facts the platforms report: checkouts, orders, payment attempts, shipments."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import Amount, ChargesJSON, ContactJSON, ItemsJSON, UTCDateTime


def _fact_columns() -> list[Column[object]]:
    return [
        Column("id", Id, primary_key=True, autoincrement=True),
        Column("store_id", String(32), nullable=False),
        Column("external_id", String(255), nullable=False),
        Column("customer_key", String(320)),
        Column("email", String(320)),
    ]


checkouts = Table(
    "checkouts",
    metadata,
    *_fact_columns(),
    Column("phone", String(32)),
    Column("contact", ContactJSON, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", Amount, nullable=False),
    Column("items", ItemsJSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version_tag", String(24), nullable=False),
    Column("state", String(16), nullable=False),
    Column("completed_at", UTCDateTime),
    Column("order_external_id", String(255)),
    Column("recovery_url", Text),
    Column("expired_at", UTCDateTime),
    Column("user_agent", Text),
    Column("is_test", Boolean, nullable=False),
    Column("shipping_quote", Amount),
    Column("shipping_days", Integer),
    Column("charges", ChargesJSON),
    Column("abandon_due_at", UTCDateTime),
    Column("ignore_reason", String(32)),
    Column("stored_at", UTCDateTime),  # Reclaim's clock at its last write: retention's age
    UniqueConstraint("store_id", "external_id"),
    Index("ix_checkouts_due", "abandon_due_at"),
    Index("ix_checkouts_customer", "store_id", "customer_key", "state"),
    Index("ix_checkouts_report", "store_id", "created_at"),  # a report's funnel: a period's
)

orders = Table(
    "orders",
    metadata,
    *_fact_columns(),
    Column("phone", String(32)),
    Column("contact", ContactJSON, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", Amount, nullable=False),
    Column("items", ItemsJSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version_tag", String(24), nullable=False),
    Column("financial_status", String(16), nullable=False),
    Column("checkout_external_id", String(255)),
    Column("paid_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("payment_method", String(64)),
    Column("user_agent", Text),
    Column("is_test", Boolean, nullable=False),
    Column("order_number", String(64)),
    Column("payment_url", Text),
    Column("watch", String(16), nullable=False),
    Column("pending_due_at", UTCDateTime),
    Column("discount_codes", JSON, nullable=False, server_default=text("'[]'")),
    # Shipping, discount, fees and tax as the platform stated them; NULL: it did not say.
    Column("charges", ChargesJSON),
    Column("payment_title", String(200)),
    Column("payment_instructions", Text),
    Column("stored_at", UTCDateTime),  # Reclaim's clock at its last write: retention's age
    UniqueConstraint("store_id", "external_id"),
    Index("ix_orders_due", "pending_due_at"),
    Index("ix_orders_customer", "store_id", "customer_key", "paid_at"),
    Index("ix_orders_checkout", "store_id", "checkout_external_id"),
    Index("ix_orders_report", "store_id", "created_at"),  # a report's funnel: a period's
)

payment_attempts = Table(
    "payment_attempts",
    metadata,
    *_fact_columns(),
    Column("intent_id", String(255), nullable=False),
    Column("contact", ContactJSON, nullable=False),
    Column("amount", Amount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("order_external_id", String(255)),
    Column("checkout_external_id", String(255)),
    Column("decline_code", String(64)),
    Column("failure_code", String(64)),
    Column("failure_message", Text),
    Column("payment_method", String(64)),
    Column("is_test", Boolean, nullable=False),
    Column("watch", String(16), nullable=False),
    Column("due_at", UTCDateTime),
    Column("stored_at", UTCDateTime),  # Reclaim's clock at its last write: retention's age
    UniqueConstraint("store_id", "external_id"),
    Index("ix_payment_attempts_due", "due_at"),
    Index("ix_payment_attempts_intent", "store_id", "intent_id", "succeeded"),
    Index("ix_payment_attempts_order", "store_id", "order_external_id", "succeeded"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("order_external_id", String(255), nullable=False),
    Column("status", String(24), nullable=False),
    Column("first_event_at", UTCDateTime, nullable=False),
    Column("last_event_at", UTCDateTime, nullable=False),
    Column("version_tag", String(24), nullable=False),
    Column("carrier", String(64)),
    Column("tracking_number", String(128)),
    Column("tracking_url", Text),
    Column("location", String(255)),
    Column("estimated_delivery_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("store_id", "external_id"),
    Index("ix_shipments_order", "store_id", "order_external_id"),
)
