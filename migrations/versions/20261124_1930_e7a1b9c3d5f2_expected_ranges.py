"""Expected ranges: bands per first-score band and rating number (decision 20).

Filled by ``flask expected-range compute`` (nightly) and when a case closes;
a page view only reads them.

Revision ID: e7a1b9c3d5f2
Revises: 7d3b9e41c2a8
Create Date: 2026-11-24 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "e7a1b9c3d5f2"
down_revision = "7d3b9e41c2a8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "expected_range_bases",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("episodes", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name="fk_expected_range_bases_organisation_id_organisations"),
        sa.PrimaryKeyConstraint("organisation_id", "family", "role",
                                name="pk_expected_range_bases"),
    )
    op.create_table(
        "expected_ranges",
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("family", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("band", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("p25_tenths", sa.Float(), nullable=False),
        sa.Column("p75_tenths", sa.Float(), nullable=False),
        sa.Column("episodes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name="fk_expected_ranges_organisation_id_organisations"),
        sa.PrimaryKeyConstraint("organisation_id", "family", "role", "band", "rating",
                                name="pk_expected_ranges"),
    )


def downgrade():
    op.drop_table("expected_ranges")
    op.drop_table("expected_range_bases")
