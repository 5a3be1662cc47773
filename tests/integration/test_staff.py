"""Staff sign-in, sessions, CSRF, language, and what exports do with hostile text."""

import csv
import io

import pytest
from sqlalchemy import select

from feedback.models import AuditEvent, Team
from feedback.services import accounts
from tests import factories as f
from tests.conftest import hidden_inputs


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_wrong_password_is_refused_in_danish_and_audited(client, db):
    w = f.world()
    response = client.post("/login", data={"username": "anna", "password": "wrong password"})
    assert response.status_code == 401
    assert "Forkert brugernavn eller adgangskode" in response.get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert event.outcome == "refused" and event.object_id == str(w.anna.id)


def test_pages_need_a_login(client, db):
    assert client.get("/cases").status_code == 302
    assert client.get("/reports/export.csv").status_code == 302


def test_login_does_not_redirect_off_site(client, db):
    f.world()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(f"/login?next={target}",
                               data={"username": "anna", "password": f.PASSWORD})
        assert response.headers["Location"] == "/cases"


def test_a_deactivated_users_session_stops_at_once(client, db):
    w = f.world()
    f.login(client, w.anna)
    assert client.get("/cases").status_code == 200
    accounts.set_active(w.anna, False)
    assert client.get("/cases").status_code == 302
    assert client.post("/login", data={"username": "anna",
                                       "password": f.PASSWORD}).status_code == 401


def test_forms_without_a_csrf_token_are_400_and_change_nothing(client, db, csrf_on):
    w = f.world()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={**hidden_inputs(page), "username": "anna",
                                "password": f.PASSWORD})
    response = client.post("/cases/new", data={
        "reference": "NO-CSRF", "team": str(w.north.id), "child_birth_year": "2012",
        "opened_on": "2026-01-10"})
    assert response.status_code == 400
    assert "NO-CSRF" not in client.get("/cases").get_data(as_text=True)


def test_staff_language_is_english_when_chosen(client, db):
    w = f.world()
    f.login(client, w.anna)
    assert "Mine sager" in client.get("/cases").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "back": "/cases"})
    page = client.get("/cases").get_data(as_text=True)
    assert "My cases" in page and 'lang="en"' in page


HOSTILE = ['=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "\tTab", '"quoted", comma',
           "<script>alert(1)</script>", "{{7*7}}", "Søs 😀 \u200fשלום"]


@pytest.mark.parametrize("name", HOSTILE)
def test_text_is_shown_escaped_and_exported_neutralised(client, db, name):
    w = f.world()
    team = db.session.scalar(select(Team).where(Team.name == "Nord"))
    team.name = name
    db.session.commit()
    the_case = f.case(w.anna, team, reference=name)
    meeting = f.meeting(w.anna, the_case)
    link = f.invite(w.anna, meeting, f.child_of(the_case))
    respondent = client.application.test_client()
    respondent.get(f"/r/{link.token}")
    import re

    page = respondent.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    values = {"individually": "1", "interpersonally": "2", "socially": "3", "overall": "4"}
    assert respondent.post(action, data={**hidden_inputs(page), **values}).status_code == 303

    f.login(client, w.anna)
    listing = client.get("/cases").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in listing
    if name == "{{7*7}}":
        assert "><bdi>{{7*7}}</bdi></a>" in listing and ">49<" not in listing

    f.login(client, w.ali)
    text = client.get("/reports/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 4
    team_cell = rows[0]["team"]
    if name[0] in "=+-@\t":
        assert team_cell == "'" + name
    else:
        assert team_cell == name  # round-trips exactly, emoji and RTL marks included
    assert rows[0]["value"] == "1.0" and rows[0]["child_birth_year"] == "2012"


def test_behind_one_proxy_the_client_address_comes_from_x_forwarded_for(tmp_path_factory):
    from tests.conftest import migrated_app

    with migrated_app("sqlite", tmp_path_factory, FEEDBACK_TRUSTED_PROXIES=1) as app:
        client = app.test_client()
        headers = {"X-Forwarded-For": "203.0.113.9"}
        client.get("/r/" + "x" * 22, headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        with app.app_context():
            from feedback.extensions import db as _db

            event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "link.open"))
            assert event.remote_addr == "203.0.113.9"


def test_admin_lands_on_an_overview_others_cannot_open(client, db):
    w = f.world()
    response = client.post("/login", data={"username": "admin", "password": f.PASSWORD})
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/").get_data(as_text=True)
    assert "anna" in page and "Nord" in page and "parent-coordination" in page
    f.login(client, w.anna)
    assert client.get("/admin/").status_code == 403


def test_form_errors_are_in_the_staff_members_language(client, db):
    w = f.world()
    f.login(client, w.anna)
    data = {"reference": "", "team": str(w.north.id), "child_birth_year": "abc", "opened_on": "x"}
    danish = client.post("/cases/new", data=data).get_data(as_text=True)
    assert "Dette felt skal udfyldes." in danish and "Ikke en gyldig dato." in danish
    client.post("/language", data={"locale": "en", "back": "/cases"})
    english = client.post("/cases/new", data=data).get_data(as_text=True)
    assert "This field is required." in english and "Not a valid date value." in english
