"""Retention: grants that let the audit trigger allow its two changes, tombstones, anonymised cases.

Revision ID: 5b7d9e1f3a20
Revises: b7d2f4a9c6e1
Create Date: 2026-11-24 19:00:00

The audit log stays append-only, with exactly two exceptions, both made by
``flask retention run`` while a row of ``retention_grants`` exists in its own
transaction: deleting audit rows written before the grant's ``purge_before``,
and nulling ``object_id`` / ``actor_ref`` (nothing else) of events about a
deleted case. The triggers are replaced on SQLite and PostgreSQL alike.
"""

import sqlalchemy as sa
from alembic import op

revision = "5b7d9e1f3a20"
down_revision = "b7d2f4a9c6e1"
branch_labels = None
depends_on = None

#: The only update allowed: object_id and/or actor_ref become NULL, all else unchanged.
_SAME = " AND ".join(f"NEW.{c} IS OLD.{c}" for c in (
    "id", "at", "actor_id", "actor_kind", "action", "object_type", "outcome", "detail",
    "remote_addr"))
_PG_SAME = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in (
    "id", "at", "actor_id", "actor_kind", "action", "object_type", "outcome", "detail",
    "remote_addr"))
_NULLED = ("(NEW.object_id IS NULL OR NEW.object_id IS OLD.object_id)"
           " AND (NEW.actor_ref IS NULL OR NEW.actor_ref IS OLD.actor_ref)")
_PG_NULLED = ("(NEW.object_id IS NULL OR NEW.object_id IS NOT DISTINCT FROM OLD.object_id)"
              " AND (NEW.actor_ref IS NULL OR NEW.actor_ref IS NOT DISTINCT FROM OLD.actor_ref)")

SQLITE_NEW = [
    "DROP TRIGGER audit_events_no_update",
    "DROP TRIGGER audit_events_no_delete",
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       WHEN NOT (EXISTS (SELECT 1 FROM retention_grants) AND {_SAME} AND {_NULLED})
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",  # noqa: S608 (constants)
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       WHEN NOT EXISTS (SELECT 1 FROM retention_grants g WHERE OLD.at < g.purge_before)
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
SQLITE_OLD = [
    "DROP TRIGGER audit_events_no_update",
    "DROP TRIGGER audit_events_no_delete",
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
]
POSTGRES_NEW = [
    f"""CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'DELETE' AND EXISTS (
             SELECT 1 FROM retention_grants g WHERE OLD.at < g.purge_before) THEN
           RETURN OLD;
         END IF;
         IF TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM retention_grants)
            AND {_PG_SAME} AND {_PG_NULLED} THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_events is append-only';
       END $$""",  # noqa: S608 (built from constants)
]
POSTGRES_OLD = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
]


def _run(sqlite, postgres):
    for statement in sqlite if op.get_bind().dialect.name == "sqlite" else postgres:
        op.execute(statement)


def upgrade():
    op.create_table(
        "retention_grants",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=True, nullable=False),
        sa.Column("purge_before", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_grants")),
    )
    op.create_table(
        "tombstones",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "source", "source_id", name=op.f("pk_tombstones")),
    )
    # A plain ADD COLUMN: no table rebuild on SQLite.
    op.add_column("cases", sa.Column("anonymised_at", sa.DateTime(), nullable=True))
    _run(SQLITE_NEW, POSTGRES_NEW)


def downgrade():
    _run(SQLITE_OLD, POSTGRES_OLD)
    op.execute("ALTER TABLE cases DROP COLUMN anonymised_at")
    op.drop_table("tombstones")
    op.drop_table("retention_grants")
