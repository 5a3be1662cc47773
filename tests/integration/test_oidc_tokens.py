"""ID tokens the service must refuse, from a provider that crafts them on request.

Each test starts a sign-in (so the browser holds a real state and nonce), then
has the provider's token endpoint answer with a token broken in one way.
"""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from feedback.models import AuditEvent, Role, User
from feedback.services import accounts
from feedback.sessions import STAFF_SESSION
from tests.conftest import FreshGlobalsClient, migrated_app
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, ROLE_MAPPING, CraftedProvider, query


@pytest.fixture(scope="module")
def provider():
    with CraftedProvider() as running:
        yield running


@pytest.fixture(scope="module")
def app(backend, tmp_path_factory, provider):
    mapping = tmp_path_factory.mktemp("oidc") / "roles.toml"
    mapping.write_text(ROLE_MAPPING)
    with migrated_app(backend, tmp_path_factory, FEEDBACK_OIDC_ISSUER=provider.issuer,
                      FEEDBACK_OIDC_CLIENT_ID=CLIENT_ID,
                      FEEDBACK_OIDC_CLIENT_SECRET=CLIENT_SECRET,
                      FEEDBACK_OIDC_ROLE_MAPPING=str(mapping)) as app:
        yield app


@pytest.fixture
def browser(app, db):
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


_codes = iter(range(10**6))


def round_trip(browser, provider, **changes):
    """Start a sign-in, let the provider issue a token with ``changes``, call back."""
    params = query(browser.get("/login/oidc").headers["Location"])
    provider.queue(provider.claims_for(params["nonce"], **changes))
    code = f"code-{next(_codes)}"
    return browser.get(f"/login/oidc/callback?code={code}&state={params['state']}")


def refusals(db) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == "auth.login", AuditEvent.outcome == "refused")
        .order_by(AuditEvent.id)))


def signed_in(browser) -> bool:
    return browser.get("/cases").status_code == 200


def test_a_good_token_signs_in(browser, provider, db):
    answer = round_trip(browser, provider, sub="good-1")
    assert answer.status_code == 302, answer.get_data(as_text=True)
    assert signed_in(browser)
    user = db.session.scalar(select(User).where(User.oidc_subject == "good-1"))
    assert user.role == Role.caseworker


@pytest.mark.parametrize(("label", "changes", "reason"), [
    # Even naming us as the authorised party does not make another client's token ours.
    ("wrong audience", {"aud": "another-client", "azp": CLIENT_ID}, "'aud'"),
    ("expired", {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
     "expired_token"),
    ("wrong nonce", {"nonce": "not-the-nonce-we-sent"}, "'nonce'"),
    ("another issuer", {"iss": "http://127.0.0.1:1/evil"}, "'iss'"),
    ("no subject", {"sub": None}, "'sub'"),
])
def test_broken_tokens_are_refused(browser, provider, db, label, changes, reason):
    before = len(refusals(db))
    sub = f"broken-{label.replace(' ', '-')}"
    answer = round_trip(browser, provider, **{"sub": sub, **changes})
    assert answer.status_code == 400, label
    assert "Log ind lykkedes ikke" in answer.get_data(as_text=True)
    assert not signed_in(browser)
    assert len(refusals(db)) == before + 1
    assert reason in refusals(db)[-1]
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.oidc_subject == sub)) == 0


def test_a_token_signed_with_an_unknown_key_is_refused(browser, provider, db):
    params = query(browser.get("/login/oidc").headers["Location"])
    forged = RSAKey.generate_key(2048, parameters={"kid": provider.key.kid})
    provider.queue(provider.claims_for(params["nonce"], sub="forged-1"), key=forged)
    answer = browser.get(f"/login/oidc/callback?code=forged&state={params['state']}")
    assert answer.status_code == 400
    assert not signed_in(browser)


def test_a_replayed_code_is_refused(browser, provider, db):
    params = query(browser.get("/login/oidc").headers["Location"])
    provider.queue(provider.claims_for(params["nonce"], sub="replay-1"))
    assert browser.get(f"/login/oidc/callback?code=once&state={params['state']}"
                       ).status_code == 302
    browser.post("/logout")
    params = query(browser.get("/login/oidc").headers["Location"])
    answer = browser.get(f"/login/oidc/callback?code=once&state={params['state']}")
    assert answer.status_code == 400
    assert "invalid_grant" in refusals(db)[-1]


def test_rotated_keys_are_fetched_again(browser, provider, db):
    assert round_trip(browser, provider, sub="rotate-1").status_code == 302
    browser.post("/logout")
    fetched = provider.jwks_requests
    provider.rotate("key-2")
    # The service has the old key cached; a token naming the new kid makes it refetch.
    assert round_trip(browser, provider, sub="rotate-1").status_code == 302
    assert provider.jwks_requests == fetched + 1
    assert signed_in(browser)



def test_an_old_sign_in_at_the_provider_does_not_unlock(browser, provider, db):
    """The provider was asked for a fresh sign-in (max_age=0); an old auth_time is refused."""
    assert round_trip(browser, provider, sub="stale-1").status_code == 302
    with browser.session_transaction() as session:
        accounts.set_handover(session[STAFF_SESSION], "/cases")
    params = query(browser.post("/unlock/oidc").headers["Location"])
    provider.queue(provider.claims_for(params["nonce"], sub="stale-1",
                                       auth_time=int(time.time()) - 3600))
    answer = browser.get(f"/login/oidc/callback?code=stale&state={params['state']}")
    assert answer.status_code == 401
    assert browser.get("/cases").headers["Location"] == "/r/"
    # The same person, freshly signed in: unlocked.
    params = query(browser.post("/unlock/oidc").headers["Location"])
    provider.queue(provider.claims_for(params["nonce"], sub="stale-1"))
    answer = browser.get(f"/login/oidc/callback?code=fresh&state={params['state']}")
    assert answer.headers["Location"] == "/cases"
