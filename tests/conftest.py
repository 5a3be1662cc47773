"""Fixtures: an app per database engine, schema built by running the migrations.

Every database test runs on SQLite, and on PostgreSQL too when
``FEEDBACK_TEST_POSTGRES_URL`` is set. Then a PostgreSQL test fails, never
skips, when the server cannot be reached (decision 23).
"""

from __future__ import annotations

import os
import re
import uuid
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSession

from feedback import clock, create_app
from feedback.extensions import db as _db

#: Every test runs at this instant (a Wednesday morning in Copenhagen), whatever
#: the date and hour the suite runs: no test may depend on the day (decision 29).
FROZEN_NOW = datetime(2026, 3, 11, 10, 0, tzinfo=ZoneInfo("Europe/Copenhagen"))
TODAY = FROZEN_NOW.date()

POSTGRES_URL = os.environ.get("FEEDBACK_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "FEEDBACK_PSEUDONYM_KEY": "test-pseudonym-key",
    "FEEDBACK_PUBLIC_URL": "",
    "WTF_CSRF_ENABLED": False,
}


def _pg_url(database: str) -> sa.URL:
    url = sa.make_url(POSTGRES_URL)
    return url.set(drivername="postgresql+psycopg", database=database)


@contextmanager
def fresh_database(backend: str, tmp_path_factory):
    """A new, empty database URL for ``backend``; dropped afterwards."""
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "feedback.sqlite"
        yield f"sqlite:///{path}"
        return
    name = f"feedback_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(_pg_url(sa.make_url(POSTGRES_URL).database or "postgres"),
                             isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def migrated_app(backend: str, tmp_path_factory, **config):
    with fresh_database(backend, tmp_path_factory) as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url, **config})
        with app.app_context():
            upgrade()
        try:
            yield app
        finally:
            with app.app_context():
                _db.session.remove()
                _db.engine.dispose()


@pytest.fixture(autouse=True)
def frozen_clock():
    """The service's clock, stopped at :data:`FROZEN_NOW` for the test."""
    clock.freeze(FROZEN_NOW)
    yield clock
    clock.freeze(None)


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    """The app on a migrated database, shared by the tests of one backend."""
    with migrated_app(backend, tmp_path_factory) as app:
        yield app


class _TestSession(FlaskSession):
    # Flask-SQLAlchemy picks the engine itself; tests need the shared connection.
    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture
def db(app):
    """One transaction per test, rolled back at the end; services' commits are savepoints."""
    with app.app_context():
        conn = _db.engine.connect()
        outer = conn.begin()
        original = _db.session
        _db.session = _db._make_scoped_session(
            {"class_": _TestSession, "bind": conn, "join_transaction_mode": "create_savepoint"}
        )
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            outer.rollback()
            conn.close()


class FreshGlobalsClient(FlaskClient):
    """A test client whose requests start with an empty ``g``, as in production.

    The ``db`` fixture keeps one app context open for the whole test, and
    Flask reuses it for requests; without this, Flask-Babel's cached locale
    and Flask-Login's cached user would leak from one request to the next.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in list(g):
                g.pop(key)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


@pytest.fixture
def live_app(backend, tmp_path_factory):
    """An app on its own database with real commits, for concurrency tests."""
    with migrated_app(backend, tmp_path_factory) as app:
        yield app


def hidden_inputs(html: str) -> dict[str, str]:
    """The hidden inputs of a page, as a browser would send them back."""
    fields = {}
    for tag in re.findall(r"<input[^>]*type=\"hidden\"[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields
