"""product catalogue: name, category, price and links of a store's products

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:05:23.291416
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import reclaim.adapters.db.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("price", reclaim.adapters.db.types.Amount(), nullable=True))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column("url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("image_url", sa.Text(), nullable=True))
        # A catalogue entry may come without a shipping weight (0.5 kg is assumed then).
        batch_op.alter_column(
            "weight_kg", existing_type=reclaim.adapters.db.types.Amount(), nullable=True
        )
        batch_op.create_index("ix_products_category", ["store_id", "category"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM products WHERE weight_kg IS NULL")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_category")
        batch_op.alter_column(
            "weight_kg", existing_type=reclaim.adapters.db.types.Amount(), nullable=False
        )
        batch_op.drop_column("image_url")
        batch_op.drop_column("url")
        batch_op.drop_column("currency")
        batch_op.drop_column("price")
        batch_op.drop_column("category")
        batch_op.drop_column("name")
