"""GET /health for load balancers: 200 while the database answers, 503 when it does not,
and nothing else said, stored or set."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from feedback.models import AuditEvent
from feedback.services import accounts
from feedback.sessions import STAFF_SESSION
from tests import factories as f
from tests.deploy.conftest import app_on


def _audit_rows(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_healthy_says_ok_and_nothing_else(client, db):
    before = _audit_rows(db)
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.get_data(as_text=True) == "ok\n"
    assert answer.mimetype == "text/plain"
    assert answer.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answer.headers
    assert _audit_rows(db) == before, "health checks are not audited"
    assert client.head("/health").status_code == 200


def test_needs_no_login_and_passes_a_handed_over_tablet(client, db):
    w = f.world()
    f.login(client, w.anna)
    with client.session_transaction() as session:
        accounts.set_handover(session[STAFF_SESSION], "/cases")
    assert client.get("/cases").status_code == 302, "the lock is on"
    assert client.get("/health").status_code == 200


def test_no_database_is_503_without_details(tmp_path, caplog):
    for url in (f"sqlite:///{tmp_path}/missing/dir/feedback.sqlite",
                "postgresql+psycopg://feedback:s3cret-pw@127.0.0.1:1/feedback"):
        with app_on(url) as app, caplog.at_level(logging.ERROR):
            answer = app.test_client().get("/health")
        assert answer.status_code == 503
        assert answer.get_data(as_text=True) == "unavailable\n"
        assert "Set-Cookie" not in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"
    # The reason goes to the operator's log, never to the caller.
    assert "Health check: the database did not answer" in caplog.text
    assert "s3cret-pw" not in caplog.text
