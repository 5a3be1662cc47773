"""A full or locked database: a "try again" answer, the answers kept, never a false receipt.

The disk is filled without privileges: on SQLite ``PRAGMA max_page_count``
caps the test database at the pages it already has, and respondents send
answers until it is full; on PostgreSQL a trigger raises SQLSTATE 53100
(disk_full) on insert. Nothing of the refused submission is stored, and
sending the same answers again once there is room stores them once.
"""

from __future__ import annotations

import re
import sqlite3

import pytest
from sqlalchemy import event, func, select, text

from feedback.extensions import db
from feedback.models import Answer, AuditEvent, InvitationItem, Response
from tests import factories as f
from tests.conftest import hidden_inputs

GOOD = {"individually": "5", "interpersonally": "6.5", "socially": "0", "overall": "10"}
JSON = {"Accept": "application/json"}


def _forms(app, count=1):
    """``count`` questionnaires opened by respondents: (client, form action, form data)."""
    with app.app_context():
        w = f.world()
        the_case = f.case(w.anna, w.north)
        tokens = [f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case)).token
                  for _ in range(count)]
        db.session.remove()
    forms = []
    for token in tokens:
        client = app.test_client()
        client.get(f"/r/{token}")
        page = client.get("/r/").get_data(as_text=True)
        hidden = hidden_inputs(page)
        data = {"csrf_token": hidden["csrf_token"], "submission_id": hidden["submission_id"],
                **GOOD}
        forms.append((client, re.search(r'action="(/r/q/\d+)"', page).group(1), data))
    return forms


def _form(app):
    return _forms(app)[0]


def _stored(app):
    with app.app_context():
        counts = (
            db.session.scalar(select(func.count()).select_from(Response)),
            db.session.scalar(select(func.count()).select_from(Answer)),
            db.session.scalar(select(func.count()).select_from(InvitationItem)
                              .where(InvitationItem.used_at.is_not(None))),
            db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "response.submit")),
        )
        db.session.remove()
        return counts


class Full:
    """A disk that is full (SQLite: capped at the pages it has now), then has room again."""

    def __init__(self, app, backend):
        self.app, self.backend = app, backend

    def __enter__(self):
        with self.app.app_context():
            engine = db.engine
            db.session.remove()
            if self.backend == "sqlite":
                engine.dispose()
                conn = sqlite3.connect(engine.url.database)
                pages = conn.execute("PRAGMA page_count").fetchone()[0]
                conn.close()

                def cap(dbapi_conn, _record):
                    dbapi_conn.execute(f"PRAGMA max_page_count = {pages}")

                event.listen(engine, "connect", cap)
                self.cap = cap
            else:
                with engine.begin() as conn:
                    conn.execute(text("""
                        CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'
                              USING ERRCODE = '53100'; END $$"""))
                    conn.execute(text("""CREATE TRIGGER disk_full BEFORE INSERT ON answers
                                         FOR EACH ROW EXECUTE FUNCTION disk_full()"""))
        return self

    def __exit__(self, *exc):
        with self.app.app_context():
            engine = db.engine
            db.session.remove()
            if self.backend == "sqlite":
                event.remove(engine, "connect", self.cap)
                engine.dispose()
            else:
                with engine.begin() as conn:
                    conn.execute(text("DROP TRIGGER disk_full ON answers"))
                    conn.execute(text("DROP FUNCTION disk_full()"))


def _consistent(app):
    """Every stored response is whole: its answers, its used questionnaire, its audit row."""
    responses, answers, used, audited = _stored(app)
    assert answers == 4 * responses and used == responses and audited == responses
    return responses


def test_a_full_disk_gives_try_again_and_keeps_nothing_half_stored(live_app, backend):
    forms = _forms(live_app, 60)
    with Full(live_app, backend):
        for n, (client, action, data) in enumerate(forms):  # noqa: B007 (n: after the loop)
            before = _stored(live_app)
            reply = client.post(action, data=data, headers=JSON)
            if reply.status_code == 201:
                continue  # there was still room in the database's pages
            break
        else:
            pytest.fail("the database never filled up")
        assert reply.status_code == 503, reply.get_data(as_text=True)
        assert reply.get_json() == {"ok": False, "error": "unavailable"}
        assert int(reply.headers["Retry-After"]) > 0
        # Nothing of it stored: no response, no answers, questionnaire not used, no audit.
        assert _stored(live_app) == before
        _consistent(live_app)
        # The same without the page's script: the form again, answers and id kept.
        page = client.post(action, data=data)
        assert page.status_code == 503
        html = page.get_data(as_text=True)
        assert "Dine svar er ikke sendt endnu" in html
        assert f'value="{data["submission_id"]}"' in html
        assert _stored(live_app) == before
    # Room again: the same answers, sent again, are stored once.
    again = client.post(action, data=data, headers=JSON)
    assert again.status_code == 201, again.get_data(as_text=True)
    assert _consistent(live_app) == before[0] + 1
    assert client.post(action, data=data, headers=JSON).status_code == 200  # a repeat
    assert _consistent(live_app) == before[0] + 1
    if backend == "sqlite":
        assert n > 0, "answers were stored until the disk was full"


# SQLite's lock is on the whole database; PostgreSQL locks rows, so these two
# run on SQLite only (PostgreSQL's "try again" is shown by the full disk above).
@pytest.mark.parametrize("backend", ["sqlite"], scope="session")
def test_a_locked_database_gives_try_again_not_a_receipt(live_app, backend):
    client, action, data = _form(live_app)
    before = _stored(live_app)
    with live_app.app_context():
        engine = db.engine
        engine.dispose()

        @event.listens_for(engine, "connect")
        def impatient(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA busy_timeout = 200")

    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        reply = client.post(action, data=data, headers=JSON)
        assert reply.status_code == 503
        assert reply.get_json()["error"] == "unavailable"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        event.remove(engine, "connect", impatient)
        engine.dispose()
    assert _stored(live_app) == before
    assert client.post(action, data=data, headers=JSON).status_code == 201


@pytest.mark.parametrize("backend", ["sqlite"], scope="session")
def test_opening_a_link_while_the_database_is_locked_asks_to_try_again(live_app, backend):
    with live_app.app_context():
        w = f.world()
        the_case = f.case(w.anna, w.north)
        token = f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case)).token
        engine = db.engine
        db.session.remove()
        engine.dispose()

        @event.listens_for(engine, "connect")
        def impatient(dbapi_conn, _record):
            dbapi_conn.execute("PRAGMA busy_timeout = 200")

    holder = sqlite3.connect(engine.url.database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        reply = live_app.test_client().get(f"/r/{token}")
        assert reply.status_code == 503
        assert "Prøv igen om et øjeblik" in reply.get_data(as_text=True)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        event.remove(engine, "connect", impatient)
        engine.dispose()
