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
    # Used every half hour, so it never idles out...
    at = timedelta(0)
    while at < lifetime - timedelta(minutes=30):
        at += timedelta(minutes=30)
        clock.freeze(FROZEN_NOW + at)
        assert browser.get("/cases").status_code == 200
    clock.freeze(FROZEN_NOW + lifetime - timedelta(minutes=1))
    assert browser.get("/cases").status_code == 200
    # ...and still it ends once the absolute lifetime is over.
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


def test_a_session_left_idle_ends(app, db):
    w = f.world()
    browser = _browser(app)
    f.login(browser, w.anna)
    idle = timedelta(minutes=app.config["FEEDBACK_STAFF_IDLE_MINUTES"])
    clock.freeze(FROZEN_NOW + idle - timedelta(minutes=2))
    assert browser.get("/cases").status_code == 200  # used: the idle clock restarts
    clock.freeze(FROZEN_NOW + 2 * idle - timedelta(minutes=3))
    assert browser.get("/cases").status_code == 200
    clock.freeze(FROZEN_NOW + 3 * idle)
    assert _lands_on_login(browser.get("/cases"))
    row = db.session.scalar(select(StaffSession).where(StaffSession.user_id == w.anna.id))
    assert row.end_reason == "idle"


def _try_login(app, username, password, address):
    browser = _browser(app)
    return browser.post("/login", data={"username": username, "password": password},
                        environ_base={"REMOTE_ADDR": address}).status_code


def test_failed_logins_slow_the_account_from_that_address_only_and_not_for_long(app, db):
    f.world()
    limit = app.config["FEEDBACK_LOGIN_THROTTLE"]
    attacker, office = "198.51.100.7", "192.0.2.50"
    for _ in range(limit):
        assert _try_login(app, "anna", "wrong password!", attacker) == 401
    # Slowed from that address, even with the right password...
    assert _try_login(app, "anna", f.PASSWORD, attacker) == 429
    # ...but anna, at her office, signs in before her meeting.
    assert _try_login(app, "anna", f.PASSWORD, office) == 302
    # And the block ends with its 15-minute window.
    clock.freeze(FROZEN_NOW + timedelta(minutes=16))
    assert _try_login(app, "anna", f.PASSWORD, attacker) == 302


def test_an_office_behind_one_address_does_not_trip_in_normal_use(app, db):
    f.world()
    office = "192.0.2.60"
    # A busy morning: twenty colleagues behind one address, each mistyping twice.
    for n in range(20):
        for _ in range(2):
            assert _try_login(app, f"colleague{n}", "mistyped password", office) == 401
    assert _try_login(app, "anna", f.PASSWORD, office) == 302


def test_login_spraying_from_one_address_is_stopped(app, db, monkeypatch):
    f.world()
    address = "203.0.113.9"
    limit = 6  # the default is 100; argon2 makes each try slow on purpose
    monkeypatch.setitem(app.config, "FEEDBACK_LOGIN_ADDRESS_THROTTLE", limit)
    for n in range(limit):
        _try_login(app, f"guess{n}", "password123456", address)
    assert _try_login(app, "anna", f.PASSWORD, address) == 429


def test_session_cookie_is_httponly_samesite_and_secure_over_tls(backend, tmp_path_factory):
    from tests.conftest import migrated_app

    with migrated_app(backend, tmp_path_factory,
                      FEEDBACK_PUBLIC_URL="https://feedback.example.org",
                      SESSION_COOKIE_SECURE=True) as tls_app:
        with tls_app.app_context():
            f.world()
        browser = tls_app.test_client()
        reply = browser.post("/login", data={"username": "anna", "password": f.PASSWORD},
                             base_url="https://feedback.example.org")
        assert reply.status_code == 302
        cookie = next(h for h in reply.headers.getlist("Set-Cookie")
                      if h.startswith("feedback_staff="))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert reply.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        plain = tls_app.test_client().get("/login")
        assert "Strict-Transport-Security" not in plain.headers  # not over TLS


def test_an_earlier_copy_of_the_cookie_is_locked_by_a_handover_too(app, db):
    """The hand-over lock is kept on the server: no cookie from before it gets round it."""
    w = f.world()
    the_case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, the_case)
    browser = _browser(app)
    f.login(browser, w.anna)
    before = _cookie(browser)
    started = browser.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(f.child_of(the_case).id)], "instruments": ["outcome"],
        "handover": "1"})
    assert started.status_code == 303 and started.headers["Location"] == "/r/"
    for holder in (browser, _with_cookie(app, before)):
        locked = holder.get("/cases")
        assert locked.status_code == 302 and locked.headers["Location"] == "/r/"
