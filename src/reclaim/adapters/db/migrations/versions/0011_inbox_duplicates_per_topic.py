"""inbox: duplicates are per topic (the body digest and the event id are unique per topic)

The same bytes sent under another topic (Shopify's ``orders/create`` and ``orders/updated``
of one order, WooCommerce's current state as ``order.created`` and ``order.updated``) are
another delivery, no longer a duplicate of the first. Both keys only widen, so no kept row
can conflict; a downgrade fails while two rows share a body under different topics.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WHERE = sa.text("event_id IS NOT NULL")


def _keys(*, topic: bool) -> None:
    """Swap the inbox's two unique keys for those with (``topic``) or without the topic.

    The partial index is dropped and made outside the batch: SQLite's batch mode copies the
    table and would have to reflect the index's ``WHERE`` to keep it."""
    old, new = ("", "topic_") if topic else ("topic_", "")
    columns = ["store_id", "source", *(["topic"] if topic else [])]
    op.drop_index("uq_inbox_event", table_name="inbox", sqlite_where=WHERE, postgresql_where=WHERE)
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_constraint(f"uq_inbox_store_id_source_{old}digest", type_="unique")
        batch_op.create_unique_constraint(
            f"uq_inbox_store_id_source_{new}digest", [*columns, "digest"]
        )
    op.create_index(
        "uq_inbox_event",
        "inbox",
        [*columns, "event_id"],
        unique=True,
        sqlite_where=WHERE,
        postgresql_where=WHERE,
    )


def upgrade() -> None:
    _keys(topic=True)


def downgrade() -> None:
    _keys(topic=False)
