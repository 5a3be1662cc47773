"""How long one sitting is: questions per person before links are issued, and warnings
above the question limit or for two packs that ask much the same."""

import re

import pytest
from sqlalchemy import func, select

from feedback.models import Invitation
from feedback.services import cases
from tests import factories as f
from tests.conftest import TODAY

EVERYTHING = ["outcome", "session", "meeting-experience", "ruler", "coordination"]


@pytest.fixture
def setting(client, db):
    w = f.world()
    the_case = f.case(w.anna, w.north, birth_year=TODAY.year - 15)
    mother = cases.add_participant(f.actor(w.anna), the_case, "mother")
    meeting = f.meeting(w.anna, the_case)
    f.login(client, w.anna)
    return meeting, f.child_of(the_case), mother


def _counts(html: str) -> dict[str, str]:
    """Respondent → the questions cell of the table on the meeting page."""
    table = re.search(r'<table class="list sittings">.*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>.*?<td class=\"num\">(.*?)</td>", table, re.S)
    return {re.sub(r"<[^>]+>", "", who).strip(): re.sub(r"<[^>]+>", "", n).strip()
            for who, n in rows}


def _invitations(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Invitation))


def test_the_page_counts_each_persons_questions_before_anything_is_issued(client, db,
                                                                         setting):
    meeting, child, mother = setting
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert _counts(page) == {"Barn": "4", "Mor": "4"}  # the ORS, ticked by default
    assert "højst 15 ad gangen" in page

    everything = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id), str(mother.id)], "instruments": EVERYTHING,
        "preview": "1"})
    assert everything.status_code == 200
    page = everything.get_data(as_text=True)
    # A teenager: ORS 4 + SRS 4 + smileys 5 + ruler 1; a parent: ORS, SRS, ruler, 12 more.
    assert _counts(page) == {"Barn": "14", "Mor": "21 (for mange)"}
    assert "Se efter, før linkene bliver lavet" not in page
    assert _invitations(db) == 0


def test_overlapping_packs_warn_and_preselect_the_preferred_one(client, db, setting):
    meeting, child, _ = setting
    first = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id)], "instruments": ["outcome", "session",
                                                         "meeting-experience"]})
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and _invitations(db) == 0
    assert "Se efter, før linkene bliver lavet" in page
    assert "Barn: „Hvordan var mødet i dag?“ og „Mit møde“ spørger om næsten det samme." in page
    assert "Jeres organisation foretrækker „Hvordan var mødet i dag?“" in page
    # The session scale (the organisation's preference) stays ticked, the smileys do not.
    assert re.search(r'checked[^>]*value="session"', page)
    assert not re.search(r'checked[^>]*value="meeting-experience"', page)
    assert re.search(r'name="confirmed"[^>]*value="1"', page)

    # Pressing again with the selection as shown issues the links.
    again = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id)], "instruments": ["outcome", "session"],
        "confirmed": "1"})
    assert again.status_code == 200 and 'class="qr-card"' in again.get_data(as_text=True)
    invitation = db.session.scalar(select(Invitation))
    assert [i.instrument_version.key for i in invitation.items] == ["ors", "srs"]


def test_a_sitting_above_the_limit_warns_once_then_issues(app, client, db, setting):
    meeting, _, mother = setting
    data = {"participants": [str(mother.id)], "instruments": ["outcome", "coordination"]}
    page = client.post(f"/meetings/{meeting.id}/invitations", data=data).get_data(as_text=True)
    assert "Mor ville få 16 spørgsmål. Det er flere end de 15" in page
    assert _invitations(db) == 0
    issued = client.post(f"/meetings/{meeting.id}/invitations", data={**data, "confirmed": "1"})
    assert 'class="qr-card"' in issued.get_data(as_text=True) and _invitations(db) == 1


def test_the_limit_is_the_organisations(app, client, db, setting, monkeypatch):
    meeting, _, mother = setting
    monkeypatch.setitem(app.config, "FEEDBACK_QUESTION_LIMIT", 20)
    issued = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(mother.id)], "instruments": ["outcome", "coordination"]})
    assert 'class="qr-card"' in issued.get_data(as_text=True) and _invitations(db) == 1


def test_the_caseworker_chooses_that_a_parent_rates_themself(client, db, setting):
    meeting, child, mother = setting
    client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id), str(mother.id)], "instruments": ["outcome"],
        "subject": "self"})
    subjects = {i.participant.role.value: i.subject.value
                for i in db.session.scalars(select(Invitation))}
    assert subjects == {"child": "self", "mother": "self"}


def test_a_made_up_subject_is_refused_and_nothing_issued(client, db, setting):
    meeting, child, _ = setting
    response = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id)], "instruments": ["outcome"], "subject": "dog"})
    assert response.status_code == 422 and _invitations(db) == 0
