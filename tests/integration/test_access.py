"""Who may do what, walked through HTTP: every role × every action × whose case.

The expected outcome is a table. Objects refused answer 404 and areas refused
answer 403; every refusal is audited. The walk runs under both settings of
``FEEDBACK_CASEWORKER_SCOPE``.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from feedback.models import AuditEvent
from feedback.services import invitations
from tests import factories as f
from tests.conftest import TODAY

OWN, TEAM, OTHER = "own", "same team", "other team"
TARGETS = (OWN, TEAM, OTHER)
LOGIN = "login"  # redirected to the login page
L, H = "listed", "hidden"

_cw_own = {"list": (L, H, H), "view case": (200, 404, 404), "view meeting": (200, 404, 404),
           "invite": (200, 404, 404), "hand over": (303, 404, 404)}
_cw_team = {"list": (L, L, H), "view case": (200, 200, 404), "view meeting": (200, 200, 404),
            "invite": (200, 200, 404), "hand over": (303, 303, 404)}
_lead = {"list": (L, L, H), "view case": (200, 200, 404), "view meeting": (200, 200, 404),
         "invite": (200, 200, 404), "hand over": (303, 303, 404)}
_no_cases = {a: (403,) * 3 for a in ("list", "view case", "view meeting", "invite",
                                      "hand over")}
_not_staff = {a: (LOGIN,) * 3 for a in ("list", "view case", "view meeting", "invite",
                                         "hand over")}

#: (role, scope) → action → outcome for (own, same team, other team) or for the area.
EXPECTED = {
    ("caseworker", "own"): {**_cw_own, "export": 403, "report": 403, "admin": 403},
    ("caseworker", "team"): {**_cw_team, "export": 403, "report": 403, "admin": 403},
    ("team_lead", "own"): {**_lead, "export": 200, "report": 200, "admin": 403},
    ("team_lead", "team"): {**_lead, "export": 200, "report": 200, "admin": 403},
    ("analyst", "own"): {**_no_cases, "export": 200, "report": 200, "admin": 403},
    ("analyst", "team"): {**_no_cases, "export": 200, "report": 200, "admin": 403},
    ("admin", "own"): {**_no_cases, "export": 403, "report": 403, "admin": 200},
    ("admin", "team"): {**_no_cases, "export": 403, "report": 403, "admin": 200},
    ("respondent", "own"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN},
    ("respondent", "team"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN},
    ("nobody", "own"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN},
    ("nobody", "team"): {**_not_staff, "export": LOGIN, "report": LOGIN, "admin": LOGIN},
}

AREA_URLS = {"export": "/reports/export.csv", "report": "/reports/", "admin": "/admin/"}


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


def _do(client, action, case, meeting):
    if action == "view case":
        return client.get(f"/cases/{case.id}")
    if action == "view meeting":
        return client.get(f"/meetings/{meeting.id}")
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

    for action in ("view case", "view meeting", "invite", "hand over"):
        outcomes = []
        for case in setting.targets(role):
            client = _client(app, setting, role)  # a hand-over locks its browser
            before = _refusals(db)
            outcome = _outcome(_do(client, action, case, setting.meeting_of(case)))
            if outcome in (403, 404):
                assert _refusals(db) == before + 1, f"{role} {action} {case.reference}"
            outcomes.append(outcome)
        got[action] = tuple(outcomes)
    assert got == expected
