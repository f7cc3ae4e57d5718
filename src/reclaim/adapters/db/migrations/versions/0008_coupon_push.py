"""coupons: where each stands on the store's platform (pushed, exported) and its id there

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 17:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import reclaim.adapters.db.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("push_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("platform_ref", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column(
                "pushed_at", reclaim.adapters.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("push_error", sa.Text(), nullable=True))
        batch_op.create_index("ix_coupons_platform_ref", ["store_id", "platform_ref"], unique=False)
    # Coupons issued before this revision went out without a connector: left to the merchant.
    op.execute("UPDATE coupons SET push_state = 'exported'")


def downgrade() -> None:
    with op.batch_alter_table("coupons", schema=None) as batch_op:
        batch_op.drop_index("ix_coupons_platform_ref")
        batch_op.drop_column("push_error")
        batch_op.drop_column("pushed_at")
        batch_op.drop_column("platform_ref")
        batch_op.drop_column("push_state")
