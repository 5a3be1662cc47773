"""Parallel submissions on real, committed transactions: exactly one response stored."""

import re
import threading
import uuid

from sqlalchemy import func, select

from feedback.extensions import db
from feedback.models import Answer, InvitationItem, Response
from tests import factories as f
from tests.conftest import hidden_inputs

GOOD = {"individually": "5", "interpersonally": "6.5", "socially": "0", "overall": "10"}


def _setup(app):
    with app.app_context():
        w = f.world()
        the_case = f.case(w.anna, w.north)
        meeting = f.meeting(w.anna, the_case)
        return f.invite(w.anna, meeting, f.child_of(the_case)).token


def _form(app, token):
    client = app.test_client()
    client.get(f"/r/{token}")
    page = client.get("/r/").get_data(as_text=True)
    return client, re.search(r'action="(/r/q/\d+)"', page).group(1), hidden_inputs(page)


def _race(app, jobs):
    """Run the POSTs at the same moment from separate clients; return their statuses."""
    barrier = threading.Barrier(len(jobs))
    statuses = [None] * len(jobs)

    def run(n, client, action, data):
        barrier.wait()
        statuses[n] = client.post(action, data=data,
                                  headers={"Accept": "application/json"}).status_code

    threads = [threading.Thread(target=run, args=(n, *job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return statuses


def _counts(app):
    with app.app_context():
        responses = db.session.scalar(select(func.count()).select_from(Response))
        answers = db.session.scalar(select(func.count()).select_from(Answer))
        used = db.session.scalar(select(func.count()).select_from(InvitationItem)
                                 .where(InvitationItem.used_at.is_not(None)))
        db.session.remove()
        return responses, answers, used


def _twin(app, client):
    """Another connection from the same respondent (same cookie), like a double tap."""
    twin = app.test_client()
    cookie = client.get_cookie("feedback_respondent", path="/r/")
    twin.set_cookie("feedback_respondent", cookie.value, path="/r/")
    return twin


def test_the_same_submission_sent_in_parallel_is_stored_once(live_app):
    token = _setup(live_app)
    client, action, form = _form(live_app, token)
    jobs = [(_twin(live_app, client), action, {**form, **GOOD}) for _ in range(6)]
    statuses = _race(live_app, jobs)
    assert sorted(statuses) == [200] * 5 + [201], statuses
    assert _counts(live_app) == (1, 4, 1)


def test_different_submissions_for_one_questionnaire_store_only_the_first(live_app):
    token = _setup(live_app)
    client, action, form = _form(live_app, token)
    jobs = [(_twin(live_app, client), action,
             {**form, **GOOD, "overall": str(n), "submission_id": str(uuid.uuid4())})
            for n in range(4)]
    statuses = _race(live_app, jobs)
    assert sorted(statuses) == [201, 409, 409, 409], statuses
    assert _counts(live_app) == (1, 4, 1)
