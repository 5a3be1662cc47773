"""Staff sessions checked on the server; responses voided with a reason.

Revision ID: 2fe6f0c898c3
Revises: a1c3e5f70912
Create Date: 2026-11-24 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "2fe6f0c898c3"
down_revision = "a1c3e5f70912"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_staff_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
    )
    op.create_index("ix_staff_sessions_user_id", "staff_sessions", ["user_id"])
    op.create_table(
        "response_voids",
        sa.Column("response_id", sa.Uuid(), nullable=False),
        sa.Column("voided_at", sa.DateTime(), nullable=False),
        sa.Column("voided_by_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["response_id"], ["responses.id"],
                                name=op.f("fk_response_voids_response_id_responses")),
        sa.ForeignKeyConstraint(["voided_by_id"], ["users.id"],
                                name=op.f("fk_response_voids_voided_by_id_users")),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_response_voids")),
    )
    # The session row replaces the per-user version number: every staff member
    # signs in again once, since no cookie names a session row yet.
    # Plain ALTER TABLE: batch mode would copy users, which half the schema refers to.
    op.execute("ALTER TABLE users DROP COLUMN session_version")


def downgrade():
    op.execute("ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 1")
    op.drop_table("response_voids")
    op.drop_index("ix_staff_sessions_user_id", table_name="staff_sessions")
    op.drop_table("staff_sessions")
