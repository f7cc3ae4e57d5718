"""alerts: when the store's operators were told by email

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import reclaim.adapters.db.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "notified_at", reclaim.adapters.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_index("ix_alerts_unnotified", ["notified_at"], unique=False)
    # Alerts raised before this revision are old news: nobody is emailed about them now.
    op.execute("UPDATE alerts SET notified_at = at")


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_unnotified")
        batch_op.drop_column("notified_at")
