"""Throttle counts: failures per key and window, shared by all workers.

Revision ID: 0cd19bc4aa50
Revises: 3337027eafd8
Create Date: 2026-11-22 06:50:36.855080
"""

import sqlalchemy as sa
from alembic import op

revision = "0cd19bc4aa50"
down_revision = "3337027eafd8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle_counts",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_throttle_counts")),
    )


def downgrade():
    op.drop_table("throttle_counts")
