"""Users signed in through OpenID Connect, unlock PINs, where roles came from; teams deactivated.

Revision ID: b7d2f4a9c6e1
Revises: c4e8a2d6b1f3
Create Date: 2026-11-24 19:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "b7d2f4a9c6e1"
down_revision = "c4e8a2d6b1f3"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (no batch mode): batch mode would copy users, which half the
    # schema refers to; every new column is nullable or has a server default.
    op.add_column("users", sa.Column("oidc_issuer", sa.String(length=500), nullable=True))
    op.add_column("users", sa.Column("oidc_subject", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("pin_hash", sa.String(length=255), nullable=True))
    op.add_column("users", sa.Column("suspended", sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    op.add_column("users", sa.Column("role_origin", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("last_sign_in_at", sa.DateTime(), nullable=True))
    op.create_index("uq_users_oidc_identity", "users", ["oidc_issuer", "oidc_subject"],
                    unique=True)
    op.add_column("teams", sa.Column("active", sa.Boolean(), nullable=False,
                                     server_default=sa.true()))


def downgrade():
    op.execute("ALTER TABLE teams DROP COLUMN active")
    op.drop_index("uq_users_oidc_identity", table_name="users")
    for column in ("last_sign_in_at", "role_origin", "suspended", "pin_hash", "oidc_subject",
                   "oidc_issuer"):
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
