"""Audit: name the respondent's invitation or the system job that acted.

Revision ID: a1c3e5f70912
Revises: 0cd19bc4aa50
Create Date: 2026-11-24 14:00:00
"""

from alembic import op

revision = "a1c3e5f70912"
down_revision = "0cd19bc4aa50"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE on both databases: batch mode would copy the table on
    # SQLite and lose its append-only triggers.
    op.execute("ALTER TABLE audit_events ADD COLUMN actor_ref VARCHAR(64)")


def downgrade():
    op.execute("ALTER TABLE audit_events DROP COLUMN actor_ref")
