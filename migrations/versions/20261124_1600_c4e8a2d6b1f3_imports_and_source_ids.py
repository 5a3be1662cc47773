"""Imports: batches, source ids on imported rows, cases without a responsible caseworker.

Revision ID: c4e8a2d6b1f3
Revises: 760e8bc2d825
Create Date: 2026-11-24 16:00:00

Source ids live in their own columns (decision 39). Imported cases have no
responsible caseworker until one is assigned, so ``cases.responsible_id``
becomes nullable: PostgreSQL alters the column; SQLite must rebuild the
table, which env.py allows by switching foreign-key enforcement off for the
migration (and checking the keys afterwards). ``audit_events`` is not touched.
"""

import sqlalchemy as sa
from alembic import op

revision = "c4e8a2d6b1f3"
down_revision = "760e8bc2d825"
branch_labels = None
depends_on = None

IMPORTED_TABLES = ("cases", "participants", "meetings", "responses")


def _cases_table(responsible_nullable: bool) -> sa.Table:
    """``cases`` as the models define it (without the new columns), for SQLite's rebuild."""
    return sa.Table(
        "cases", sa.MetaData(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("responsible_id", sa.Uuid(), nullable=responsible_nullable),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("child_birth_year", sa.Integer(), nullable=False),
        sa.Column("child_birth_month", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("child_birth_month IS NULL OR child_birth_month BETWEEN 1 AND 12",
                           name="ck_cases_birth_month"),
        sa.CheckConstraint("closed_on IS NULL OR closed_on >= opened_on",
                           name="ck_cases_closed_after_opened"),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name="fk_cases_organisation_id_organisations"),
        sa.ForeignKeyConstraint(["responsible_id"], ["users.id"],
                                name="fk_cases_responsible_id_users"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_cases_team_id_teams"),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("organisation_id", "reference",
                            name="uq_cases_organisation_id_reference"),
        sa.Index("ix_cases_responsible_id", "responsible_id"),
        sa.Index("ix_cases_team_id", "team_id"),
    )


def _responsible_nullable(nullable: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("cases", copy_from=_cases_table(not nullable),
                                  recreate="always") as batch:
            batch.alter_column("responsible_id", existing_type=sa.Uuid(), nullable=nullable)
    else:
        op.alter_column("cases", "responsible_id", existing_type=sa.Uuid(), nullable=nullable)


def upgrade():
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("mode", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("rows_unchanged", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("responses_written", sa.Integer(), nullable=False),
        sa.Column("refusal", sa.String(length=200), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name="fk_import_batches_created_by_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_import_batches"),
    )
    # The rebuild first (SQLite), so it copies the table without the new columns.
    _responsible_nullable(True)
    for table in IMPORTED_TABLES:
        # Plain ADD COLUMN on both engines: no table is copied for these.
        op.add_column(table, sa.Column("source", sa.String(length=64), nullable=True))
        op.add_column(table, sa.Column("source_id", sa.String(length=100), nullable=True))
        op.add_column(table, sa.Column("import_id", sa.Uuid(), nullable=True))
        op.create_index(f"uq_{table}_source", table, ["source", "source_id"], unique=True)
        op.create_index(f"ix_{table}_import_id", table, ["import_id"])


def downgrade():
    unassigned = op.get_bind().execute(
        sa.text("SELECT count(*) FROM cases WHERE responsible_id IS NULL")).scalar()
    if unassigned:
        raise RuntimeError(f"{unassigned} imported cases have no responsible caseworker: "
                           "roll their imports back (flask import --rollback) or assign them "
                           "before downgrading")
    for table in IMPORTED_TABLES:
        op.drop_index(f"ix_{table}_import_id", table_name=table)
        op.drop_index(f"uq_{table}_source", table_name=table)
        op.drop_column(table, "import_id")
        op.drop_column(table, "source_id")
        op.drop_column(table, "source")
    _responsible_nullable(False)
    op.drop_table("import_batches")
