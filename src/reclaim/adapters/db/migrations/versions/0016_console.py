"""console: users, the stores each may see, signed-in sessions, template versions, and a
case's assignee and manual follow-up, a message's rendered text (issue 13, SPEC S11)

Cases opened before this revision have no assignee and stay automated. Templates saved
before it have no history: their first version is the next save. Messages sent before it
have no text kept: the console shows their subject only.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 10:00:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import reclaim.adapters.db.types

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, *, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, reclaim.adapters.db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        _at("created_at", nullable=False),
        _at("disabled_at", nullable=True),
        _at("last_login_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "user_stores",
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_user_stores_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_stores_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "store_id", name=op.f("pk_user_stores")),
    )
    op.create_table(
        "console_sessions",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        _at("created_at", nullable=False),
        _at("last_seen_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_console_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_console_sessions")),
    )
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "template_versions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("store_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("compiled", sa.JSON(), nullable=True),
        _at("saved_at", nullable=False),
        sa.Column("saved_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
    )
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_template_versions", ["store_id", "key", "channel", "locale", "id"], unique=False
        )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("manual", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_body", sa.Text(), nullable=True))
    # When Reclaim last wrote each fact: retention counts from it (a platform's own times can
    # be years old, a deleted order's mark has none). Facts kept before this revision count
    # from the upgrade.
    upgraded = datetime.now(UTC)
    for name in ("checkouts", "orders", "payment_attempts"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(_at("stored_at", nullable=True))
        table = sa.table(name, sa.column("stored_at", reclaim.adapters.db.types.UTCDateTime()))
        op.execute(table.update().values(stored_at=upgraded))
    # The report's cohort leaves test-mode cases out: their marks, a few rows (issue 15).
    test_mode = sa.text("type = 'test_mode'")
    op.create_index(
        "ix_case_events_test",
        "case_events",
        ["case_id"],
        unique=False,
        sqlite_where=test_mode,
        postgresql_where=test_mode,
    )


def downgrade() -> None:
    for name in ("payment_attempts", "orders", "checkouts"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("stored_at")
    op.drop_index("ix_case_events_test", table_name="case_events")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("text_body")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("manual")
        batch_op.drop_column("assignee_id")
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_template_versions")
    op.drop_table("template_versions")
    with op.batch_alter_table("console_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_sessions_user_id"))
    op.drop_table("console_sessions")
    op.drop_table("user_stores")
    op.drop_table("users")
