"""Fixtures and helpers of the deploy tests."""

from contextlib import contextmanager

import pytest

from feedback import create_app
from feedback.extensions import db
from tests.conftest import TEST_CONFIG


@contextmanager
def app_on(url: str):
    """An app on the database at ``url``, whatever state it is in (no migrations run)."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="module")
def static_app():
    """An app for requests that never reach the database (static files)."""
    with app_on("sqlite://") as app:
        yield app
