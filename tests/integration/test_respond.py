"""The respondent's link and form against hostile and accidental input."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from feedback.models import Answer, Invitation, Response
from feedback.models.types import utcnow
from feedback.services import invitations
from tests import factories as f
from tests.conftest import TODAY, hidden_inputs

GOOD = {"individually": "5", "interpersonally": "6.5", "socially": "0", "overall": "10"}
GENERIC = "Bed din rådgiver om en ny kode"


@pytest.fixture
def link(db):
    """A caseworker's fresh ORS link for the child of a new case."""
    w = f.world()
    the_case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, the_case)
    return f.invite(w.anna, meeting, f.child_of(the_case))


def open_form(client, token):
    client.get(f"/r/{token}")
    page = client.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    return action, hidden_inputs(page)


def stored(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Response))


def test_token_is_swapped_for_a_cookie_and_dropped_from_the_url(client, link):
    opened = client.get(f"/r/{link.token}")
    assert opened.status_code == 303 and opened.headers["Location"] == "/r/"
    assert link.token not in opened.headers["Location"]
    cookie = opened.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and link.token not in cookie
    assert opened.headers["Referrer-Policy"] == "no-referrer"
    page = client.get("/r/")
    assert page.status_code == 200 and 'name="individually"' in page.get_data(as_text=True)


@pytest.mark.parametrize("token", ["x" * 22, "' OR 1=1 --", "%00", "a" * 500, "..%2F..%2Fetc%2Fpasswd", "{{7*7}}"])
def test_bad_links_get_one_generic_page(client, link, token):
    response = client.get(f"/r/{token}")
    assert response.status_code in (400, 404)
    if response.status_code == 404:
        assert GENERIC in response.get_data(as_text=True)


def test_no_cookie_means_the_generic_page(client, link):
    response = client.get("/r/")
    assert response.status_code == 404 and GENERIC in response.get_data(as_text=True)


def test_used_link_cannot_be_used_again(client, db, link):
    action, form = open_form(client, link.token)
    assert client.post(action, data={**form, **GOOD}).status_code == 303
    other_device = client.application.test_client()
    again = other_device.get(f"/r/{link.token}")
    assert again.status_code == 404 and GENERIC in again.get_data(as_text=True)
    assert stored(db) == 1


def test_expired_link_is_refused_but_an_open_page_has_a_grace_period(client, db, link, app):
    action, form = open_form(client, link.token)
    late = utcnow() - timedelta(minutes=10)
    db.session.execute(update(Invitation).values(expires_at=late))
    db.session.commit()
    fresh = client.application.test_client()
    assert fresh.get(f"/r/{link.token}").status_code == 404
    # The page that was already open may still send within the grace period.
    assert client.post(action, data={**form, **GOOD}).status_code == 303
    assert stored(db) == 1


def test_after_the_grace_period_nothing_is_accepted(client, db, link):
    action, form = open_form(client, link.token)
    db.session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert client.post(action, data={**form, **GOOD}).status_code == 404
    assert stored(db) == 0


def test_showing_the_code_again_revokes_the_unopened_token(client, db, link):
    w_user = link.invitation.created_by_id
    from feedback.models import User

    again = invitations.reissue(f.actor(db.session.get(User, w_user)), link.invitation)
    assert client.get(f"/r/{link.token}").status_code == 404
    assert client.get(f"/r/{again.token}").status_code == 303


@pytest.mark.parametrize("field, value", [
    ("individually", "-1"), ("individually", "11"), ("individually", "10.05"),
    ("individually", "NaN"), ("individually", "1e1"), ("individually", ""),
    ("individually", "<script>alert(1)</script>"), ("individually", "5; DROP TABLE answers"),
])
def test_bad_values_are_refused_and_the_form_reshown(client, db, link, field, value):
    action, form = open_form(client, link.token)
    response = client.post(action, data={**form, **GOOD, field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error"' in html and "<script>alert(1)" not in html
    assert 'value="6.5"' in html  # the other answers are kept
    assert stored(db) == 0


def test_an_untouched_item_cannot_be_submitted(client, db, link):
    action, form = open_form(client, link.token)
    answers = dict(GOOD)
    del answers["overall"]
    assert client.post(action, data={**form, **answers}).status_code == 422
    assert stored(db) == 0


def test_a_repeated_field_is_refused(client, db, link):
    action, form = open_form(client, link.token)
    data = MultiDict(list({**form, **GOOD}.items()) + [("individually", "9")])
    assert client.post(action, data=data).status_code == 422
    assert stored(db) == 0


@pytest.mark.parametrize("extra", [{"case_id": str(uuid.uuid4())}, {"role": "mother"},
                                   {"instrument": "srs"}, {"meeting_id": "1"}])
def test_extra_fields_cannot_set_case_role_or_instrument(client, db, link, extra):
    action, form = open_form(client, link.token)
    assert client.post(action, data={**form, **GOOD, **extra}).status_code == 422
    assert stored(db) == 0


def test_skip_is_stored_as_missing_and_leaves_no_total(client, db, link):
    action, form = open_form(client, link.token)
    answers = {**GOOD, "socially": "", "missing-socially": "skipped"}
    assert client.post(action, data={**form, **answers}).status_code == 303
    response = db.session.scalar(select(Response))
    assert response.total_tenths is None
    skipped = db.session.scalar(select(Answer).where(Answer.item_key == "socially"))
    assert skipped.value_tenths is None and skipped.missing_code == "skipped"


def test_value_and_skip_together_are_refused(client, db, link):
    action, form = open_form(client, link.token)
    answers = {**GOOD, "missing-socially": "skipped"}
    assert client.post(action, data={**form, **answers}).status_code == 422
    assert stored(db) == 0


def test_missing_submission_id_is_400(client, db, link):
    action, form = open_form(client, link.token)
    del form["submission_id"]
    assert client.post(action, data={**form, **GOOD}).status_code == 400
    assert stored(db) == 0


def test_missing_csrf_token_is_400_with_the_answers_kept(client, db, link):
    action, form = open_form(client, link.token)
    del form["csrf_token"]
    response = client.post(action, data={**form, **GOOD})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="6.5"' in html and 'value="10"' in html
    assert stored(db) == 0


def test_foreign_csrf_token_is_refused(client, db, link):
    action, form = open_form(client, link.token)
    form["csrf_token"] = "0" * 64
    assert client.post(action, data={**form, **GOOD}).status_code == 400
    assert stored(db) == 0


def test_repeat_of_the_same_submission_returns_the_first_receipt(client, db, link):
    action, form = open_form(client, link.token)
    headers = {"Accept": "application/json"}
    first = client.post(action, data={**form, **GOOD}, headers=headers)
    again = client.post(action, data={**form, **GOOD}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json["response_id"] == again.json["response_id"]
    assert stored(db) == 1


def test_same_submission_id_with_other_answers_is_422(client, db, link):
    action, form = open_form(client, link.token)
    assert client.post(action, data={**form, **GOOD}).status_code == 303
    changed = client.post(action, data={**form, **GOOD, "overall": "2"})
    assert changed.status_code == 422
    assert db.session.scalar(select(Answer.value_tenths).where(Answer.item_key == "overall")) == 100


def test_nul_bytes_and_invalid_utf8_are_400(client, db, link):
    action, form = open_form(client, link.token)
    body = "&".join(f"{k}={v}" for k, v in {**form, **GOOD}.items())
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post(action, data=body + "&x=%00", headers=ctype).status_code == 400
    assert client.post(action, data=body.encode() + b"&x=%ff%fe", headers=ctype).status_code == 400
    assert client.post(action, data=body.encode() + b"&x=\xff", headers=ctype).status_code == 400
    assert stored(db) == 0


def test_oversized_body_is_413(client, db, link):
    action, form = open_form(client, link.token)
    big = {**form, **GOOD, "padding": "x" * (70 * 1024)}
    assert client.post(action, data=big).status_code == 413
    assert stored(db) == 0


def test_respondent_chooses_english_without_touching_staff_language(client, db, link):
    client.get(f"/r/{link.token}")
    assert "Send" in client.get("/r/").get_data(as_text=True)
    switched = client.post("/r/language", data={"locale": "en"})
    assert switched.status_code == 303
    page = client.get("/r/").get_data(as_text=True)
    assert 'lang="en"' in page and "Skip this question" in page


def test_links_for_meetings_long_past_are_not_issued(db):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    old = f.meeting(w.anna, the_case, held_on=TODAY - timedelta(days=30))
    from feedback.services.errors import Invalid

    with pytest.raises(Invalid, match="meeting_too_old"):
        f.invite(w.anna, old, f.child_of(the_case))
