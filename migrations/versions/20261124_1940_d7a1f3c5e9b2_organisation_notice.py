"""The organisation's notice to respondents; the hand-over lock in the staff session row.

Revision ID: d7a1f3c5e9b2
Revises: e7a1b9c3d5f2
Create Date: 2026-11-24 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d7a1f3c5e9b2"
down_revision = "e7a1b9c3d5f2"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE ADD COLUMN (nullable): no table copy on SQLite.
    op.add_column("organisations", sa.Column("notice_da", sa.String(length=1000), nullable=True))
    op.add_column("organisations", sa.Column("notice_en", sa.String(length=1000), nullable=True))
    # Where the caseworker was when they handed the tablet over; set: locked.
    op.add_column("staff_sessions",
                  sa.Column("handover_back", sa.String(length=2000), nullable=True))


def downgrade():
    op.execute("ALTER TABLE staff_sessions DROP COLUMN handover_back")
    op.execute("ALTER TABLE organisations DROP COLUMN notice_en")
    op.execute("ALTER TABLE organisations DROP COLUMN notice_da")
