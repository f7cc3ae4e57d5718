"""report indexes: a period's checkouts and orders by store and creation time (issue 15)

The report's funnel counts a period's checkouts and orders (``reclaim report``, ``GET
/api/v1/reports/summary``); without these it read every checkout and order of every store
(bench/reports: 1,000,000 checkouts and 400,000 orders, docs/benchmarks.md).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 08:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.create_index("ix_checkouts_report", ["store_id", "created_at"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_report", ["store_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_report")
    with op.batch_alter_table("checkouts", schema=None) as batch_op:
        batch_op.drop_index("ix_checkouts_report")
