"""The live meeting page: answers as they arrive, audited once, staff ratings, the journal."""

import re
import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from feedback import clock
from feedback.extensions import db as _db
from feedback.instruments.scoring import ItemAnswer
from feedback.models import AuditEvent, InvitationToken, Response, StaffSession
from feedback.services import cases, responses
from feedback.services.actors import Actor
from feedback.services.invitations import hash_token
from tests import factories as f
from tests.conftest import FROZEN_NOW, TODAY, hidden_inputs


def answer(link, values):
    """Answer the invitation's next questionnaire: one value per item (a list or one for all)."""
    token = _db.session.scalar(select(InvitationToken).where(
        InvitationToken.token_hash == hash_token(link.token)))
    position = responses.next_position(token)
    _item, pack = responses.bundle_item(token, position)
    if not isinstance(values, list):
        values = [values] * len(pack.items)
    responses.submit(Actor.respondent(token.invitation_id), token, position, str(uuid.uuid4()),
                     {i.key: ItemAnswer(round(v * 10)) for i, v in zip(pack.items, values, strict=True)},
                     "da")


def _setup(db, birth_year=TODAY.year - 10):
    w = f.world()
    case = f.case(w.anna, w.north, birth_year=birth_year)
    meeting = f.meeting(w.anna, case)
    return w, case, meeting


def _poll(client, meeting, since=""):
    return client.get(f"/meetings/{meeting.id}/results", query_string={"since": since})


def _audits(action):
    return _db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == action))


def test_answers_appear_in_the_fragment_with_totals_and_low_items(client, db):
    w, case, meeting = _setup(db)
    child = f.child_of(case)
    link = f.invite(w.anna, meeting, child, ["cors", "csrs", "child-meeting"])
    f.login(client, w.anna)
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    stamp = re.search(r'data-stamp="([0-9a-f]+)"', page).group(1)
    assert _poll(client, meeting, stamp).status_code == 204  # nothing new yet

    answer(link, [6, 6, 6, 6.3])          # CORS: 24.3
    answer(link, [9.5, 8.2, 10, 9.9])     # CSRS: "important" is below 9
    answer(link, [10, 2, 9, 8, 7, 6, 5, 4, 3, 2][:_items(link)])
    fresh = _poll(client, meeting, stamp)
    assert fresh.status_code == 200 and fresh.headers["X-Results-Stamp"] != stamp
    html = fresh.get_data(as_text=True)
    assert 'data-total="24.3"' in html and 'data-total="37.6"' in html
    # Below the session scale's threshold (9): the item to ask about is highlighted.
    csrs = html[html.index('data-pack="csrs"'):html.index('data-pack="child-meeting"')]
    assert csrs.count('class="low"') == 1 and "8,2" in csrs
    # The smiley questionnaire is shown item by item, its 1–3 answers marked.
    smiley = html[html.index('data-pack="child-meeting"'):]
    assert 'class="low"' in smiley
    assert "<svg" in html  # the case graph comes along


def _items(link) -> int:
    token = _db.session.scalar(select(InvitationToken).where(
        InvitationToken.token_hash == hash_token(link.token)))
    return len(responses.bundle_item(token, responses.next_position(token))[1].items)


def test_polling_is_audited_once_per_page_view_and_refused_polls_are_audited(client, db):
    w, case, meeting = _setup(db)
    f.login(client, w.anna)
    client.get(f"/meetings/{meeting.id}")
    before = _db.session.scalar(select(func.count()).select_from(AuditEvent))
    for _ in range(3):
        assert _poll(client, meeting).status_code == 200
    assert _db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert _audits("meeting.view") == 1
    # Carla works in another team: 404, and the refusal is in the log.
    other = f.case(w.carla, w.south, reference="SAG-9")
    theirs = f.meeting(w.carla, other)
    assert _poll(client, theirs).status_code == 404
    refused = _db.session.scalar(select(AuditEvent).where(AuditEvent.outcome == "refused"))
    assert refused.object_id == str(theirs.id)


def test_polling_does_not_keep_an_idle_session_alive(client, db):
    w, case, meeting = _setup(db)
    f.login(client, w.anna)
    row = _db.session.scalar(select(StaffSession).where(StaffSession.user_id == w.anna.id))
    clock.freeze(FROZEN_NOW + timedelta(minutes=10))
    assert _poll(client, meeting).status_code == 200
    _db.session.refresh(row)
    assert row.last_seen_at == FROZEN_NOW
    client.get(f"/meetings/{meeting.id}")  # a page the caseworker opened counts
    _db.session.refresh(row)
    assert row.last_seen_at == FROZEN_NOW + timedelta(minutes=10)


def test_a_poll_after_logout_is_not_answered_with_results(client, db):
    w, case, meeting = _setup(db)
    f.login(client, w.anna)
    page = client.get("/cases").get_data(as_text=True)
    client.post("/logout", data=hidden_inputs(page))
    response = _poll(client, meeting)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _rate(client, meeting, value, rater="me"):
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    form = page[page.index(f'action="/meetings/{meeting.id}/ruler"'):]
    data = hidden_inputs(form[:form.index("</form>")])
    return client.post(f"/meetings/{meeting.id}/ruler",
                       data={**data, "value": value, "rater": rater})


def test_the_caseworker_and_a_professional_rate_the_child_ruler(client, db):
    w, case, meeting = _setup(db)
    teacher = cases.add_participant(f.actor(w.anna), case, "professional", "Lærer")
    f.login(client, w.anna)
    assert _rate(client, meeting, "7").status_code == 302
    assert _rate(client, meeting, "4", rater=str(teacher.id)).status_code == 302
    rows = _db.session.scalars(select(Response).where(Response.meeting_id == meeting.id)).all()
    assert sorted((r.staff_user_id is not None, r.participant_id == teacher.id, r.total_tenths)
                  for r in rows) == [(False, True, 40), (True, False, 70)]
    assert all(r.invitation_id is None for r in rows)
    assert _audits("response.submit") == 2
    html = _poll(client, meeting).get_data(as_text=True)
    assert 'data-total="7.0"' in html and 'data-total="4.0"' in html
    assert "Anna" in html and "Lærer" in html
    # The ruler's band is named, and 4 is under the concern threshold (5.5).
    assert "Moderat trivsel" in html or "Sårbar" in html
    # Once per person per meeting; a value off the scale is refused; nothing more is stored.
    again = _rate(client, meeting, "8")
    assert again.status_code == 422
    assert _rate(client, meeting, "11", rater=str(teacher.id)).status_code == 422
    assert _rate(client, meeting, "", rater=str(teacher.id)).status_code == 422
    assert _db.session.scalar(select(func.count()).select_from(Response)) == 2


def test_a_colleague_outside_the_team_cannot_rate(client, db):
    w, case, meeting = _setup(db)
    f.login(client, w.carla)
    page = client.get("/cases").get_data(as_text=True)
    response = client.post(f"/meetings/{meeting.id}/ruler",
                           data={**hidden_inputs(page), "value": "5", "rater": "me",
                                 "submission_id": str(uuid.uuid4())})
    assert response.status_code == 404
    assert _db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_the_journal_summary_in_danish_and_english(client, db):
    w, case, first = _setup(db)
    child = f.child_of(case)
    answer(f.invite(w.anna, first, child, ["cors"]), [4.5, 4.5, 4.5, 4.7])  # 18.2
    second = f.meeting(w.anna, case, held_on=TODAY + timedelta(days=1))
    link = f.invite(w.anna, second, child, ["cors", "csrs"])
    answer(link, [6, 6, 6, 6.3])  # 24.3: up 6.1, a reliable improvement
    answer(link, [9.5, 9.5, 9.5, 9.5])  # 38.0
    f.login(client, w.anna)
    html = _poll(client, second).get_data(as_text=True)
    da = re.search(r'id="journal-da" lang="da">([^<]*)<', html).group(1)
    en = re.search(r'id="journal-en" lang="en">([^<]*)<', html).group(1)
    assert da == ("Barn (CORS): 24,3, op 6,1 siden første møde (pålidelig forbedring). "
                  "Samarbejde, barn (CSRS): 38,0.")
    assert en == ("Child (CORS): 24.3, up 6.1 since the first meeting (reliable improvement). "
                  "Working together, child (CSRS): 38.0.")


def test_a_voided_answer_leaves_the_results(client, db):
    w, case, meeting = _setup(db)
    link = f.invite(w.anna, meeting, f.child_of(case), ["cors"])
    answer(link, 6)
    response = _db.session.scalar(select(Response))
    responses.void(f.actor(w.anna), response, "the wrong child")
    f.login(client, w.anna)
    html = _poll(client, meeting).get_data(as_text=True)
    assert "data-total" not in html


def test_birthday_helper_is_stable():
    # The child in these tests is 9 or 10 on the frozen day, never 15.
    assert TODAY == date(2026, 3, 11)
