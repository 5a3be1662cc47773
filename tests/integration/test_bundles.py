"""Bundles picked by age, overrides, short codes, throttling and hand-over mode."""

import re

import pytest
from sqlalchemy import select

from feedback.models import Invitation
from feedback.services import invitations
from tests import factories as f
from tests.conftest import TODAY, hidden_inputs


def _setup(client, birth_year, roles=("mother",)):
    w = f.world()
    the_case = f.case(w.anna, w.north, birth_year=birth_year)
    for role in roles:
        from feedback.services import cases

        cases.add_participant(f.actor(w.anna), the_case, role)
    meeting = f.meeting(w.anna, the_case)
    f.login(client, w.anna)
    return w, the_case, meeting


def _bundle(db, participant_role):
    invitation = db.session.scalars(select(Invitation)).all()
    found = [i for i in invitation if i.participant.role.value == participant_role]
    return [item.instrument_version.key for item in found[-1].items]


@pytest.mark.parametrize("birth_year, child_outcome, child_session", [
    (TODAY.year - 4, "ycors", "ycsrs"),
    (TODAY.year - 9, "cors", "csrs"),
    (TODAY.year - 15, "ors", "srs"),
])
def test_each_respondent_gets_the_version_for_their_age(client, db, birth_year, child_outcome,
                                                        child_session):
    w, the_case, meeting = _setup(client, birth_year)
    ids = [str(p.id) for p in the_case.participants]
    # Smileys and a session scale ask much the same: confirmed after the warning.
    response = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": ids, "instruments": ["outcome", "session", "meeting-experience"],
        "confirmed": "1"})
    assert response.status_code == 200
    expected_child = [child_outcome, child_session]
    if TODAY.year - birth_year >= 6:
        expected_child.append("child-meeting")
    assert _bundle(db, "child") == expected_child
    assert _bundle(db, "mother") == ["ors", "srs"]  # no smileys for parents


def test_a_specific_version_overrides_the_age_rule(client, db):
    w, the_case, meeting = _setup(client, TODAY.year - 9)
    child = f.child_of(the_case)
    client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id)], "instruments": ["outcome"], "versions": ["ors"]})
    assert _bundle(db, "child") == ["ors"]


def test_nothing_fitting_is_refused_with_a_message(client, db):
    w, the_case, meeting = _setup(client, TODAY.year - 9)
    mother = next(p for p in the_case.participants if p.role.value == "mother")
    response = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(mother.id)], "instruments": ["meeting-experience"]})
    assert response.status_code == 422
    assert "Ingen af de valgte spørgeskemaer passer til" in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation)) is None


def test_qr_card_shows_a_short_code_that_opens_the_questionnaire(client, db):
    w, the_case, meeting = _setup(client, 2012)
    child = f.child_of(the_case)
    page = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id)], "instruments": ["outcome"]}).get_data(as_text=True)
    code = re.search(r'class="short-code">([A-Z2-9]{4}-[A-Z2-9]{4})<', page).group(1)
    assert not set(code) & set("IO01L")
    phone = client.application.test_client()
    typed = code.lower().replace("-", " ")  # as a child might type it
    opened = phone.post("/r/code", data={"code": typed})
    assert opened.status_code == 303
    assert 'name="individually"' in phone.get("/r/").get_data(as_text=True)


def test_a_wrong_code_gets_the_generic_message_and_is_throttled(client, db, app):
    phone = client.application.test_client()
    limit = app.config["FEEDBACK_LINK_THROTTLE"]
    for _ in range(limit):
        wrong = phone.post("/r/code", data={"code": "ABCD-EFGH"})
        assert wrong.status_code == 404
        assert "Bed din rådgiver om en ny kode" in wrong.get_data(as_text=True)
    assert phone.post("/r/code", data={"code": "ABCD-EFGH"}).status_code == 429
    # Links from the same address are throttled too, even a random one.
    assert phone.get("/r/" + "x" * 22).status_code == 429


def test_reissue_revokes_the_old_code_too(client, db):
    w, the_case, meeting = _setup(client, 2012)
    issued = f.invite(w.anna, meeting, f.child_of(the_case))
    again = invitations.reissue(f.actor(w.anna), issued.invitation)
    phone = client.application.test_client()
    assert phone.post("/r/code", data={"code": issued.code}).status_code == 404
    assert phone.post("/r/code", data={"code": again.code}).status_code == 303


def _hand_over(client, the_case, meeting):
    child = f.child_of(the_case)
    return client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id)], "instruments": ["outcome"], "handover": "1"})


def test_hand_over_locks_the_staff_view_until_the_password_is_given(client, db):
    w, the_case, meeting = _setup(client, 2012)
    started = _hand_over(client, the_case, meeting)
    assert started.status_code == 303 and started.headers["Location"] == "/r/"
    assert 'name="individually"' in client.get("/r/").get_data(as_text=True)
    for staff_url in ("/cases", f"/cases/{the_case.id}", f"/meetings/{meeting.id}",
                      "/reports/", "/"):
        locked = client.get(staff_url)
        assert locked.status_code == 302 and locked.headers["Location"] == "/r/", staff_url
    assert client.post(f"/cases/{the_case.id}/meetings", data={}).status_code == 302
    wrong = client.post("/unlock", data={"password": "not it"})
    assert wrong.status_code == 401
    assert client.get("/cases").headers["Location"] == "/r/"
    right = client.post("/unlock", data={"password": f.PASSWORD})
    assert right.status_code == 302 and right.headers["Location"] == f"/meetings/{meeting.id}"
    assert client.get("/cases").status_code == 200


def test_hand_over_needs_exactly_one_respondent(client, db):
    w, the_case, meeting = _setup(client, 2012)
    ids = [str(p.id) for p in the_case.participants]
    response = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": ids, "instruments": ["outcome"], "handover": "1"})
    assert response.status_code == 422
    assert client.get("/cases").status_code == 200


def test_too_many_wrong_unlock_passwords_end_the_staff_session(client, db):
    w, the_case, meeting = _setup(client, 2012)
    _hand_over(client, the_case, meeting)
    for _ in range(5):
        last = client.post("/unlock", data={"password": "guess"})
    assert last.status_code == 302 and last.headers["Location"] == "/login"
    assert client.get("/cases").status_code == 302
    assert client.get("/cases").headers["Location"].startswith("/login")
    # The child's questionnaire is still there: the respondent cookie is separate.
    assert 'name="individually"' in client.get("/r/").get_data(as_text=True)


def test_the_child_can_finish_answering_in_hand_over_mode(client, db):
    w, the_case, meeting = _setup(client, 2012)
    _hand_over(client, the_case, meeting)
    page = client.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    values = {"individually": "1", "interpersonally": "2", "socially": "3", "overall": "4"}
    assert client.post(action, data={**hidden_inputs(page), **values}).status_code == 303
    done = client.get("/r/").get_data(as_text=True)
    assert "Tak" in done and 'href="/unlock"' in done


def test_show_code_again_from_the_meeting_page(client, db):
    w, the_case, meeting = _setup(client, 2012)
    issued = f.invite(w.anna, meeting, f.child_of(the_case))
    page = client.post(f"/invitations/{issued.invitation.id}/reissue")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<svg class="qr"') == 1
    new_token = re.search(r'href="http://localhost/r/([^"]+)"', html).group(1)
    phone = client.application.test_client()
    assert phone.get(f"/r/{issued.token}").status_code == 404
    assert phone.get(f"/r/{new_token}").status_code == 303
    # Another caseworker cannot re-show it.
    f.login(client, w.carla)
    assert client.post(f"/invitations/{issued.invitation.id}/reissue").status_code == 404
