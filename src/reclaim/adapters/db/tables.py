"""Tables, and the imperative mapping of the domain's classes onto them.

The domain stays free of SQLAlchemy (cosmicpython's pattern): its dataclasses are mapped here,
once, by :func:`start_mappers`. The schema itself is created and upgraded by Alembic only.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import registry

from reclaim.adapters.db.types import Amount, ChargesJSON, ContactJSON, ItemsJSON, UTCDateTime
from reclaim.domain.cases import Case
from reclaim.domain.facts import Checkout, Order, PaymentAttempt
from reclaim.domain.holds import Hold
from reclaim.domain.shipments import Shipment
from reclaim.domain.steps import Coupon, MessageRecord, ScheduledStep
from reclaim.domain.stores import ApiKey, Store

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
Id = BigInteger().with_variant(Integer(), "sqlite")

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

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
)

# Every delivery, raw, before anything else happens to it (SPEC S1 "inbox first").
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
    UniqueConstraint("store_id", "external_id"),
    Index("ix_checkouts_due", "abandon_due_at"),
    Index("ix_checkouts_customer", "store_id", "customer_key", "state"),
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
    UniqueConstraint("store_id", "external_id"),
    Index("ix_orders_due", "pending_due_at"),
    Index("ix_orders_customer", "store_id", "customer_key", "paid_at"),
    Index("ix_orders_checkout", "store_id", "checkout_external_id"),
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

cases = Table(
    "cases",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("subject_id", String(255), nullable=False),
    Column("customer_key", String(320)),
    Column("email", String(320)),
    Column("phone", String(32)),
    Column("contact", ContactJSON, nullable=False),
    Column("value", Amount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("items", ItemsJSON, nullable=False),
    Column("reason", String(48), nullable=False),
    Column("reason_code", String(64)),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("checkout_external_id", String(255)),
    Column("order_external_id", String(255)),
    Column("intent_id", String(255)),
    Column("recovery_url", Text),
    Column("expires_at", UTCDateTime),
    Column("status", String(16), nullable=False),
    Column("closed_at", UTCDateTime),
    Column("close_reason", String(48)),
    Column("recovered_order_external_id", String(255)),
    Column("recovered_value", Amount),
    Column("attribution", String(16)),
    Column("merged_from", JSON, nullable=False),
    # The flow the case runs (SPEC S3): the version it started with, where it stands.
    Column("flow_id", BigInteger),
    Column("flow_state", String(16)),  # running | holdout | finished | stopped | none
    Column("flow_stop_reason", String(48)),
    Column("holdout", Boolean, nullable=False, server_default=text("false")),
    Column("next_step_at", UTCDateTime),
    Column("attributed_message_id", BigInteger),
    UniqueConstraint("store_id", "kind", "subject_id"),
    Index("ix_cases_list", "store_id", "status", "id"),
    Index("ix_cases_customer", "store_id", "customer_key", "status"),
    # status last: SQLite (never ANALYZEd) then prefers these to ix_cases_list for the
    # open_for_* lookups, which otherwise read every open case of the store (benchmarks.md).
    Index("ix_cases_order", "store_id", "order_external_id", "status"),
    Index("ix_cases_checkout", "store_id", "checkout_external_id", "status"),
    Index("ix_cases_intent", "store_id", "intent_id", "status"),
    Index("ix_cases_expiry", "status", "expires_at"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_case_events_case", "case_id", "id"),
)

# -- flows and messages (SPEC S3-S6) ------------------------------------------------------------

flows = Table(
    "flows",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("kind", String(24), nullable=False),
    Column("version", Integer, nullable=False),
    Column("name", String(120), nullable=False),
    Column("source", Text, nullable=False),  # the YAML as the merchant wrote it
    Column("definition", JSON, nullable=False),  # flow_to_data(): what the engine runs
    Column("created_at", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
    UniqueConstraint("store_id", "kind", "version"),
)

# A scheduled step is a row with due_at (DESIGN.md "durable time lives in the database").
# scheduled -> claimed -> sending -> sent | possibly_sent | failed ; or skipped | cancelled
steps = Table(
    "steps",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("flow_id", BigInteger, nullable=False),
    Column("position", Integer, nullable=False),
    Column("key", String(32), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("lease_until", UTCDateTime),
    Column("claim_token", String(32)),  # which worker's claim: a stale claimer backs off
    Column("attempts", Integer, nullable=False, default=0),
    Column("first_attempt_at", UTCDateTime),
    Column("channel", String(16)),
    Column("message_id", BigInteger),
    Column("outcome", String(48)),
    Column("error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    UniqueConstraint("case_id", "position"),
    Index("ix_steps_due", "status", "due_at"),
    Index("ix_steps_lease", "status", "lease_until"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("step_id", BigInteger, nullable=False, unique=True),
    Column("customer_key", String(320)),
    Column("channel", String(16), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("template", String(64), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("subject", Text),
    Column("header_id", String(255), unique=True),  # the email's Message-ID
    # sending -> sent | possibly_sent | deferred -> … | failed | bounced
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("opened_at", UTCDateTime),
    Column("clicked_at", UTCDateTime),
    Column("opens", Integer, nullable=False, default=0),
    Column("clicks", Integer, nullable=False, default=0),
    Column("provider_id", String(255)),
    Column("segments", Integer),
    Column("coupon_code", String(40)),
    Column("error", Text),
    Index("ix_messages_customer", "store_id", "customer_key", "sent_at"),
    Index("ix_messages_case", "case_id"),
    Index("ix_messages_sent", "store_id", "sent_at"),
)

message_events = Table(
    "message_events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("message_id", ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("type", String(16), nullable=False),  # open | click | restore | unsubscribe | …
    Column("at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_message_events_message", "message_id", "id"),
    Index("ix_message_events_store", "store_id", "type", "at"),
)

# Hashed addresses (domain.policy.suppression_key): an entry survives the customer's erasure.
suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("address_key", String(64), nullable=False),
    Column("reason", String(32), nullable=False),  # unsubscribed | bounced | complained | erased
    Column("created_at", UTCDateTime, nullable=False),
    Column("message_id", BigInteger),
    UniqueConstraint("store_id", "channel", "address_key"),
)

coupons = Table(
    "coupons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(40), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", Amount, nullable=False),
    Column("discount", Amount),  # the money it takes off this case's order
    Column("currency", String(3), nullable=False),
    Column("min_order", Amount),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("redeemed_at", UTCDateTime),
    Column("redeemed_order_external_id", String(255)),
    # Where the coupon stands on the store's platform (SPEC S6: pushed, or exported):
    # None (not tried yet), "pushed", "exported" (no connector: the merchant imports it).
    Column("push_state", String(16)),
    Column("platform_ref", String(255)),  # the platform's id for it (Stripe promo_…, …)
    Column("pushed_at", UTCDateTime),
    Column("push_error", Text),
    UniqueConstraint("store_id", "code"),
    Index("ix_coupons_case", "case_id"),
    Index("ix_coupons_platform_ref", "store_id", "platform_ref"),
)

# Merchants' own templates, compiled (CSS inlined) when saved.
templates = Table(
    "templates",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("key", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("compiled", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("store_id", "key", "channel", "locale"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("notified_at", UTCDateTime),  # when the store's operators were emailed (or none)
    Index("ix_alerts_store", "store_id", "at"),
    Index("ix_alerts_unnotified", "notified_at"),
)

# -- stock and holds (SPEC S7) ---------------------------------------------------------------

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

# -- fulfilment (SPEC S8) --------------------------------------------------------------------

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

# -- shipment scans (SPEC S9) ----------------------------------------------------------------

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

mapper_registry = registry(metadata=metadata)
_mapped = False


def start_mappers() -> None:
    """Map the domain classes; idempotent (bootstrap calls it, so do tests)."""
    global _mapped  # noqa: PLW0603 — a once-per-process switch, like cosmicpython's
    if _mapped:
        return
    mapper_registry.map_imperatively(Store, stores)
    mapper_registry.map_imperatively(ApiKey, api_keys)
    mapper_registry.map_imperatively(Checkout, checkouts)
    mapper_registry.map_imperatively(Order, orders)
    mapper_registry.map_imperatively(PaymentAttempt, payment_attempts)
    mapper_registry.map_imperatively(Shipment, shipments)
    mapper_registry.map_imperatively(Case, cases)
    mapper_registry.map_imperatively(ScheduledStep, steps)
    mapper_registry.map_imperatively(MessageRecord, messages)
    mapper_registry.map_imperatively(Coupon, coupons)
    mapper_registry.map_imperatively(Hold, holds)
    _mapped = True
