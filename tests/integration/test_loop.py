"""The whole loop through HTTP: case → meeting → link → answers → graph → CSV."""

import csv
import io
import re

from sqlalchemy import func, select

from feedback.models import Answer, AuditEvent, InstrumentVersion, Response
from tests import factories as f
from tests.conftest import TODAY, hidden_inputs


def _answer(client, token, values, **extra):
    """Open the link like a phone would and submit ``values`` (item key → text)."""
    opened = client.get(f"/r/{token}")
    assert opened.status_code == 303
    assert opened.headers["Location"].endswith("/r/")
    page = client.get("/r/")
    assert page.status_code == 200
    form = hidden_inputs(page.get_data(as_text=True))
    action = re.search(r'action="(/r/q/\d+)"', page.get_data(as_text=True)).group(1)
    return client.post(action, data={**form, **values, **extra})


ORS_VALUES = {"individually": "3.5", "interpersonally": "7", "socially": "10", "overall": "0.1"}


def test_caseworker_walks_the_loop(client, db):
    w = f.world()
    f.login(client, w.anna)
    created = client.post("/cases/new", data={
        "reference": "2026-0042", "team": str(w.north.id), "child_birth_year": "2012",
        "child_birth_month": "", "opened_on": "2026-01-10", "tags": "Forsøg, §52"})
    assert created.status_code == 302
    case_url = created.headers["Location"]
    page = client.get(case_url).get_data(as_text=True)
    assert "2026-0042" in page and "Forsøg" in page

    case_id = case_url.rsplit("/", 1)[1]
    assert client.post(f"/cases/{case_id}/participants",
                       data={"role": "mother", "label": "M"}).status_code == 302
    made = client.post(f"/cases/{case_id}/meetings",
                       data={"held_on": TODAY.isoformat(), "type": "first", "mode": "in_person"})
    meeting_url = made.headers["Location"]
    meeting_page = client.get(meeting_url).get_data(as_text=True)
    participant_ids = re.findall(r'name="participants"[^>]*value="([^"]+)"', meeting_page)
    assert len(participant_ids) == 2

    shown = client.post(meeting_url + "/invitations",
                        data={"participants": participant_ids, "instruments": ["outcome"]})
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert html.count('<svg class="qr"') == 2
    links = re.findall(r'href="(http://localhost/r/[^"]+)"', html)
    assert len(links) == 2

    respondent = client.application.test_client()
    token = links[0].rsplit("/", 1)[1]
    done = _answer(respondent, token, ORS_VALUES)
    assert done.status_code == 303
    assert "Tak" in respondent.get("/r/").get_data(as_text=True)
    # The link cannot be used again.
    again = client.application.test_client().get(f"/r/{token}")
    assert again.status_code == 404
    assert "Bed din rådgiver om en ny kode" in again.get_data(as_text=True)

    stored = db.session.scalar(select(Response))
    assert stored.total_tenths == 35 + 70 + 100 + 1
    values = dict(db.session.execute(select(Answer.item_key, Answer.value_tenths)).all())
    assert values == {"individually": 35, "interpersonally": 70, "socially": 100, "overall": 1}

    graph = client.get(case_url).get_data(as_text=True)
    assert "<polyline" in graph and "20,6" in graph  # the staff language's decimal comma

    f.login(client, w.ali)
    export = client.get("/reports/export.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [r["item"] for r in rows] == list(ORS_VALUES)
    assert [r["value"] for r in rows] == ["3.5", "7.0", "10.0", "0.1"]
    row = rows[0]
    assert row["instrument"] == "ors" and row["instrument_version"] == "1.0"
    assert row["meeting_date"] == TODAY.isoformat() and row["meeting_type"] == "first"
    assert row["respondent_role"] in ("child", "mother")
    assert row["team"] == "Nord" and row["case_status"] == "open"
    assert re.fullmatch(r"[0-9a-f]{16}", row["case_id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", row["submitted_at"])
    assert "2026-0042" not in export.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "export.long_csv")) == 1


def test_case_of_another_caseworker_is_404_and_audited(client, db):
    w = f.world()
    other = f.case(w.carla, w.south)
    f.login(client, w.anna)
    assert client.get(f"/cases/{other.id}").status_code == 404
    refused = db.session.scalar(select(AuditEvent).where(AuditEvent.outcome == "refused",
                                                         AuditEvent.object_id == str(other.id)))
    assert refused is not None and refused.actor_id == w.anna.id


def test_team_lead_sees_the_teams_cases_only(client, db):
    w = f.world()
    own_team = f.case(w.bo, w.north, reference="N-1")
    other_team = f.case(w.carla, w.south, reference="S-1")
    f.login(client, w.lene)
    listing = client.get("/cases").get_data(as_text=True)
    assert "N-1" in listing and "S-1" not in listing
    assert client.get(f"/cases/{own_team.id}").status_code == 200
    assert client.get(f"/cases/{other_team.id}").status_code == 404


def test_caseworker_sees_only_own_cases(client, db):
    w = f.world()
    f.case(w.anna, w.north, reference="MINE")
    f.case(w.bo, w.north, reference="COLLEAGUE")
    f.login(client, w.anna)
    listing = client.get("/cases").get_data(as_text=True)
    assert "MINE" in listing and "COLLEAGUE" not in listing


def test_duplicate_reference_is_refused_with_a_message(client, db):
    w = f.world()
    f.case(w.anna, w.north, reference="DUP")
    f.login(client, w.anna)
    again = client.post("/cases/new", data={
        "reference": "DUP", "team": str(w.north.id), "child_birth_year": "2012",
        "opened_on": "2026-01-10"})
    assert again.status_code == 422
    assert "findes allerede" in again.get_data(as_text=True)


def test_analyst_cannot_open_cases_and_caseworker_cannot_export(client, db):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    f.login(client, w.ali)
    # Areas a role may not use are forbidden (403); they reveal nothing about the case.
    assert client.get(f"/cases/{the_case.id}").status_code == 403
    f.login(client, w.anna)
    assert client.get("/reports/export.csv").status_code == 403


def test_demo_data_loads_once_with_every_role_and_realistic_histories(db):
    from feedback.models import Case, Meeting, User
    from feedback.services.demo import load_demo

    assert load_demo() is True
    roles = {u.role.value for u in db.session.scalars(select(User))}
    assert roles == {"caseworker", "team_lead", "analyst", "admin"}
    assert db.session.scalar(select(func.count()).select_from(Case)) == 30
    assert db.session.scalar(select(func.count()).select_from(Meeting)) > 100
    keys = set(db.session.scalars(
        select(InstrumentVersion.key).join(Response).distinct()))
    assert {"ors", "srs", "cors", "csrs", "child-meeting"} <= keys
    assert load_demo() is False  # running it again keeps the data
    assert db.session.scalar(select(func.count()).select_from(Case)) == 30
