"""Two app hosts on one PostgreSQL database behave as one.

Two gunicorn processes, started as in production (deploy/gunicorn.conf.py),
share nothing but the database: what one host decides (a link used up, a
throttle counted, a session ended) the other must honour at once, so no
such state may live in a process's memory.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import pytest

from bench import seed
from bench.common import PASSWORD, Database, cookie_value, seeding_app, server_env, workspace
from bench.load import Gunicorn, _request
from tests.conftest import POSTGRES_URL

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not POSTGRES_URL, reason="needs FEEDBACK_TEST_POSTGRES_URL")]

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
LIMIT = 3


@pytest.fixture(scope="module")
def hosts():
    import os

    os.environ["FEEDBACK_BENCH_POSTGRES_URL"] = POSTGRES_URL
    with workspace("two-hosts") as workdir:
        database = Database.create("postgresql", workdir, "hosts")
        servers = []
        try:
            with seeding_app(database):
                seed.staff(PASSWORD)
                links = seed.issue_links(seed.CASEWORKER, 4)
                links.append(_meeting_without_invitations())
            env = server_env(database, FEEDBACK_LINK_THROTTLE=str(LIMIT),
                             FEEDBACK_LOGIN_THROTTLE=str(LIMIT), FEEDBACK_ACCESS_LOG="/dev/null")
            for name in ("a", "b"):
                server = Gunicorn(env, workdir, f"host-{name}", workers=1)
                server.start()
                servers.append(server)
            yield servers[0].url, servers[1].url, links
        finally:
            for server in servers:
                server.stop()
            database.drop()


def _meeting_without_invitations():
    """(meeting id, the child's participant id) of a new case, for a hand-over."""
    from feedback import clock
    from feedback.services import cases
    from feedback.services.actors import Actor

    actor = Actor.staff(seed._user(seed.CASEWORKER), "127.0.0.1")
    today = clock.today()
    case = cases.create_case(actor, reference="HOSTS-1", team_id=cases.teams_for(actor)[0].id,
                             child_birth_year=today.year - 14, opened_on=today)
    meeting = cases.create_meeting(actor, case, held_on=today, type="follow_up",
                                   mode="in_person")
    child = next(p for p in case.participants if p.role.value == "child")
    return str(meeting.id), str(child.id)


def _get(url, path, cookie=""):
    return _request(url, "GET", path, headers={"Cookie": cookie} if cookie else {})


def _post(url, path, form, cookie=""):
    headers = {**FORM, **({"Cookie": cookie} if cookie else {})}
    return _request(url, "POST", path, body=urlencode(form).encode(), headers=headers)


def test_a_link_used_on_one_host_is_refused_on_the_other(hosts):
    a, b, links = hosts
    link = links[0]
    status, headers, _ = _get(a, f"/r/{link.token}")
    assert status == 303
    cookie = f"feedback_respondent={cookie_value(headers, 'feedback_respondent')}"
    status, _, body = _get(a, "/r/", cookie)
    page = body.decode()
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    hidden = seed.hidden_inputs(page)
    answers = {"individually": "5", "interpersonally": "6", "socially": "7", "overall": "8"}
    form = {"csrf_token": hidden["csrf_token"], "submission_id": hidden["submission_id"],
            **answers}
    status, _, _ = _request(a, "POST", action, body=urlencode(form).encode(),
                            headers={**FORM, "Cookie": cookie, "Accept": "application/json"})
    assert status == 201
    # The other host refuses the link, and another submission for the same questionnaire.
    assert _get(b, f"/r/{link.token}")[0] == 404
    other = {**form, "submission_id": str(uuid.uuid4())}
    status, _, _ = _request(b, "POST", action, body=urlencode(other).encode(),
                            headers={**FORM, "Cookie": cookie, "Accept": "application/json"})
    assert status == 409
    # The same submission sent again to the other host gets the first receipt, once.
    status, _, _ = _request(b, "POST", action, body=urlencode(form).encode(),
                            headers={**FORM, "Cookie": cookie, "Accept": "application/json"})
    assert status == 200


def test_a_throttle_counted_on_one_host_applies_on_the_other(hosts):
    a, b, links = hosts
    for n in range(LIMIT):
        assert _get(a, f"/r/not-a-real-token-{n:04d}xxxxxxxx")[0] == 404
    # The address is now throttled on the other host too, even for a genuine link.
    assert _get(b, f"/r/{links[1].token}")[0] == 429
    assert _get(a, f"/r/{links[1].token}")[0] == 429


def _login_form(url):
    status, headers, body = _get(url, "/login")
    session = cookie_value(headers, "feedback_staff")
    return f"feedback_staff={session}", seed.hidden_inputs(body.decode())["csrf_token"]


def test_failed_logins_on_one_host_slow_the_account_on_the_other(hosts):
    a, b, _ = hosts
    for _n in range(LIMIT):
        cookie, csrf = _login_form(a)
        status, _, _ = _post(a, "/login", {"csrf_token": csrf, "username": seed.ANALYST,
                                          "password": "wrong-password-1"}, cookie)
        assert status == 401
    cookie, csrf = _login_form(b)
    status, _, _ = _post(b, "/login", {"csrf_token": csrf, "username": seed.ANALYST,
                                      "password": PASSWORD}, cookie)
    assert status == 429


def test_a_logout_on_one_host_ends_the_session_on_the_other(hosts):
    a, b, _ = hosts
    staff = seed.login(a, seed.CASEWORKER, PASSWORD)
    assert _get(b, "/cases", staff)[0] == 200
    status, headers, body = _get(a, "/cases", staff)
    if cookie_value(headers, "feedback_staff"):  # the form's CSRF secret joined the session
        staff = f"feedback_staff={cookie_value(headers, 'feedback_staff')}"
    csrf = re.search(r'action="/logout".*?name="csrf_token" value="([^"]+)"', body.decode(),
                     re.S).group(1)
    status, _, _ = _post(a, "/logout", {"csrf_token": csrf}, staff)
    assert status == 302
    status, headers, _ = _get(b, "/cases", staff)
    assert status == 302 and "/login" in headers["Location"]


def _staff_page(url, path, staff):
    """A staff page and its CSRF token, with the session cookie as it now stands."""
    status, headers, body = _get(url, path, staff)
    if cookie_value(headers, "feedback_staff"):
        staff = f"feedback_staff={cookie_value(headers, 'feedback_staff')}"
    return status, staff, seed.hidden_inputs(body.decode()).get("csrf_token", "")


def test_a_handover_on_one_host_locks_the_staff_view_on_the_other(hosts):
    a, b, links = hosts
    meeting_id, child_id = links[-1]
    staff = seed.login(b, seed.CASEWORKER, PASSWORD)
    status, staff, csrf = _staff_page(a, f"/meetings/{meeting_id}", staff)
    assert status == 200
    body = urlencode({"csrf_token": csrf, "participants": child_id, "instruments": "outcome",
                      "handover": "1"}).encode()
    status, headers, page = _request(a, "POST", f"/meetings/{meeting_id}/invitations",
                                     body=body, headers={**FORM, "Cookie": staff})
    errors = re.findall(r'class="error"[^>]*>([^<]+)<', page.decode())
    assert status == 303 and headers["Location"] == "/r/", errors
    status, headers, _ = _get(b, "/cases", staff)
    assert status == 302 and headers["Location"] == "/r/"
