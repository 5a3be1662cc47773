"""The schema built by the migrations matches the models; the audit log is append-only."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from feedback.extensions import db as _db
from feedback.models import AuditEvent
from tests.conftest import migrated_app


def test_models_and_migrations_agree(app):
    with app.app_context(), _db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, _db.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_every_constraint_is_named(app):
    with app.app_context(), _db.engine.connect() as conn:
        inspector = inspect(conn)
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            for fk in inspector.get_foreign_keys(table):
                assert fk["name"], f"unnamed foreign key on {table}"
            for uq in inspector.get_unique_constraints(table):
                assert uq["name"], f"unnamed unique constraint on {table}"


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET outcome = 'ok'",
    "DELETE FROM audit_events",
])
def test_audit_log_refuses_update_and_delete(db, statement):
    db.session.add(AuditEvent(actor_kind="system", action="test.event", outcome="refused"))
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(statement))
    assert db.session.scalar(text("SELECT outcome FROM audit_events")) == "refused"


def test_sqlite_runs_in_wal_with_full_sync(tmp_path_factory):
    with migrated_app("sqlite", tmp_path_factory) as app, app.app_context(), \
            _db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_migrations_go_down_and_up_again(backend, tmp_path_factory):
    """upgrade → downgrade to nothing → upgrade, on a fresh database of each engine."""
    from flask_migrate import downgrade, upgrade

    with migrated_app(backend, tmp_path_factory) as app, app.app_context():
        downgrade(revision="base")
        with _db.engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert left == set(), f"downgrade left tables behind: {left}"
        upgrade()
        with _db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, _db.metadata) == []
        # The append-only triggers came back with the table.
        with _db.engine.begin() as conn:
            conn.execute(text("INSERT INTO audit_events (at, actor_kind, action, outcome) "
                              "VALUES (CURRENT_TIMESTAMP, 'system', 'test', 'ok')"))
        with pytest.raises(DBAPIError, match="append-only"), _db.engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_events"))
