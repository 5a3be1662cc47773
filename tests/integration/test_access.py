"""Who may do what, walked through HTTP: every role × every action × whose case.

The expected outcome is a table. Objects refused answer 404 and areas refused
answer 403; every refusal is audited. The walk runs under both settings of
``FEEDBACK_CASEWORKER_SCOPE``.
"""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from feedback.extensions import db as db_
from feedback.instruments.scoring import ItemAnswer
from feedback.models import AuditEvent, InvitationToken
from feedback.services import cases, instruments, invitations, responses
from feedback.services.actors import Actor
from tests import factories as f
from tests.conftest import TODAY

OWN, TEAM, OTHER = "own", "same team", "other team"
TARGETS = (OWN, TEAM, OTHER)
LOGIN = "login"  # redirected to the login page
L, H = "listed", "hidden"

#: Actions on one case, in the order they are tried (closing last: it ends the others).
CASE_ACTIONS = ("view case", "view meeting", "invite", "hand over", "edit", "void", "transfer",
                "close")
OWN_ONLY, OWN_AND_TEAM = (302, 404, 404), (302, 302, 404)

_cw_own = {"list": (L, H, H), "view case": (200, 404, 404), "view meeting": (200, 404, 404),
           "invite": (200, 404, 404), "hand over": (303, 404, 404), "edit": OWN_ONLY,
           "void": OWN_ONLY, "transfer": OWN_ONLY, "close": OWN_ONLY}
# With team scope a caseworker works on colleagues' cases, but transferring and
# closing stay with the responsible caseworker (and the team lead).
_cw_team = {"list": (L, L, H), "view case": (200, 200, 404), "view meeting": (200, 200, 404),
            "invite": (200, 200, 404), "hand over": (303, 303, 404), "edit": OWN_AND_TEAM,
            "void": OWN_AND_TEAM, "transfer": OWN_ONLY, "close": OWN_ONLY}
_lead = {"list": (L, L, H), "view case": (200, 200, 404), "view meeting": (200, 200, 404),
         "invite": (200, 200, 404), "hand over": (303, 303, 404), "edit": OWN_AND_TEAM,
         "void": OWN_AND_TEAM, "transfer": OWN_AND_TEAM, "close": OWN_AND_TEAM}
_no_cases = {a: (403,) * 3 for a in ("list", *CASE_ACTIONS)}
_not_staff = {a: (LOGIN,) * 3 for a in ("list", *CASE_ACTIONS)}


def _admin_areas(outcome):
    """The audit log, a family's access export and retention: administrators only."""
    return {"audit": outcome, "access export": outcome, "retention": outcome}


#: (role, scope) → action → outcome for (own, same team, other team) or for the area.
EXPECTED = {
    ("caseworker", "own"): {**_cw_own, "export": 403, "report": 403, "admin": 403, **_admin_areas(403)},
    ("caseworker", "team"): {**_cw_team, "export": 403, "report": 403, "admin": 403, **_admin_areas(403)},
    ("team_lead", "own"): {**_lead, "export": 200, "report": 200, "admin": 403, **_admin_areas(403)},
    ("team_lead", "team"): {**_lead, "export": 200, "report": 200, "admin": 403, **_admin_areas(403)},
    ("analyst", "own"): {**_no_cases, "export": 200, "report": 200, "admin": 403, **_admin_areas(403)},
    ("analyst", "team"): {**_no_cases, "export": 200, "report": 200, "admin": 403, **_admin_areas(403)},
    ("admin", "own"): {**_no_cases, "export": 403, "report": 403, "admin": 200, **_admin_areas(200)},
    ("admin", "team"): {**_no_cases, "export": 403, "report": 403, "admin": 200, **_admin_areas(200)},
    ("respondent", "own"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN,
                              **_admin_areas(LOGIN)},
    ("respondent", "team"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN,
                              **_admin_areas(LOGIN)},
    ("nobody", "own"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN,
                              **_admin_areas(LOGIN)},
    ("nobody", "team"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN,
                              **_admin_areas(LOGIN)},
}

AREA_URLS = {"export": "/reports/export.csv", "report": "/reports/", "admin": "/admin/",
             "audit": "/admin/audit", "access export": "/admin/access?reference=ANNA-1",
             "retention": "/admin/retention"}


class Setting:
    """The world of the walk: whose cases are whose, from the actor's point of view."""

    def __init__(self, db):
        self.w = f.world()
        w = self.w
        self.cases = {
            "anna": f.case(w.anna, w.north, reference="ANNA-1"),
            "bo": f.case(w.bo, w.north, reference="BO-1"),
            "carla": f.case(w.carla, w.south, reference="CARLA-1"),
            "lene": f.case(w.lene, w.north, reference="LENE-1"),
        }
        self.meetings = {k: f.meeting(getattr(w, k), c, held_on=TODAY)
                         for k, c in self.cases.items()}
        self.invitation = None
        #: In every case, a mother's answered questionnaire (something to void).
        self.responses = {c.id: self._answered(getattr(w, k), c, self.meetings[k])
                          for k, c in self.cases.items()}

    @staticmethod
    def _answered(owner, case, meeting):
        mother = cases.add_participant(f.actor(owner), case, "mother")
        link = f.invite(owner, meeting, mother)
        instrument = instruments.definition(link.invitation.items[0].instrument_version)
        row = responses.submit(
            Actor.respondent(link.invitation.id), _token(link), 0, str(uuid.uuid4()),
            {i.key: ItemAnswer(50) for i in instrument.items}, "da")
        return row.response_id

    def targets(self, role: str):
        """The (own, same team, other team) cases for an actor of ``role``."""
        if role == "team_lead":
            return [self.cases[k] for k in ("lene", "anna", "carla")]
        return [self.cases[k] for k in ("anna", "bo", "carla")]

    def respondent_link(self) -> str:
        """A fresh link for the child in another team's case (one invitation, new tokens)."""
        if self.invitation is None:
            issued = f.invite(self.w.carla, self.meetings["carla"], f.child_of(self.cases["carla"]))
            self.invitation = issued.invitation
        else:
            issued = invitations.reissue(f.actor(self.w.carla), self.invitation)
        return issued.token

    def meeting_of(self, case):
        return next(m for m in self.meetings.values() if m.case_id == case.id)


def _client(app, setting, role):
    client = app.test_client()
    users = {"caseworker": "anna", "team_lead": "lene", "analyst": "ali", "admin": "admin"}
    if role in users:
        f.login(client, getattr(setting.w, users[role]))
    elif role == "respondent":
        assert client.get(f"/r/{setting.respondent_link()}").status_code == 303
    return client


def _outcome(response) -> int | str:
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return LOGIN
    return response.status_code


def _refusals(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.outcome == "refused"))


def _token(link):
    return db_.session.scalar(select(InvitationToken).where(
        InvitationToken.token_hash == invitations.hash_token(link.token)))


def _do(client, action, case, meeting, setting):
    if action == "view case":
        return client.get(f"/cases/{case.id}")
    if action == "view meeting":
        return client.get(f"/meetings/{meeting.id}")
    if action == "edit":
        return client.post(f"/cases/{case.id}/edit", data={
            "reference": case.reference, "team": str(case.team_id), "child_birth_year": "2012",
            "child_birth_month": "", "opened_on": case.opened_on.isoformat(), "tags": "edited"})
    if action == "transfer":
        # To the responsible caseworker themself: what is tried is the permission.
        return client.post(f"/cases/{case.id}/transfer",
                           data={"responsible": str(case.responsible_id)})
    if action == "close":
        return client.post(f"/cases/{case.id}/close", data={"closed_on": TODAY.isoformat()})
    if action == "void":
        return client.post(f"/responses/{setting.responses[case.id]}/void",
                           data={"reason": "The father answered as the mother."})
    child = str(f.child_of(case).id)
    data = {"participants": [child], "instruments": ["outcome"]}
    if action == "hand over":
        data["handover"] = "1"
    return client.post(f"/meetings/{meeting.id}/invitations", data=data)


@pytest.mark.parametrize("scope", ["own", "team"])
@pytest.mark.parametrize("role", ["caseworker", "team_lead", "analyst", "admin", "respondent",
                                  "nobody"])
def test_every_role_and_action_gets_what_the_table_says(app, db, client, monkeypatch, role,
                                                        scope):
    monkeypatch.setitem(app.config, "FEEDBACK_CASEWORKER_SCOPE", scope)
    setting = Setting(db)
    expected = EXPECTED[(role, scope)]
    got: dict = {}
    for action, url in AREA_URLS.items():
        client = _client(app, setting, role)
        before = _refusals(db)
        got[action] = _outcome(client.get(url))
        if got[action] in (403, 404):
            assert _refusals(db) == before + 1, f"{role} {action}: refusal not audited"

    listing = _client(app, setting, role).get("/cases")
    if expected["list"][0] in (L, H):
        assert listing.status_code == 200
        page = listing.get_data(as_text=True)
        got["list"] = tuple(L if re.search(rf">\s*{c.reference}\s*<", page) else H
                            for c in setting.targets(role))
    else:
        got["list"] = (_outcome(listing),) * 3

    for action in CASE_ACTIONS:
        outcomes = []
        for case in setting.targets(role):
            client = _client(app, setting, role)  # a hand-over locks its browser
            before = _refusals(db)
            outcome = _outcome(_do(client, action, case, setting.meeting_of(case), setting))
            if outcome in (403, 404):
                assert _refusals(db) == before + 1, f"{role} {action} {case.reference}"
            outcomes.append(outcome)
        got[action] = tuple(outcomes)
    assert got == expected
