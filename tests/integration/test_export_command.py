"""``flask export``: the same file as the web page, audited as the named user."""

import csv
import io
import re

from sqlalchemy import select

from feedback.models import AuditEvent
from feedback.services import cases
from tests import factories as f
from tests.conftest import hidden_inputs

ORS = {"individually": "3.5", "interpersonally": "7", "socially": "10", "overall": "0.1"}


def _answer(client, token, values):
    client.get(f"/r/{token}")
    page = client.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    return client.post(action, data={**hidden_inputs(page), **values})


def _two_answered_questionnaires(app, w):
    the_case = f.case(w.anna, w.north, reference="SAG-7")
    meeting = f.meeting(w.anna, the_case)
    mother = cases.add_participant(f.actor(w.anna), the_case, "mother")
    for person in (f.child_of(the_case), mother):
        link = f.invite(w.anna, meeting, person)
        assert _answer(app.test_client(), link.token, ORS).status_code == 303


def test_the_command_writes_the_web_pages_file(app, client, db, tmp_path):
    w = f.world()
    _two_answered_questionnaires(app, w)
    f.login(client, w.ali)
    web = client.get("/reports/export.csv").get_data()

    runner = app.test_cli_runner()
    to_stdout = runner.invoke(args=["export", "--user", "ali"])
    assert to_stdout.exit_code == 0, to_stdout.output
    target = tmp_path / "long.csv"
    to_file = runner.invoke(args=["export", "--user", "ALI", "-o", str(target)])
    assert to_file.exit_code == 0, to_file.output

    assert to_stdout.stdout_bytes == web == target.read_bytes()
    rows = list(csv.DictReader(io.StringIO(web.decode("utf-8"))))
    assert [r["item"] for r in rows] == list(ORS) * 2
    assert web.count(b"\r\n") == len(rows) + 1
    assert b"SAG-7" not in web  # pseudonyms, never the case reference


def test_the_export_is_audited_as_the_named_user(app, db):
    w = f.world()
    result = app.test_cli_runner().invoke(args=["export", "--user", "lene"])
    assert result.exit_code == 0, result.output
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.long_csv"))
    assert event.actor_id == w.lene.id and event.actor_kind == "staff"


def test_people_who_may_not_export_get_a_message_and_no_file(app, db, tmp_path):
    f.world()
    runner = app.test_cli_runner()
    target = tmp_path / "long.csv"
    refused = runner.invoke(args=["export", "--user", "anna", "-o", str(target)])
    assert refused.exit_code != 0
    assert "may not export" in refused.output and not target.exists()
    unknown = runner.invoke(args=["export", "--user", "nobody"])
    assert unknown.exit_code != 0 and "No active user" in unknown.output
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "export.long_csv")) is None
