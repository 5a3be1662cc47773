"""Signing in through a real OpenID provider process (oidc-provider-mock) on loopback.

The browser is the test client; the provider's form is filled in over HTTP.
Roles and teams come from the claims at every sign-in; no role means no access;
a wrong state or a replayed code is refused.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from feedback.models import AuditEvent, Role, StaffSession, User
from feedback.services import accounts
from feedback.sessions import STAFF_SESSION
from tests import factories as f
from tests.conftest import FreshGlobalsClient, migrated_app
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, ROLE_MAPPING, mock_provider, query


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with mock_provider(tmp_path_factory.mktemp("provider")) as running:
        yield running


@pytest.fixture(scope="module")
def app(backend, tmp_path_factory, provider):
    """The app with sign-in at the provider, on its own database."""
    mapping = tmp_path_factory.mktemp("oidc") / "roles.toml"
    mapping.write_text(ROLE_MAPPING)
    with migrated_app(backend, tmp_path_factory, FEEDBACK_OIDC_ISSUER=provider.issuer,
                      FEEDBACK_OIDC_CLIENT_ID=CLIENT_ID,
                      FEEDBACK_OIDC_CLIENT_SECRET=CLIENT_SECRET,
                      FEEDBACK_OIDC_ROLE_MAPPING=str(mapping),
                      FEEDBACK_OIDC_NAME="Testkommune",
                      FEEDBACK_ORGANISATION="Testkommune") as app:
        yield app


@pytest.fixture
def browser(app, db):
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


def start(browser) -> str:
    """Press "Sign in with …": the provider's authorisation URL."""
    answer = browser.get("/login/oidc")
    assert answer.status_code == 302
    return answer.headers["Location"]


def sign_in(browser, provider, sub: str):
    """The whole round trip; the service's answer to the callback."""
    back = provider.authorize(start(browser), sub)
    parts = back.split("?", 1)
    return browser.get("/login/oidc/callback?" + parts[1])


def user_of(db, provider, sub) -> User | None:
    return db.session.scalar(select(User).where(User.oidc_issuer == provider.issuer,
                                                User.oidc_subject == sub))


def test_the_login_page_offers_the_organisations_sign_in(browser):
    page = browser.get("/login").get_data(as_text=True)
    assert "Log ind med Testkommune" in page
    assert 'name="password"' in page  # local passwords stay beside it


def test_the_request_uses_pkce_state_and_nonce(browser, provider):
    params = query(start(browser))
    assert params["client_id"] == CLIENT_ID
    assert params["response_type"] == "code"
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) >= 43
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    assert "openid" in params["scope"].split()
    assert params["redirect_uri"] == "http://localhost/login/oidc/callback"


def test_a_team_lead_from_the_claims(browser, provider, db):
    f.world()
    provider.set_user("lead-1", name="Lise Leder", groups=["fb-nord-leads", "other"])
    answer = sign_in(browser, provider, "lead-1")
    assert answer.status_code == 302 and answer.headers["Location"] == "/cases"
    assert browser.get("/cases").status_code == 200
    user = user_of(db, provider, "lead-1")
    assert user.role == Role.team_lead and user.active
    assert [m.team.name for m in user.memberships] == ["Team Nord"]
    assert user.display_name == "Lise Leder"
    assert not user.has_password
    # Where the role came from, for the administrator.
    assert user.role_origin["rules"][0]["value"] == "fb-nord-leads"
    assert user.role_origin["claims"] == {"groups": ["fb-nord-leads", "other"]}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == user.id, AuditEvent.action == "auth.login",
        AuditEvent.outcome == "ok")) == 1


def test_roles_follow_the_claims_at_every_sign_in(browser, provider, db, app):
    provider.set_user("cw-1", groups=["fb-caseworkers", "fb-syd"])
    sign_in(browser, provider, "cw-1")
    user = user_of(db, provider, "cw-1")
    assert user.role == Role.caseworker
    assert [m.team.name for m in user.memberships] == ["Team Syd"]
    browser.post("/logout")

    # Promoted at the provider: team lead of Team Nord, and no longer in Team Syd.
    provider.set_user("cw-1", groups=["fb-nord-leads"])
    sign_in(browser, provider, "cw-1")
    db.session.expire_all()
    user = user_of(db, provider, "cw-1")
    assert user.role == Role.team_lead
    assert [m.team.name for m in user.memberships] == ["Team Nord"]
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.oidc_subject == "cw-1")) == 1


def test_no_role_means_no_access_and_a_clear_page(browser, provider, db):
    provider.set_user("nobody-1", name="Nora", groups=["unrelated"])
    answer = sign_in(browser, provider, "nobody-1")
    assert answer.status_code == 403
    page = answer.get_data(as_text=True)
    assert "Du har ikke adgang til Feedback" in page
    assert browser.get("/cases").status_code == 302  # to the login page
    user = user_of(db, provider, "nobody-1")
    assert user is not None and not user.active
    assert user.role_origin["rules"] == []


def test_losing_the_group_deactivates_and_ends_sessions(browser, provider, db, app):
    provider.set_user("leaver-1", groups=["fb-caseworkers"])
    sign_in(browser, provider, "leaver-1")
    laptop = app.test_client()
    provider.set_user("leaver-1", groups=[])
    assert sign_in(laptop, provider, "leaver-1").status_code == 403
    # The other browser's session ended at once.
    assert browser.get("/cases").status_code == 302
    user = user_of(db, provider, "leaver-1")
    assert db.session.scalar(select(func.count()).select_from(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))) == 0


def test_never_merged_with_a_local_account_by_name_or_email(browser, provider, db):
    w = f.world()
    provider.set_user("anna", name="Anna", email="anna", preferred_username="anna",
                      groups=["fb-caseworkers"])
    sign_in(browser, provider, "anna")
    federated = user_of(db, provider, "anna")
    assert federated.id != w.anna.id
    assert federated.username != "anna"
    assert db.session.get(User, w.anna.id).has_password


def test_a_wrong_state_is_refused(browser, provider, db):
    provider.set_user("cw-2", groups=["fb-caseworkers"])
    back = provider.authorize(start(browser), "cw-2")
    params = query(back)
    answer = browser.get(f"/login/oidc/callback?code={params['code']}&state=forged-state")
    assert answer.status_code == 400
    assert "Log ind lykkedes ikke" in answer.get_data(as_text=True)
    assert user_of(db, provider, "cw-2") is None
    assert browser.get("/cases").status_code == 302


def test_a_callback_from_another_browser_is_refused(browser, provider, db, app):
    provider.set_user("cw-3", groups=["fb-caseworkers"])
    back = provider.authorize(start(browser), "cw-3")
    attacker = app.test_client()
    assert attacker.get("/login/oidc/callback?" + back.split("?", 1)[1]).status_code == 400
    assert user_of(db, provider, "cw-3") is None


def test_a_replayed_code_is_refused(browser, provider, db):
    provider.set_user("cw-4", groups=["fb-caseworkers"])
    back = provider.authorize(start(browser), "cw-4")
    assert browser.get("/login/oidc/callback?" + back.split("?", 1)[1]).status_code == 302
    browser.post("/logout")
    # The same code again, with a state this browser did start: the provider refuses it.
    state = query(start(browser))["state"]
    code = query(back)["code"]
    answer = browser.get(f"/login/oidc/callback?code={code}&state={state}")
    assert answer.status_code == 400
    assert browser.get("/cases").status_code == 302
    refusal = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "auth.login", AuditEvent.outcome == "refused")
        .order_by(AuditEvent.id.desc())).first()
    assert "invalid_grant" in refusal.detail


def test_the_provider_denying_is_refused(browser, provider, db):
    answer = browser.get("/login/oidc/callback?error=access_denied&state=x")
    assert answer.status_code == 400


def test_logout_ends_the_session_at_the_provider_too(browser, provider, db):
    provider.set_user("cw-5", groups=["fb-caseworkers"])
    sign_in(browser, provider, "cw-5")
    answer = browser.post("/logout")
    assert answer.status_code == 302
    target = answer.headers["Location"]
    assert target.startswith(f"{provider.issuer}/oauth2/end_session?")
    params = query(target)
    assert params["post_logout_redirect_uri"] == "http://localhost/login"
    assert params["id_token_hint"].count(".") == 2
    assert browser.get("/cases").status_code == 302


def test_a_local_user_logs_out_here_only(browser, db):
    w = f.world()
    f.login(browser, w.anna)
    assert browser.post("/logout").headers["Location"] == "/login"


# --- unlocking a handed-over tablet without a local password ---------------------------

def hand_over(browser) -> None:
    """What starting a hand-over leaves in the staff session (see sessions.start_handover)."""
    with browser.session_transaction() as session:
        accounts.set_handover(session[STAFF_SESSION], "/cases")
    assert browser.get("/cases").headers["Location"] == "/r/"


def test_unlocking_by_signing_in_again_at_the_provider(browser, provider, db):
    provider.set_user("unlock-1", groups=["fb-caseworkers"])
    sign_in(browser, provider, "unlock-1")
    hand_over(browser)
    page = browser.get("/unlock").get_data(as_text=True)
    assert "Lås op ved at logge ind med Testkommune" in page
    assert 'name="password"' not in page  # no password, and no PIN set
    answer = browser.post("/unlock/oidc")
    assert answer.status_code == 302
    params = query(answer.headers["Location"])
    assert params["prompt"] == "login" and params["max_age"] == "0"
    back = provider.authorize(answer.headers["Location"], "unlock-1")
    answer = browser.get("/login/oidc/callback?" + back.split("?", 1)[1])
    assert answer.status_code == 302 and answer.headers["Location"] == "/cases"
    assert browser.get("/cases").status_code == 200


def test_another_person_at_the_provider_does_not_unlock(browser, provider, db):
    provider.set_user("unlock-2", groups=["fb-caseworkers"])
    provider.set_user("parent-2", groups=["fb-caseworkers"])
    sign_in(browser, provider, "unlock-2")
    hand_over(browser)
    target = browser.post("/unlock/oidc").headers["Location"]
    back = provider.authorize(target, "parent-2")
    answer = browser.get("/login/oidc/callback?" + back.split("?", 1)[1])
    assert answer.status_code == 401
    assert "Kun sagsbehandleren kan låse den op" in answer.get_data(as_text=True)
    assert browser.get("/cases").headers["Location"] == "/r/"  # still locked
    assert user_of(db, provider, "parent-2") is None  # and nobody was signed in or created


def test_a_plain_sign_in_while_locked_does_not_unlock(browser, provider, db):
    provider.set_user("unlock-3", groups=["fb-caseworkers"])
    sign_in(browser, provider, "unlock-3")
    hand_over(browser)
    assert browser.get("/login/oidc").headers["Location"] == "/r/"
    assert browser.get("/cases").headers["Location"] == "/r/"


def test_unlocking_with_a_pin_the_user_set(browser, provider, db):
    provider.set_user("unlock-4", groups=["fb-caseworkers"])
    sign_in(browser, provider, "unlock-4")
    for pin, repeat, message in [("1234", "1234", "6 til 12 cifre"),
                                 ("111111", "111111", "for nem at gætte"),
                                 ("123456", "123456", "for nem at gætte"),
                                 ("480516", "480517", "ikke ens"),
                                 ("48o516", "48o516", "6 til 12 cifre")]:
        answer = browser.post("/account/pin", data={"pin": pin, "repeat": repeat})
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), pin
    answer = browser.post("/account/pin", data={"pin": "480516", "repeat": "480516"})
    assert "Din pinkode er gemt" in answer.get_data(as_text=True)
    hand_over(browser)
    page = browser.get("/unlock").get_data(as_text=True)
    assert "Sagsbehandlerens pinkode" in page and "Lås op ved at logge ind" in page
    wrong = browser.post("/unlock", data={"password": "480515"})
    assert wrong.status_code == 401 and "Forkert pinkode" in wrong.get_data(as_text=True)
    answer = browser.post("/unlock", data={"password": "480516"})
    assert answer.status_code == 302 and answer.headers["Location"] == "/cases"
    assert browser.get("/cases").status_code == 200


def test_the_password_form_can_be_turned_off(browser, app, db):
    w = f.world()
    app.config["FEEDBACK_LOCAL_LOGIN"] = False
    try:
        page = browser.get("/login").get_data(as_text=True)
        assert "Log ind med Testkommune" in page and 'name="password"' not in page
        answer = browser.post("/login", data={"username": "anna", "password": f.PASSWORD})
        assert answer.status_code == 404
        assert browser.get("/cases").status_code == 302
    finally:
        app.config["FEEDBACK_LOCAL_LOGIN"] = True
    f.login(browser, w.anna)
