"""Consent per participant: answers collected, line shown to the family or the network.

Revision ID: 7d3b9e41c2a8
Revises: 5b7d9e1f3a20
Create Date: 2026-11-24 19:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7d3b9e41c2a8"
down_revision = "5b7d9e1f3a20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "participant_consents",
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("collect", sa.Boolean(), nullable=False),
        sa.Column("show_family", sa.Boolean(), nullable=False),
        sa.Column("show_network", sa.Boolean(), nullable=False),
        sa.Column("given_by", sa.Enum("self", "guardian", name="consentgiver",
                                      native_enum=False, create_constraint=True, length=10),
                  nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"],
                                name=op.f("fk_participant_consents_participant_id_participants")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_participant_consents_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_participant_consents")),
    )


def downgrade():
    op.drop_table("participant_consents")
