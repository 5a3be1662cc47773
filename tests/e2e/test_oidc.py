"""Signing in through the organisation's OpenID provider, in Chromium, end to end.

A real provider process (oidc-provider-mock) and the service under gunicorn,
configured for it with a role mapping; the person signs in on the provider's
own form. Sign-in with a role from the claims, refusal without a role, logout
at the provider, and unlocking a handed-over tablet by signing in again there.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from feedback.models import Role, User
from tests.conftest import TODAY, fresh_database
from tests.e2e import conftest as e2e
from tests.e2e import flows
from tests.e2e.conftest import (
    ROOT,
    VENV_BIN,
    Database,
    _flask,
    _free_port,
    _server_env,
    _stop,
    _wait_until_up,
)
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, ROLE_MAPPING, mock_provider

#: Where the documentation's screenshots go (set FEEDBACK_SCREENSHOTS=docs/screenshots).
SHOTS = os.environ.get("FEEDBACK_SCREENSHOTS", "")


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    with mock_provider(tmp_path_factory.mktemp("provider")) as running:
        yield running


@pytest.fixture(scope="module")
def oidc_server(backend, tmp_path_factory, provider):
    """The service with sign-in at the provider, under gunicorn, on a fresh database."""
    logs = tmp_path_factory.mktemp(f"gunicorn-oidc-{backend}")
    mapping = logs / "roles.toml"
    mapping.write_text(ROLE_MAPPING)
    with fresh_database(backend, tmp_path_factory) as database_url:
        port = _free_port()
        env = _server_env(database_url, f"127.0.0.1:{port}")
        env.update({"FEEDBACK_OIDC_ISSUER": provider.issuer,
                    "FEEDBACK_OIDC_CLIENT_ID": CLIENT_ID,
                    "FEEDBACK_OIDC_CLIENT_SECRET": CLIENT_SECRET,
                    "FEEDBACK_OIDC_ROLE_MAPPING": str(mapping),
                    "FEEDBACK_OIDC_NAME": "Demo Kommune"})
        _flask(env, "db", "upgrade")
        _flask(env, "demo", "load")
        stderr_path = logs / "stderr.log"
        with open(logs / "stdout.log", "wb") as out, open(stderr_path, "wb") as err:
            proc = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                 "--no-control-socket", "feedback:create_app()"],
                cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
            try:
                base_url = f"http://127.0.0.1:{port}"
                # This is a second gunicorn beside the shared e2e server, whose master
                # runs `flask check` first: give a busy machine longer than the usual 20 s.
                with pytest.MonkeyPatch.context() as patch:
                    patch.setattr(e2e, "STARTUP_TIMEOUT", 90.0)
                    _wait_until_up(proc, base_url + "/login", stderr_path)
                yield base_url, Database(database_url)
            finally:
                _stop(proc)


@pytest.fixture
def url(oidc_server):
    """Absolute URLs on this server (the contexts' base URL is the shared e2e server's)."""
    return lambda path="": oidc_server[0] + path


@pytest.fixture
def database(oidc_server) -> Database:
    return oidc_server[1]


@pytest.fixture
def browser_page(tablet):
    context = tablet()
    # The provider's pages ask a CDN for a stylesheet; this machine has no internet.
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    return context.new_page()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def sign_in_at_provider(page, sub: str) -> None:
    """On the provider's own form: type the subject and authorise."""
    expect(page.locator("h1")).to_have_text("Authorize Client")
    page.locator("input[name=sub]").fill(sub)
    page.locator("form[method=post] button[type=submit]").first.click()


def test_sign_in_with_a_role_from_the_claims_and_log_out(browser_page, provider, database,
                                                          url, axe):
    page = browser_page
    provider.set_user("e2e-lead", name="Lise Leder", groups=["fb-nord-leads"])
    page.goto(url("/login"))
    button = page.locator("#sign-in-provider")
    expect(button).to_have_text("Log ind med Demo Kommune")
    axe(page, "login page with the organisation's sign-in")
    shot(page, "sign-in-1024")
    page.set_viewport_size({"width": 320, "height": 640})
    axe(page, "login page at 320 px")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    shot(page, "sign-in-320")
    page.set_viewport_size({"width": 1024, "height": 768})

    button.click()
    sign_in_at_provider(page, "e2e-lead")
    page.wait_for_url(f"{url()}/cases")
    expect(page.locator("form.logout .who")).to_have_text("Lise Leder")
    # A team lead of Team Nord: the demo cases of Team Nord are listed.
    expect(page.locator("main")).to_contain_text("DEMO-")
    user = database.scalar(select(User).where(User.oidc_subject == "e2e-lead"))
    assert user.role == Role.team_lead and user.active

    # Logging out ends the session here and at the provider, then comes back to the login.
    page.locator("form.logout button").click()
    expect(page.locator("h1")).to_have_text("End Session")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{url()}/login*")
    expect(page.locator("#sign-in-provider")).to_be_visible()
    page.goto(url("/cases"))
    expect(page).to_have_url(f"{url()}/login?next=%2Fcases")


def test_no_role_from_the_claims_means_a_clear_page_and_no_access(browser_page, provider,
                                                                   database, url, axe):
    page = browser_page
    provider.set_user("e2e-nobody", name="Nils Nobody", groups=["somewhere-else"])
    page.goto(url("/login"))
    page.locator("#sign-in-provider").click()
    sign_in_at_provider(page, "e2e-nobody")
    expect(page.locator("h1")).to_have_text("Du har ikke adgang til Feedback")
    expect(page.locator("main")).to_contain_text("Demo Kommune")
    expect(page.locator("form.logout")).to_have_count(0)
    axe(page, "no-role page")
    shot(page, "no-role-1024")
    page.set_viewport_size({"width": 320, "height": 640})
    axe(page, "no-role page at 320 px")
    shot(page, "no-role-320")
    page.goto(url("/cases"))
    expect(page).to_have_url(f"{url()}/login?next=%2Fcases")
    user = database.scalar(select(User).where(User.oidc_subject == "e2e-nobody"))
    assert user is not None and not user.active


def test_unlocking_a_handed_over_tablet_by_signing_in_again(browser_page, provider, database,
                                                           url, axe):
    page = browser_page
    provider.set_user("e2e-cw", name="Carl Caseworker", groups=["fb-caseworkers", "fb-syd"])
    page.goto(url("/login"))
    page.locator("#sign-in-provider").click()
    sign_in_at_provider(page, "e2e-cw")
    page.wait_for_url(f"{url()}/cases")
    page.goto(url("/cases/new"))
    flows.create_case(page, flows.unique_reference("OIDC"), team="Team Syd",
                      birth_year=TODAY.year - 15)
    meeting_path = flows.create_meeting(page)
    form = page.locator("form[action$='/invitations']")
    form.locator("input[name=participants]").first.check()
    with page.expect_navigation():
        form.locator("button[name=handover]").click()
    expect(page).to_have_url(f"{url()}/r/")

    page.goto(url("/unlock"))
    reauth = page.locator("#unlock-provider")
    expect(reauth).to_have_text("Lås op ved at logge ind med Demo Kommune")
    expect(page.locator("#password")).to_have_count(0)  # no password, no PIN set
    axe(page, "unlock page for a user without a password")

    # Somebody else at the provider does not unlock it.
    provider.set_user("e2e-parent", groups=[])
    reauth.click()
    sign_in_at_provider(page, "e2e-parent")
    expect(page.locator("#reauth-error")).to_be_visible()
    page.goto(url(meeting_path))
    expect(page).to_have_url(f"{url()}/r/")

    # The caseworker, signing in again: back on the meeting page.
    page.goto(url("/unlock"))
    page.locator("#unlock-provider").click()
    sign_in_at_provider(page, "e2e-cw")
    page.wait_for_url(f"{url()}{meeting_path}")
    page.goto(url("/cases"))
    expect(page).to_have_url(f"{url()}/cases")


def test_admin_pages_for_users_and_teams(browser_page, tablet, provider, database, url, axe):
    # Somebody from the provider, for the administrator to look at.
    provider.set_user("e2e-syd", name="Sara Syd", groups=["fb-caseworkers", "fb-syd"])
    someone = tablet().new_page()
    someone.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    someone.goto(url("/login"))
    someone.locator("#sign-in-provider").click()
    sign_in_at_provider(someone, "e2e-syd")
    someone.wait_for_url(url("/cases"))
    # She sets a PIN for unlocking.
    someone.locator("a[href='/account/pin']").click()
    axe(someone, "PIN page")
    someone.fill("#pin", "480516")
    someone.fill("#repeat", "480516")
    someone.locator("main form button.primary").click()
    expect(someone.locator("p.notice")).to_be_visible()

    page = browser_page
    page.goto(url("/login"))
    page.fill("#username", "admin")
    page.fill("#password", flows.PASSWORD)
    page.locator("main form button.primary").click()
    page.wait_for_url(url("/admin/"))
    axe(page, "administration")

    # A new team, then a new local user in it.
    page.locator("a[href='/admin/teams/new']").click()
    axe(page, "new team")
    page.fill("#name", "Team Vest")
    page.locator("main form button.primary").click()
    expect(page.locator("p.notice")).to_be_visible()
    page.locator("a[href='/admin/users/new']").click()
    axe(page, "new user")
    page.fill("#username", "vera")
    page.fill("#display_name", "Vera Vest")
    page.select_option("#role", "caseworker")
    page.locator("label.check", has_text="Team Vest").locator("input").check()
    page.fill("#password", "short")
    page.locator("main form button.primary").click()
    expect(page.locator("p.error").first).to_be_visible()
    axe(page, "new user with an error")
    page.fill("#password", "a long first password")
    page.locator("main form button.primary").click()
    expect(page.locator("h1")).to_have_text("Vera Vest")
    axe(page, "a local user")

    # The provider's user: where her role came from; deactivating her ends her session.
    page.goto(url("/admin/"))
    page.locator("tr", has_text="Sara Syd").locator("a").click()
    expect(page.locator("main")).to_contain_text("fb-caseworkers")
    axe(page, "a user from the provider")
    page.set_viewport_size({"width": 320, "height": 640})
    axe(page, "a user from the provider at 320 px")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.set_viewport_size({"width": 1024, "height": 768})
    page.locator("#deactivate").click()
    expect(page.locator("p.notice")).to_be_visible()
    someone.goto(url("/cases"))
    expect(someone).to_have_url(url("/login?next=%2Fcases"))
    # Her claims still give a role, but the administrator's deactivation holds.
    someone.locator("#sign-in-provider").click()
    sign_in_at_provider(someone, "e2e-syd")
    expect(someone.locator("h1")).to_have_text("Du har ikke adgang til Feedback")
