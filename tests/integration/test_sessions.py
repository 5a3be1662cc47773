"""Staff sessions are checked on the server: logging out and deactivation end them at once."""

from datetime import timedelta

from sqlalchemy import select

from feedback import clock
from feedback.models import StaffSession
from feedback.services import accounts
from tests import factories as f
from tests.conftest import FROZEN_NOW, FreshGlobalsClient


def _browser(app):
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


def _cookie(client) -> str:
    return client.get_cookie("feedback_staff").value


def _with_cookie(app, value: str):
    """Another browser holding a copy of a session cookie."""
    thief = _browser(app)
    thief.set_cookie("feedback_staff", value)
    return thief


def _lands_on_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_copied_cookie_stops_working_after_logout(app, db):
    w = f.world()
    browser = _browser(app)
    f.login(browser, w.anna)
    copy = _cookie(browser)
    assert _with_cookie(app, copy).get("/cases").status_code == 200  # the copy works…

    assert _lands_on_login(browser.post("/logout"))
    # …until the owner logs out: the session ended on the server, not just in the browser.
    assert _lands_on_login(_with_cookie(app, copy).get("/cases"))
    row = db.session.scalar(select(StaffSession).where(StaffSession.user_id == w.anna.id))
    assert row.ended_at is not None and row.end_reason == "logout"


def test_logging_out_ends_only_this_browsers_session(app, db):
    w = f.world()
    tablet, laptop = _browser(app), _browser(app)
    f.login(tablet, w.anna)
    f.login(laptop, w.anna)
    tablet.post("/logout")
    assert _lands_on_login(tablet.get("/cases"))
    assert laptop.get("/cases").status_code == 200


def test_deactivating_a_user_ends_every_session_of_theirs(app, db):
    w = f.world()
    tablet, laptop, colleague = _browser(app), _browser(app), _browser(app)
    f.login(tablet, w.anna)
    f.login(laptop, w.anna)
    f.login(colleague, w.bo)
    accounts.set_active(w.anna, False)
    assert _lands_on_login(tablet.get("/cases"))
    assert _lands_on_login(laptop.get("/cases"))
    assert colleague.get("/cases").status_code == 200
    ended = db.session.scalars(select(StaffSession.end_reason)
                               .where(StaffSession.user_id == w.anna.id)).all()
    assert ended == ["deactivated", "deactivated"]
    # Reactivated, the old cookies stay dead: the sessions ended, not just paused.
    accounts.set_active(w.anna, True)
    assert _lands_on_login(tablet.get("/cases"))


def test_a_session_ends_after_the_staff_session_lifetime(app, db):
    w = f.world()
    browser = _browser(app)
    f.login(browser, w.anna)
    lifetime = app.permanent_session_lifetime
    clock.freeze(FROZEN_NOW + lifetime - timedelta(minutes=1))
    assert browser.get("/cases").status_code == 200
    clock.freeze(FROZEN_NOW + lifetime + timedelta(minutes=1))
    assert _lands_on_login(browser.get("/cases"))
    row = db.session.scalar(select(StaffSession).where(StaffSession.user_id == w.anna.id))
    assert row.end_reason == "expired"


def test_last_seen_is_written_at_most_once_a_minute(app, db):
    w = f.world()
    browser = _browser(app)
    f.login(browser, w.anna)
    row = db.session.scalar(select(StaffSession).where(StaffSession.user_id == w.anna.id))
    clock.freeze(FROZEN_NOW + timedelta(seconds=30))
    browser.get("/cases")
    db.session.refresh(row)
    assert row.last_seen_at == FROZEN_NOW
    clock.freeze(FROZEN_NOW + timedelta(minutes=2))
    browser.get("/cases")
    db.session.refresh(row)
    assert row.last_seen_at == FROZEN_NOW + timedelta(minutes=2)


def test_a_cookie_from_before_server_side_sessions_needs_a_new_login(app, db):
    """A signed cookie naming no session row (or another user's) opens nothing."""
    w = f.world()
    browser = _browser(app)
    f.login(browser, w.anna)
    with browser.session_transaction() as session:
        session.pop("sid")
    assert _lands_on_login(browser.get("/cases"))

    other = _browser(app)
    f.login(other, w.bo)
    with other.session_transaction() as bo_session:
        bo_sid = bo_session["sid"]
    f.login(browser, w.anna)
    with browser.session_transaction() as session:
        session["sid"] = bo_sid  # bo's session row under anna's user id
    assert _lands_on_login(browser.get("/cases"))
