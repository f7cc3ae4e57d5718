"""orders: shipping, discount, fees and tax as the platform states them; the payment method's
name and the order's own payment instructions (issue 14)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import reclaim.adapters.db.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Orders stored before this revision keep NULL: their emails show the lines and the
    # total, and whatever else the total holds as one "other charges" line.
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("charges", reclaim.adapters.db.types.ChargesJSON(), nullable=True)
        )
        batch_op.add_column(sa.Column("payment_title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("payment_instructions", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("payment_instructions")
        batch_op.drop_column("payment_title")
        batch_op.drop_column("charges")
