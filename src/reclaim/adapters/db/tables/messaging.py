"""Flows and messages (SPEC S3-S6): flow versions, scheduled steps, messages and their
events, suppressions, coupons, merchants' templates, alerts; experiments of flows."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import Amount, UTCDateTime

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

# A/B/n tests of a flow or of one step (issue 15): each case is assigned a variant by hashing
# it (cases.experiment_id, cases.variant); ``variants`` holds {key, weight, flow_id, overrides}.
experiments = Table(
    "experiments",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("store_id", String(32), nullable=False),
    Column("name", String(120), nullable=False),
    Column("kind", String(24), nullable=False),  # the case kind it tests
    Column("target", String(32), nullable=False),  # "flow", or a step key
    Column("variants", JSON, nullable=False),
    Column("status", String(16), nullable=False),  # running | stopped
    Column("started_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime),
    Column("decision", JSON),  # the recommendation and its evidence, when stopped
    UniqueConstraint("store_id", "name"),
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
    # What was sent, for the console: the email's plain-text part, the SMS, the webhook's text
    # (erased with the message; gone when retention deletes it).
    Column("text_body", Text),
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
