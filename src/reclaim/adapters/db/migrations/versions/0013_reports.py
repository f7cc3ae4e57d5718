"""reports: why each case was abandoned (case_reasons), the customer's country and device and
the experiment variant a case ran (cases), and A/B experiments of flows (issue 15)

A report counts and groups the cases a period opened: ``ix_cases_report`` finds them by store
and creation time without reading the others. Reasons are rows of their own (a case has
several, inferred from the facts or answered by the customer), counted by store and reason.
Cases opened before this revision take their country from the contact they keep; their
device and reasons stay unknown (NULL, no rows): a report says so rather than guess.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import reclaim.adapters.db.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("device", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("experiment_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("variant", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_cases_report", ["store_id", "created_at"], unique=False)

    # The country the contact JSON names, where it is a two-letter code.
    if op.get_bind().dialect.name == "postgresql":
        country = "UPPER(contact->>'country')"
    else:
        country = "UPPER(json_extract(contact, '$.country'))"
    op.execute(
        f"UPDATE cases SET country = {country} "  # noqa: S608 — a constant expression
        f"WHERE {country} IS NOT NULL AND LENGTH({country}) = 2"
    )

    op.create_table(
        "case_reasons",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),  # inferred | customer
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("at", reclaim.adapters.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_case_reasons_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reasons")),
        sa.UniqueConstraint(
            "case_id", "reason", "source", name=op.f("uq_case_reasons_case_id_reason_source")
        ),
    )
    with op.batch_alter_table("case_reasons", schema=None) as batch_op:
        batch_op.create_index("ix_case_reasons_store", ["store_id", "reason"], unique=False)

    op.create_table(
        "experiments",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("target", sa.String(length=32), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "started_at", reclaim.adapters.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "stopped_at", reclaim.adapters.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("store_id", "name", name=op.f("uq_experiments_store_id_name")),
    )


def downgrade() -> None:
    op.drop_table("experiments")
    with op.batch_alter_table("case_reasons", schema=None) as batch_op:
        batch_op.drop_index("ix_case_reasons_store")
    op.drop_table("case_reasons")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_report")
        batch_op.drop_column("variant")
        batch_op.drop_column("experiment_id")
        batch_op.drop_column("device")
        batch_op.drop_column("country")
