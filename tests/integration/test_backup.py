"""`flask backup` and `flask restore`: a drill while answers keep arriving.

The backup is taken while respondents go on sending answers; it is restored
into a fresh database, where every answer acknowledged before the backup
began must be present. Both databases.
"""

from __future__ import annotations

import re
import threading
import time
import uuid

from sqlalchemy import select

from bench import seed
from bench.common import PASSWORD
from feedback import create_app
from feedback.commands.backup import prune, taken_at
from feedback.extensions import db
from feedback.models import Response
from tests.conftest import TEST_CONFIG, fresh_database, hidden_inputs

ANSWERS = {"individually": "5", "interpersonally": "6.5", "socially": "0", "overall": "10"}


def _forms(app, count):
    with app.app_context():
        seed.staff(PASSWORD)
        links = seed.issue_links(seed.CASEWORKER, count)
    forms = []
    for link in links:
        client = app.test_client()
        assert client.get(f"/r/{link.token}").status_code == 303
        page = client.get("/r/").get_data(as_text=True)
        action = re.search(r'action="(/r/q/\d+)"', page).group(1)
        forms.append((client, action, hidden_inputs(page)))
    return forms


class Respondents(threading.Thread):
    """Sends one questionnaire after another; notes when each receipt arrived."""

    def __init__(self, forms):
        super().__init__(daemon=True)
        self.forms = forms
        self.acknowledged: list[tuple[float, str]] = []
        self.stop = threading.Event()

    def run(self):
        for client, action, hidden in self.forms:
            if self.stop.is_set():
                return
            data = {"csrf_token": hidden["csrf_token"],
                    "submission_id": hidden["submission_id"], **ANSWERS}
            reply = client.post(action, data=data, headers={"Accept": "application/json"})
            if reply.status_code == 201:
                self.acknowledged.append((time.time(), str(uuid.UUID(hidden["submission_id"]))))
            time.sleep(0.05)


def _stored(app) -> set[str]:
    with app.app_context():
        ids = {str(s) for s in db.session.scalars(select(Response.submission_id))}
        db.session.remove()
        return ids


def test_a_backup_taken_while_answers_arrive_restores_every_earlier_answer(
        live_app, backend, tmp_path, tmp_path_factory):
    forms = _forms(live_app, 80)
    writer = Respondents(forms)
    writer.start()
    while len(writer.acknowledged) < 20:
        time.sleep(0.02)
    result = live_app.test_cli_runner().invoke(args=["backup", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = next(p for p in tmp_path.iterdir() if taken_at(p))
    began = taken_at(path).timestamp()
    assert f"Backup written: {path}" in result.output
    # Answers keep arriving well after the backup began.
    while writer.is_alive() and sum(at > began + 1 for at, _ in writer.acknowledged) < 5:
        time.sleep(0.02)
    writer.stop.set()
    writer.join(timeout=60)
    before = {sid for at, sid in writer.acknowledged if at < began}
    after = {sid for at, sid in writer.acknowledged if at > began + 1}
    assert len(before) >= 20 and after, "answers arrived before and after the backup"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]

    with fresh_database(backend, tmp_path_factory) as url:
        fresh = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        try:
            restored = fresh.test_cli_runner().invoke(args=["restore", str(path)])
            assert restored.exit_code == 0, restored.output
            assert "Restored" in restored.output
            in_backup = _stored(fresh)
            assert before <= in_backup, f"missing: {before - in_backup}"
            # The backup is a snapshot: what came well after it is not in it.
            assert not after <= in_backup
            assert in_backup <= _stored(live_app)
            # A restore never overwrites: the database now has tables.
            again = fresh.test_cli_runner().invoke(args=["restore", str(path)])
            assert again.exit_code != 0 and "not empty" in again.output
        finally:
            with fresh.app_context():
                db.session.remove()
                db.engine.dispose()


def test_restore_never_writes_into_a_database_in_use(live_app, tmp_path):
    backup = live_app.test_cli_runner().invoke(args=["backup", "--dir", str(tmp_path)])
    assert backup.exit_code == 0, backup.output
    path = next(p for p in tmp_path.iterdir() if taken_at(p))
    result = live_app.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code != 0
    assert "not empty" in result.output


def test_old_backups_are_pruned_newest_kept(tmp_path):
    names = [f"feedback-2026031{d}T023000.000000Z.sqlite" for d in range(1, 6)]
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / "notes.txt").write_text("kept")
    gone = prune(tmp_path, 2)
    assert [p.name for p in gone] == names[:3]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[3:] + ["notes.txt"])


def test_keep_zero_keeps_everything(tmp_path):
    (tmp_path / "feedback-20260311T023000.000000Z.dump").write_text("x")
    assert prune(tmp_path, 0) == []
