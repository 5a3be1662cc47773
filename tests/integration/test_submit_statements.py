"""Submitting a questionnaire costs a few SQL statements, however many items it has.

The write lock is held for as short a time as possible (issue 8): the
transaction is the ``used_at`` update, the response, its answers in one
executemany and the audit row; nothing is reloaded after the commit.
"""

import re
import uuid

from sqlalchemy import event, func, select

from feedback.models import Answer, AuditEvent, Response
from feedback.services import cases
from tests import factories as f
from tests.conftest import hidden_inputs

#: Statements that are about data, not transaction control (which the test
#: fixture turns into savepoints).
DATA = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


class Statements:
    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._note)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._note)

    def _note(self, conn, cursor, statement, parameters, context, executemany):
        if DATA.match(statement):
            self.seen.append(statement.split()[0].upper())


def _form_values(page: str) -> dict[str, str]:
    """A valid answer for every item on the page: the lowest value of its scale."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or name.group(1) in ("csrf_token", "submission_id", "locale") \
                or name.group(1).startswith("missing-") or name.group(1) in values:
            continue
        low = re.search(r'min="([^"]+)"', tag) or re.search(r'type="radio"[^>]*value="(\d+)"', tag)
        if low:
            values[name.group(1)] = low.group(1)
    return values


def test_one_submission_is_a_few_statements_whatever_the_number_of_items(client, db):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    mother = cases.add_participant(f.actor(w.anna), the_case, "mother")
    meeting = f.meeting(w.anna, the_case)
    link = f.invite(w.anna, meeting, mother, ("ors", "parent-coordination"))
    client.get(f"/r/{link.token}")

    counts = []
    for expected_items in (4, 12):
        page = client.get("/r/").get_data(as_text=True)
        action = re.search(r'action="(/r/q/\d+)"', page).group(1)
        values = _form_values(page)
        assert len(values) == expected_items
        form = {**hidden_inputs(page), **values, "submission_id": str(uuid.uuid4())}
        with Statements(db.engine) as statements:
            assert client.post(action, data=form).status_code == 303
        counts.append(statements.seen)

    # The bundle; then the conditional update (which is also the idempotency
    # check: a repeat finds its questionnaire spent) and three inserts.
    assert counts[0] == ["SELECT", "UPDATE", "INSERT", "INSERT", "INSERT"]
    assert counts[1] == counts[0]
    stored = db.session.scalar(select(func.count()).select_from(Answer))
    assert stored == 4 + 12
    assert db.session.scalar(select(func.count()).select_from(Response)) == 2
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "response.submit")) == 2


def test_a_submission_id_already_used_for_another_questionnaire_is_refused_whole(client, db):
    # The unique submission id breaks inside the write transaction, at the insert of
    # the response: nothing of it is kept, and the questionnaire is still to answer.
    w = f.world()
    the_case = f.case(w.anna, w.north)
    mother = cases.add_participant(f.actor(w.anna), the_case, "mother")
    link = f.invite(w.anna, f.meeting(w.anna, the_case), mother, ("ors", "srs"))
    client.get(f"/r/{link.token}")
    page = client.get("/r/").get_data(as_text=True)
    first = re.search(r'action="(/r/q/\d+)"', page).group(1)
    used = str(uuid.uuid4())
    form = {**hidden_inputs(page), **_form_values(page), "submission_id": used}
    assert client.post(first, data=form).status_code == 303

    page = client.get("/r/").get_data(as_text=True)
    second = re.search(r'action="(/r/q/\d+)"', page).group(1)
    assert second != first
    form = {**hidden_inputs(page), **_form_values(page), "submission_id": used}
    refused = client.post(second, data=form, headers={"Accept": "application/json"})
    assert refused.status_code == 422 and refused.json["error"] == "conflict"
    assert db.session.scalar(select(func.count()).select_from(Response)) == 1
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 4
    page = client.get("/r/").get_data(as_text=True)
    assert re.search(r'action="(/r/q/\d+)"', page).group(1) == second
    # Sent again with a fresh id, it is stored.
    form["submission_id"] = str(uuid.uuid4())
    assert client.post(second, data=form).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Response)) == 2
