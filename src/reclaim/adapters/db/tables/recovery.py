"""Recovery cases, their events, and the reasons each was abandoned for (issue 15)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from reclaim.adapters.db.tables.base import Id, metadata
from reclaim.adapters.db.types import Amount, ContactJSON, ItemsJSON, UTCDateTime

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
    # What reports group by (issue 15): the customer's country when the case opened, the
    # device of the checkout or order, and the experiment variant the case ran.
    Column("country", String(2)),
    Column("device", String(16)),  # mobile | tablet | desktop
    Column("experiment_id", BigInteger),
    Column("variant", String(32)),
    # The console's follow-up work (SPEC S11): who took the case, and whether a person works
    # it instead of the flow ("taken out of automation": no step is sent while true).
    Column("assignee_id", BigInteger),
    Column("manual", Boolean, nullable=False, server_default=text("false")),
    UniqueConstraint("store_id", "kind", "subject_id"),
    Index("ix_cases_list", "store_id", "status", "id"),
    Index("ix_cases_customer", "store_id", "customer_key", "status"),
    # status last: SQLite (never ANALYZEd) then prefers these to ix_cases_list for the
    # open_for_* lookups, which otherwise read every open case of the store (benchmarks.md).
    Index("ix_cases_order", "store_id", "order_external_id", "status"),
    Index("ix_cases_checkout", "store_id", "checkout_external_id", "status"),
    Index("ix_cases_intent", "store_id", "intent_id", "status"),
    Index("ix_cases_expiry", "status", "expires_at"),
    Index("ix_cases_report", "store_id", "created_at"),  # a report's cases: a period's
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
    # A report leaves test-mode cases out: their marks alone (a few rows, issue 15).
    Index(
        "ix_case_events_test",
        "case_id",
        sqlite_where=text("type = 'test_mode'"),
        postgresql_where=text("type = 'test_mode'"),
    ),
)

# Why a case was abandoned (domain.abandonment's taxonomy), several per case: inferred from the
# facts when it opened, or the customer's own answer ("What stopped you?").
case_reasons = Table(
    "case_reasons",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("store_id", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("source", String(16), nullable=False),  # inferred | customer
    Column("detail", Text),  # the evidence, or the customer's own words
    Column("at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id", "reason", "source"),
    Index("ix_case_reasons_store", "store_id", "reason"),
)
