"""The administrator's pages: create, deactivate and reset users; create teams; role origins."""

from __future__ import annotations

import re

from sqlalchemy import select

from feedback.models import AuditEvent, Organisation, Role, Team, User
from tests import factories as f
from tests.conftest import FreshGlobalsClient


def _browser(app):
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


def _admin(app, w):
    browser = _browser(app)
    f.login(browser, w.admin)
    return browser


def _lands_on_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_admin_creates_a_user_who_can_then_log_in(app, db):
    w = f.world()
    admin = _admin(app, w)
    page = admin.get("/admin/users/new").get_data(as_text=True)
    assert "Ny bruger" in page and "Nord" in page
    answer = admin.post("/admin/users/new", data={
        "username": " Dorte ", "display_name": "Dorte Dahl", "role": "team_lead",
        "teams": [str(w.north.id), str(w.south.id)], "password": "a long first password"})
    assert answer.status_code == 302
    dorte = db.session.scalar(select(User).where(User.username == "dorte"))
    assert dorte.role == Role.team_lead and sorted(dorte.team_ids) == sorted(
        [w.north.id, w.south.id])
    page = admin.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Brugeren er oprettet" in page and "lokal bruger" in page
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "user.create", AuditEvent.object_id == str(dorte.id))
        ).actor_id == w.admin.id
    dorte_browser = _browser(app)
    f.login(dorte_browser, dorte, "a long first password")
    assert dorte_browser.get("/cases").status_code == 200


def test_bad_input_on_the_new_user_form_changes_nothing(app, db):
    w = f.world()
    admin = _admin(app, w)
    for data, message in [
        ({"username": "anna", "display_name": "Anna 2", "role": "caseworker",
          "password": "a long first password"}, "findes allerede en bruger"),
        ({"username": "eva", "display_name": "Eva", "role": "caseworker",
          "password": "short"}, "Se på felterne"),
        ({"username": "eva", "display_name": "Eva", "role": "emperor",
          "password": "a long first password"}, "Se på felterne"),
        ({"username": "", "display_name": "Eva", "role": "caseworker",
          "password": "a long first password"}, "Se på felterne"),
    ]:
        answer = admin.post("/admin/users/new", data=data)
        assert answer.status_code == 400 and message in answer.get_data(as_text=True), data
    assert db.session.scalar(select(User).where(User.username == "eva")) is None


def test_deactivating_ends_the_users_sessions_at_once(app, db):
    w = f.world()
    admin = _admin(app, w)
    tablet = _browser(app)
    f.login(tablet, w.anna)
    assert tablet.get("/cases").status_code == 200
    page = admin.get(f"/admin/users/{w.anna.id}").get_data(as_text=True)
    assert "Deaktivér og log ud alle steder" in page
    answer = admin.post(f"/admin/users/{w.anna.id}/active")
    assert answer.status_code == 302
    assert _lands_on_login(tablet.get("/cases"))
    # She cannot log in again either.
    assert _browser(app).post("/login", data={"username": "anna",
                                              "password": f.PASSWORD}).status_code == 401
    page = admin.get(f"/admin/users/{w.anna.id}").get_data(as_text=True)
    assert "Deaktiveret af en administrator" in page
    # Reactivated, she can log in again.
    admin.post(f"/admin/users/{w.anna.id}/active")
    f.login(_browser(app), db.session.get(User, w.anna.id))


def test_an_admin_cannot_deactivate_themselves(app, db):
    w = f.world()
    admin = _admin(app, w)
    answer = admin.post(f"/admin/users/{w.admin.id}/active")
    assert answer.status_code == 400
    assert "ikke deaktivere dig selv" in answer.get_data(as_text=True)
    assert db.session.get(User, w.admin.id).active


def test_reset_gives_a_new_password_and_ends_sessions(app, db):
    w = f.world()
    admin = _admin(app, w)
    laptop = _browser(app)
    f.login(laptop, w.bo)
    short = admin.post(f"/admin/users/{w.bo.id}/reset", data={"password": "short"})
    assert short.status_code == 400 and "mindst 10 tegn" in short.get_data(as_text=True)
    assert laptop.get("/cases").status_code == 200  # nothing changed
    answer = admin.post(f"/admin/users/{w.bo.id}/reset",
                        data={"password": "a brand new password"})
    assert answer.status_code == 302
    assert _lands_on_login(laptop.get("/cases"))
    assert _browser(app).post("/login", data={"username": "bo",
                                              "password": f.PASSWORD}).status_code == 401
    f.login(_browser(app), w.bo, "a brand new password")


def test_an_admin_creates_a_team(app, db):
    w = f.world()
    admin = _admin(app, w)
    answer = admin.post("/admin/teams/new", data={"name": " Team Vest "})
    assert answer.status_code == 302
    assert db.session.scalar(select(Team).where(Team.name == "Team Vest")) is not None
    assert "Team Vest" in admin.get("/admin/").get_data(as_text=True)
    again = admin.post("/admin/teams/new", data={"name": "Team Vest"})
    assert again.status_code == 400 and "findes allerede et team" in again.get_data(as_text=True)
    empty = admin.post("/admin/teams/new", data={"name": ""})
    assert empty.status_code == 400


def test_only_admins_reach_the_pages(app, db):
    w = f.world()
    for who in (w.anna, w.lene, w.ali):
        browser = _browser(app)
        f.login(browser, who)
        assert browser.get("/admin/users/new").status_code == 403
        assert browser.post(f"/admin/users/{w.anna.id}/active").status_code == 403
    assert db.session.get(User, w.anna.id).active


def test_users_of_another_organisation_are_not_found(app, db):
    w = f.world()
    other = Organisation(name="Andenkommune")
    db.session.add(other)
    stranger = f.user(other, "stranger", Role.caseworker)
    db.session.commit()
    admin = _admin(app, w)
    assert admin.get(f"/admin/users/{stranger.id}").status_code == 404
    assert admin.post(f"/admin/users/{stranger.id}/active").status_code == 404
    assert admin.get("/admin/users/not-a-uuid").status_code == 404


def test_the_admin_sees_where_a_provider_users_role_came_from(app, db):
    w = f.world()
    federated = f.user(w.org, "oidc-abc", Role.team_lead, [w.north],
                       oidc_issuer="https://login.example.dk", oidc_subject="s-1",
                       role_origin={"source": "oidc", "issuer": "https://login.example.dk",
                                    "at": "2026-03-11T09:00:00+00:00",
                                    "claims": {"groups": ["fb-nord-leads", "x"]},
                                    "rules": [{"claim": "groups", "value": "fb-nord-leads",
                                               "role": "team_lead", "teams": ["Nord"]}],
                                    "role": "team_lead", "teams": ["Nord"]})
    federated.password_hash = ""
    db.session.commit()
    admin = _admin(app, w)
    index = admin.get("/admin/").get_data(as_text=True)
    assert "Organisationens log ind" in index
    page = admin.get(f"/admin/users/{federated.id}").get_data(as_text=True)
    assert "Fra organisationens log ind" in page and "2026-03-11 09:00:00" in page
    row = re.search(r"<tr><td><code>groups</code></td>.*?</tr>", page, re.S).group(0)
    assert "fb-nord-leads" in row and "Leder" in row and "Nord" in row
    assert "fb-nord-leads, x" in page
    # A provider's user has no password to reset: the reset only removes the PIN.
    assert 'name="password"' not in page
    refused = admin.post(f"/admin/users/{federated.id}/reset", data={"password": "a new one!!"})
    assert refused.status_code == 400
    assert admin.post(f"/admin/users/{federated.id}/reset").status_code == 302


def test_an_admin_changes_a_local_users_role_and_teams_at_once(app, db):
    w = f.world()
    admin = _admin(app, w)
    bo = _browser(app)
    f.login(bo, w.bo)
    assert bo.get("/reports/").status_code == 403
    answer = admin.post(f"/admin/users/{w.bo.id}/role",
                        data={"role": "team_lead", "teams": [str(w.south.id)]})
    assert answer.status_code == 302
    user = db.session.get(User, w.bo.id)
    db.session.refresh(user)
    assert user.role == Role.team_lead and user.team_ids == [w.south.id]
    assert bo.get("/reports/").status_code == 200  # the open session has the new role
    page = admin.get(f"/admin/users/{w.bo.id}").get_data(as_text=True)
    assert "af Admin" in page  # who set it, and when
    assert db.session.scalar(select(AuditEvent.detail).where(
        AuditEvent.action == "user.roles", AuditEvent.object_id == str(w.bo.id))
        ) == "role team_lead; teams Syd"


def test_role_changes_that_are_refused(app, db):
    w = f.world()
    admin = _admin(app, w)
    own = admin.post(f"/admin/users/{w.admin.id}/role", data={"role": "caseworker"})
    assert own.status_code == 400 and "din egen administratorrolle" in own.get_data(as_text=True)
    bad = admin.post(f"/admin/users/{w.bo.id}/role", data={"role": "emperor"})
    assert bad.status_code == 400
    federated = f.user(w.org, "oidc-x", Role.caseworker, oidc_issuer="https://idp.example",
                       oidc_subject="x")
    db.session.commit()
    refused = admin.post(f"/admin/users/{federated.id}/role", data={"role": "admin"})
    assert refused.status_code == 400
    assert "kommer fra organisationens log ind" in refused.get_data(as_text=True)
    for who in (w.admin, w.bo, federated):
        db.session.refresh(who)
    assert (w.admin.role, w.bo.role, federated.role) == (Role.admin, Role.caseworker,
                                                         Role.caseworker)


def test_a_deactivated_team_takes_no_new_cases(app, db):
    w = f.world()
    admin = _admin(app, w)
    anna = _browser(app)
    f.login(anna, w.anna)
    assert "Nord" in anna.get("/cases/new").get_data(as_text=True)
    page = admin.get(f"/admin/teams/{w.north.id}").get_data(as_text=True)
    assert "Anna" in page and "Bo" in page  # its members
    assert admin.post(f"/admin/teams/{w.north.id}/active").status_code == 302
    assert not db.session.get(Team, w.north.id).active
    assert "(deaktiveret)" in admin.get("/admin/").get_data(as_text=True)
    form = anna.get("/cases/new").get_data(as_text=True)
    assert f'value="{w.north.id}"' not in form
    answer = anna.post("/cases/new", data={"reference": "SAG-NY", "team": str(w.north.id),
                                           "child_birth_year": "2015",
                                           "opened_on": "2026-03-01"})
    assert answer.status_code == 422
    assert "SAG-NY" not in anna.get("/cases").get_data(as_text=True)
    # Reactivated, it is offered again.
    admin.post(f"/admin/teams/{w.north.id}/active")
    assert f'value="{w.north.id}"' in anna.get("/cases/new").get_data(as_text=True)


def test_renaming_a_team(app, db):
    w = f.world()
    admin = _admin(app, w)
    assert admin.post(f"/admin/teams/{w.north.id}", data={"name": "Nordvest"}
                      ).status_code == 302
    assert db.session.get(Team, w.north.id).name == "Nordvest"
    taken = admin.post(f"/admin/teams/{w.north.id}", data={"name": "Syd"})
    assert taken.status_code == 400 and "findes allerede et team" in taken.get_data(as_text=True)
    assert admin.post(f"/admin/teams/{w.north.id}", data={"name": "  "}).status_code == 400
    assert db.session.get(Team, w.north.id).name == "Nordvest"
    assert admin.get("/admin/teams/not-a-team").status_code == 404
