"""Staff correct what they typed: edit, transfer, close and reopen a case; void a response.

Each through the services with the actor, audited; voided responses are kept but
left out of the graph and the export, and shown as voided.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from feedback.instruments.scoring import ItemAnswer
from feedback.models import AuditEvent, Case, InvitationToken, Response, TeamMembership
from feedback.services import cases, invitations, responses, trajectories
from feedback.services.actors import Actor
from feedback.services.errors import Invalid, NotFound
from tests import factories as f
from tests.conftest import TODAY


def _audited(db, action: str, obj_id) -> AuditEvent:
    return db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_id == str(obj_id)))


def _answer(db, link, value_tenths: int) -> Response:
    token = db.session.scalar(select(InvitationToken).where(
        InvitationToken.token_hash == invitations.hash_token(link.token)))
    position = responses.next_position(token)
    item, instrument = responses.bundle_item(token, position)
    receipt = responses.submit(Actor.respondent(token.invitation_id), token, position,
                               str(uuid.uuid4()),
                               {i.key: ItemAnswer(value_tenths) for i in instrument.items}, "da")
    return db.session.get(Response, receipt.response_id)


# --- editing ----------------------------------------------------------------------

def test_a_caseworker_corrects_a_case_through_the_page(client, db):
    w = f.world()
    case = f.case(w.anna, w.north, reference="SAG-1", birth_year=2012, tags=["trial"])
    f.login(client, w.anna)
    page = client.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    assert 'value="SAG-1"' in page and 'value="trial"' in page
    response = client.post(f"/cases/{case.id}/edit", data={
        "reference": "SAG-11", "team": str(w.north.id), "child_birth_year": "2013",
        "child_birth_month": "4", "opened_on": "2026-01-04", "tags": "pilot, §52"})
    assert response.status_code == 302
    db.session.refresh(case)
    assert (case.reference, case.child_birth_year, case.child_birth_month) == ("SAG-11", 2013, 4)
    assert case.opened_on == date(2026, 1, 4)
    assert sorted(t.name for t in case.tags) == ["pilot", "§52"]
    event = _audited(db, "case.update", case.id)
    assert event.actor_id == w.anna.id and "reference" in event.detail


def test_an_edit_cannot_move_the_opening_past_the_first_meeting(db):
    w = f.world()
    case = f.case(w.anna, w.north, opened=date(2026, 1, 5))
    f.meeting(w.anna, case, held_on=date(2026, 2, 1))
    with pytest.raises(Invalid) as caught:
        cases.update_case(f.actor(w.anna), case, reference="SAG-1", team_id=w.north.id,
                          child_birth_year=2012, opened_on=date(2026, 2, 2))
    assert caught.value.code == "opened_after_meetings"


def test_a_reference_already_used_is_refused_on_edit(client, db):
    w = f.world()
    f.case(w.anna, w.north, reference="SAG-1")
    other = f.case(w.anna, w.north, reference="SAG-2")
    f.login(client, w.anna)
    response = client.post(f"/cases/{other.id}/edit", data={
        "reference": "SAG-1", "team": str(w.north.id), "child_birth_year": "2012",
        "child_birth_month": "", "opened_on": "2026-01-05", "tags": ""})
    assert response.status_code == 422
    assert "findes allerede" in response.get_data(as_text=True)
    db.session.refresh(other)
    assert other.reference == "SAG-2"


def test_a_case_moves_team_only_with_a_caseworker_in_that_team(db):
    w = f.world()
    case = f.case(w.lene, w.north)
    db.session.add(TeamMembership(user=w.lene, team=w.south))
    db.session.commit()
    with pytest.raises(Invalid, match="responsible_not_in_team"):
        # anna would stay responsible but is not in Syd.
        cases.update_case(f.actor(w.lene), f.case(w.anna, w.north, reference="A"),
                          reference="A", team_id=w.south.id, child_birth_year=2012,
                          opened_on=date(2026, 1, 5))
    cases.update_case(f.actor(w.lene), case, reference=case.reference, team_id=w.south.id,
                      child_birth_year=2012, opened_on=case.opened_on)
    assert case.team_id == w.south.id


# --- transferring -----------------------------------------------------------------

def test_transfer_to_a_colleague_in_the_team_keeps_the_history(client, db):
    w = f.world()
    case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, case)
    f.login(client, w.anna)
    page = client.get(f"/cases/{case.id}/edit").get_data(as_text=True)
    options = re.findall(r'<option[^>]*value="([^"]+)"', page.split('id="responsible"')[1]
                         .split("</select>")[0])
    assert set(options) == {str(w.anna.id), str(w.bo.id), str(w.lene.id)}  # not carla (Syd)
    assert client.post(f"/cases/{case.id}/transfer",
                       data={"responsible": str(w.bo.id)}).status_code == 302
    db.session.refresh(case)
    assert case.responsible_id == w.bo.id
    assert meeting.case_id == case.id
    event = _audited(db, "case.transfer", case.id)
    assert event.actor_id == w.anna.id and str(w.bo.id) in event.detail
    # With the default scope anna no longer sees it; bo does.
    assert client.get(f"/cases/{case.id}").status_code == 404
    f.login(client, w.bo)
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_transfer_outside_the_team_or_to_an_inactive_user_is_refused(db):
    w = f.world()
    case = f.case(w.anna, w.north)
    for user in (w.carla, w.ali):
        with pytest.raises(Invalid, match="not_in_team"):
            cases.transfer_case(f.actor(w.anna), case, user.id)
    w.bo.active = False
    db.session.commit()
    with pytest.raises(Invalid, match="not_in_team"):
        cases.transfer_case(f.actor(w.anna), case, w.bo.id)


def test_with_team_scope_a_colleague_may_edit_but_not_transfer_or_close(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_CASEWORKER_SCOPE", "team")
    w = f.world()
    case = f.case(w.anna, w.north)
    bo = f.actor(w.bo)
    cases.update_case(bo, case, reference="SAG-BO", team_id=w.north.id,
                      child_birth_year=2012, opened_on=case.opened_on)
    assert "not the responsible caseworker" in _audited(db, "case.update", case.id).detail
    with pytest.raises(NotFound):
        cases.transfer_case(bo, case, w.bo.id)
    with pytest.raises(NotFound):
        cases.close_case(bo, case, TODAY)
    assert case.responsible_id == w.anna.id and case.is_open


# --- closing and reopening --------------------------------------------------------

def test_a_closed_case_offers_no_new_meeting_until_reopened(client, db):
    w = f.world()
    case = f.case(w.anna, w.north)
    f.meeting(w.anna, case, held_on=TODAY - timedelta(days=3))
    f.login(client, w.anna)
    assert 'id="held_on"' in client.get(f"/cases/{case.id}").get_data(as_text=True)

    assert client.post(f"/cases/{case.id}/close",
                       data={"closed_on": TODAY.isoformat()}).status_code == 302
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="held_on"' not in page and "Genåbn den for at planlægge et nyt møde" in page
    assert client.post(f"/cases/{case.id}/meetings", data={
        "held_on": TODAY.isoformat(), "type": "follow_up", "mode": "in_person"}).status_code == 422
    listing = client.get("/cases").get_data(as_text=True)
    assert "Afsluttet" in listing

    assert client.post(f"/cases/{case.id}/reopen").status_code == 302
    assert 'id="held_on"' in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert [e.action for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == str(case.id),
                                 AuditEvent.action.in_(("case.close", "case.reopen")))
        .order_by(AuditEvent.id))] == ["case.close", "case.reopen"]


@pytest.mark.parametrize("closed_on", [TODAY + timedelta(days=1), date(2026, 1, 4)])
def test_a_case_closes_between_its_last_meeting_and_today(db, closed_on):
    w = f.world()
    case = f.case(w.anna, w.north, opened=date(2026, 1, 5))
    with pytest.raises(Invalid, match="closed_range"):
        cases.close_case(f.actor(w.anna), case, closed_on)
    f.meeting(w.anna, case, held_on=TODAY)
    with pytest.raises(Invalid, match="closed_range"):
        cases.close_case(f.actor(w.anna), case, TODAY - timedelta(days=1))
    assert case.is_open


# --- voiding ----------------------------------------------------------------------

def test_a_voided_response_is_kept_but_left_out_of_the_graph_and_the_export(client, db):
    w = f.world()
    case = f.case(w.anna, w.north)
    mother = cases.add_participant(f.actor(w.anna), case, "mother", "Søs")
    meeting = f.meeting(w.anna, case)
    _answer(db, f.invite(w.anna, meeting, f.child_of(case)), 60)
    wrong = _answer(db, f.invite(w.anna, meeting, mother), 30)
    assert {t.role for t in trajectories.for_case(case).family("outcome")} == {"child",
                                                                                "mother"}
    f.login(client, w.anna)
    meeting_page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'action="/responses/{wrong.id}/void"' in meeting_page
    assert client.post(f"/responses/{wrong.id}/void",
                       data={"reason": ""}).status_code == 422  # a reason is required
    assert client.post(f"/responses/{wrong.id}/void", data={
        "reason": "Moren svarede på barnets vegne"}).status_code == 302

    db.session.expire_all()
    assert db.session.get(Response, wrong.id) is not None  # kept, answers and all
    assert len(db.session.get(Response, wrong.id).answers) == 4
    assert {t.role for t in trajectories.for_case(case).family("outcome")} == {"child"}
    event = _audited(db, "response.void", wrong.id)
    assert event.actor_id == w.anna.id and event.detail == "Moren svarede på barnets vegne"

    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    voided = page.split('id="voided"')[1]
    assert "Moren svarede på barnets vegne" in voided and "(<bdi>Søs</bdi>)" in voided
    meeting_page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "annulleret" in meeting_page
    assert f'action="/responses/{wrong.id}/void"' not in meeting_page
    with pytest.raises(Invalid, match="already_voided"):
        responses.void(f.actor(w.anna), wrong, "again")

    f.login(client, w.lene)
    rows = list(csv.DictReader(io.StringIO(
        client.get("/reports/export.csv").get_data(as_text=True))))
    assert {r["respondent_role"] for r in rows} == {"child"} and len(rows) == 4
    assert {r["value"] for r in rows} == {"6.0"}  # the child's own answer, kept


def test_voiding_another_teams_response_is_not_found_and_audited(client, db):
    w = f.world()
    case = f.case(w.carla, w.south)
    answer = _answer(db, f.invite(w.carla, f.meeting(w.carla, case), f.child_of(case)), 50)
    f.login(client, w.anna)
    assert client.post(f"/responses/{answer.id}/void", data={"reason": "x"}).status_code == 404
    assert _audited(db, "response.void", answer.id).outcome == "refused"
    assert db.session.get(Response, answer.id).void is None


# --- what staff meet on the meeting page ------------------------------------------

def test_a_meeting_whose_window_has_passed_shows_why_instead_of_the_form(client, db):
    w = f.world()
    case = f.case(w.anna, w.north, opened=date(2026, 1, 5))
    old = f.meeting(w.anna, case, held_on=TODAY - timedelta(days=10))
    f.login(client, w.anna)
    page = client.get(f"/meetings/{old.id}").get_data(as_text=True)
    assert f'action="/meetings/{old.id}/invitations"' not in page
    assert "Svarperioden for dette møde er forbi" in page
    today = f.meeting(w.anna, case, held_on=TODAY)
    assert f'action="/meetings/{today.id}/invitations"' in client.get(
        f"/meetings/{today.id}").get_data(as_text=True)


def test_broken_instrument_packs_give_a_message_not_a_500(app, client, db, tmp_path, monkeypatch):
    w = f.world()
    case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, case, held_on=TODAY)
    (tmp_path / "broken.toml").write_text('id = "broken"\n')
    app.extensions.pop("feedback.instruments", None)
    monkeypatch.setitem(app.config, "FEEDBACK_INSTRUMENTS_DIR", str(tmp_path))
    try:
        f.login(client, w.anna)
        page = client.get(f"/meetings/{meeting.id}")
        assert page.status_code == 200
        assert "ikke installeret korrekt" in page.get_data(as_text=True)
        response = client.post(f"/meetings/{meeting.id}/invitations", data={
            "participants": [str(f.child_of(case).id)], "instruments": ["outcome"]})
        assert response.status_code == 422
        f.login(client, w.admin)
        admin = client.get("/admin/")
        assert admin.status_code == 200 and "broken.toml" in admin.get_data(as_text=True)
    finally:
        app.extensions.pop("feedback.instruments", None)
    assert db.session.scalar(select(Case.id)) == case.id
