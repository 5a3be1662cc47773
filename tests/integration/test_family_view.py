"""Consent per participant, and the family view that obeys it and needs the caseworker to leave."""

import re

from sqlalchemy import func, select

from feedback.extensions import db as _db
from feedback.models import AuditEvent, ConsentGiver, Invitation, ParticipantConsent
from feedback.services import cases, consent
from feedback.services.errors import Invalid
from tests import factories as f
from tests.conftest import TODAY, hidden_inputs
from tests.integration.test_meeting_live import answer


def _csrf(client) -> dict:
    return hidden_inputs(client.get("/cases").get_data(as_text=True))


def _consent(client, case, participant, **flags):
    data = {**_csrf(client), **{k: "1" for k, v in flags.items() if v}}
    return client.post(f"/cases/{case.id}/consent/{participant.id}", data=data)


def _world(db, birth_year=TODAY.year - 10):
    w = f.world()
    case = f.case(w.anna, w.north, birth_year=birth_year)
    mother = cases.add_participant(f.actor(w.anna), case, "mother", "Sara")
    meeting = f.meeting(w.anna, case)
    child = f.child_of(case)
    answer(f.invite(w.anna, meeting, child, ["cors"]), 6)
    answer(f.invite(w.anna, meeting, mother, ["ors"]), 4)
    return w, case, meeting, child, mother


def test_the_case_page_leads_to_the_consent_page(client, db):
    w, case, meeting, child, mother = _world(db)
    f.login(client, w.anna)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}/consent"' in page


def test_consent_is_recorded_per_participant_and_audited(client, db):
    w, case, meeting, child, mother = _world(db)
    f.login(client, w.anna)
    page = client.get(f"/cases/{case.id}/consent").get_data(as_text=True)
    assert "Forældremyndighedsindehaverne bestemmer" in page  # a 9-year-old's parents decide
    assert _consent(client, case, child, collect=True, show_family=True).status_code == 302
    row = _db.session.get(ParticipantConsent, child.id)
    assert (row.collect, row.show_family, row.show_network, row.given_by) == (
        True, True, False, ConsentGiver.guardian)
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consent.record"))
    assert event.object_id == str(child.id) and "family=1" in event.detail
    # Showing a line whose answers may not be collected makes no sense: refused, nothing changed.
    refused = _consent(client, case, child, show_family=True)
    assert refused.status_code == 422
    _db.session.refresh(row)
    assert row.collect is True


def test_a_colleague_outside_the_team_cannot_record_consent(client, db):
    w, case, meeting, child, mother = _world(db)
    f.login(client, w.carla)
    assert _consent(client, case, child, collect=True).status_code == 404
    assert _db.session.scalar(select(func.count()).select_from(ParticipantConsent)) == 0


def test_no_consent_to_collect_means_no_invitation(client, db):
    w, case, meeting, child, mother = _world(db)
    consent.record(f.actor(w.anna), case, mother.id, collect=False, show_family=False,
                   show_network=False)
    second = f.meeting(w.anna, case)
    before = _db.session.scalar(select(func.count()).select_from(Invitation))
    try:
        f.invite(w.anna, second, mother, ["ors"])
    except Invalid as error:
        assert error.code == "consent_no_collect"
    else:
        raise AssertionError("invited somebody who said no")
    assert _db.session.scalar(select(func.count()).select_from(Invitation)) == before


def test_from_15_the_young_person_decides_and_the_parents_earlier_yes_no_longer_counts(db):
    w = f.world()
    case = f.case(w.anna, w.north, birth_year=TODAY.year - 16)  # 15 on the frozen day
    child = f.child_of(case)
    # Recorded while the parents still decided (say, last year): stored as the guardian's.
    _db.session.add(ParticipantConsent(participant_id=child.id, collect=True, show_family=True,
                                       show_network=True, given_by=ConsentGiver.guardian,
                                       recorded_by_id=w.anna.id))
    _db.session.commit()
    now = consent.of(child)
    assert now.giver == ConsentGiver.self and now.outdated and not now.show_family
    with_own = consent.record(f.actor(w.anna), case, child.id, collect=True, show_family=True,
                              show_network=False)
    assert with_own.given_by == ConsentGiver.self and consent.of(child).show_family


def _start(client, meeting, *participants):
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    form = page[page.index(f'action="/meetings/{meeting.id}/family"'):]
    data = hidden_inputs(form[:form.index("</form>")])
    data["lines"] = [str(p.id) for p in participants]
    return client.post(f"/meetings/{meeting.id}/family", data=data)


def test_the_family_view_shows_only_consented_lines_and_needs_the_caseworker_to_leave(client, db):
    w, case, meeting, child, mother = _world(db)
    f.login(client, w.anna)
    _consent(client, case, child, collect=True, show_family=True)
    # By default the child's own line is ticked; the mother, without consent, cannot be.
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert re.search(rf'value="{child.id}" checked', page)
    assert re.search(rf'value="{mother.id}" disabled', page)
    # Sending her anyway (a hand-made form) is refused and nothing is locked.
    assert _start(client, meeting, child, mother).status_code == 422
    assert client.get(f"/cases/{case.id}").status_code == 200
    started = _start(client, meeting, child)
    assert started.status_code == 303 and started.headers["Location"].endswith("/family")
    view = client.get("/family").get_data(as_text=True)
    assert 'class="line role-child"' in view and "role-mother" not in view
    assert "24" in view and "Sara" not in view
    assert 'class="band role-child"' in view and 'class="cutoff"' in view  # band + cut-off
    assert case.reference not in view  # nothing else of the case
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "family_view.start")) == 1
    # Every other page leads back to the family view, the questions too.
    for path in (f"/cases/{case.id}", f"/meetings/{meeting.id}", "/cases", "/r/"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/family")
    # A poll of the results is no way out either.
    assert client.get(f"/meetings/{meeting.id}/results").headers["Location"].endswith("/family")
    # The way back needs the caseworker's password.
    unlock = client.get("/unlock").get_data(as_text=True)
    wrong = client.post("/unlock", data={**hidden_inputs(unlock), "password": "guess"})
    assert wrong.status_code == 401
    back = client.post("/unlock", data={**hidden_inputs(unlock), "password": f.PASSWORD})
    assert back.headers["Location"].endswith(f"/meetings/{meeting.id}")
    assert client.get(f"/cases/{case.id}").status_code == 200


def test_withdrawn_consent_removes_the_line_from_an_open_family_view(client, db):
    w, case, meeting, child, mother = _world(db)
    f.login(client, w.anna)
    _consent(client, case, child, collect=True, show_family=True)
    _consent(client, case, mother, collect=True, show_family=True)
    assert _start(client, meeting, child, mother).status_code == 303
    assert "role-mother" in client.get("/family").get_data(as_text=True)
    consent.record(f.actor(w.anna), case, mother.id, collect=True, show_family=False,
                   show_network=False)
    view = client.get("/family").get_data(as_text=True)
    assert "role-mother" not in view and "role-child" in view


def test_the_family_view_without_a_lock_goes_to_the_cases(client, db):
    w, case, meeting, child, mother = _world(db)
    f.login(client, w.anna)
    response = client.get("/family")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cases")


def test_a_case_deleted_by_retention_takes_its_consent_rows_along(app, db, monkeypatch):
    from datetime import timedelta

    from feedback import clock
    from feedback.services import retention

    monkeypatch.setitem(app.config, "FEEDBACK_RETENTION_CASE_DAYS", 30)
    monkeypatch.setitem(app.config, "FEEDBACK_RETENTION_KEEP_ANONYMISED", False)
    w, case, meeting, child, mother = _world(db)
    consent.record(f.actor(w.anna), case, mother.id, collect=True, show_family=True,
                   show_network=False)
    cases.close_case(f.actor(w.anna), case, TODAY)
    clock.advance(timedelta(days=31))
    assert [c.reference for c in retention.run().cases] == [case.reference]
    _db.session.expire_all()
    assert _db.session.scalar(select(func.count()).select_from(ParticipantConsent)) == 0
    # The consent's audit event stays, pointing nowhere.
    event = _db.session.scalar(select(AuditEvent).where(AuditEvent.action == "consent.record"))
    assert event.object_id is None
