"""checkouts: shipping, discount, fees and tax as the platform states them, so that an
abandoned cart's email shows its shipping as shipping (issue 14)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import reclaim.adapters.db.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Checkouts stored before this revision keep NULL: their emails show the lines and the
    # total, and whatever else the total holds as one "other charges" line.
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("charges", reclaim.adapters.db.types.ChargesJSON(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.drop_column("charges")
