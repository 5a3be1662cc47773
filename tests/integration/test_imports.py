"""Importing historical answers: every line accounted for, hostile files refused clearly."""

from __future__ import annotations

import csv
import io
import re
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from feedback.extensions import db as _db
from feedback.models import (
    Answer,
    AuditEvent,
    Case,
    ImportBatch,
    Meeting,
    MeetingMode,
    Participant,
    Response,
    Team,
)
from feedback.services import cases, imports
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from feedback.services.exports.rows import LONG_COLUMNS
from feedback.services.imports import writing
from tests import factories as f
from tests.conftest import hidden_inputs, migrated_app

ORS_ITEMS = ("individually", "interpersonally", "socially", "overall")
BASE = {
    "response_id": "r1", "case_id": "c1", "respondent_id": "p1", "respondent_role": "child",
    "subject": "self", "team": "Nord", "case_status": "open", "case_opened": "2025-01-06",
    "case_closed": "", "child_birth_year": "2010", "child_age_at_meeting": "15",
    "meeting_id": "m1", "meeting_date": "2025-06-02", "meeting_type": "follow_up",
    "instrument": "ors", "instrument_version": "1.0", "family": "outcome",
    "item": "individually", "value": "5.5", "missing_code": "",
    "submitted_at": "2025-06-02T08:00:00Z", "locale": "da",
}


def response(n: int = 1, **over) -> list[dict]:
    """The four lines of one ORS response (``n`` numbers its ids and time)."""
    lines = []
    for i, item in enumerate(ORS_ITEMS):
        line = {**BASE, "response_id": f"r{n}", "item": item, "value": f"{(n + i) % 10}.{i}",
                "submitted_at": f"2025-06-02T08:{n % 60:02d}:00Z"}
        line.update(over)
        lines.append(line)
    return lines


def csv_bytes(lines: list[dict], dialect: str = "rfc4180", bom: bool | None = None) -> bytes:
    out = io.StringIO(newline="")
    danish = dialect == "excel-da"
    writer = csv.writer(out, delimiter=";" if danish else ",", lineterminator="\r\n")
    writer.writerow(LONG_COLUMNS)
    for line in lines:
        row = [line[c] for c in LONG_COLUMNS]
        if danish:
            row[LONG_COLUMNS.index("value")] = row[LONG_COLUMNS.index("value")].replace(".", ",")
        writer.writerow(row)
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if (danish if bom is None else bom) else data


def run(actor_user, data: bytes, tmp_path, mode="all_or_nothing", source="papir", **kw):
    kw.setdefault("language", "en")
    return imports.run(Actor.staff(actor_user), io.BytesIO(data), source=source, mode=mode,
                       report_dir=tmp_path, **kw)


def report(batch, tmp_path) -> list[dict]:
    path = imports.report_path(tmp_path, batch.id)
    text = path.read_text(encoding="utf-8-sig")
    delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))


def counts(db) -> tuple[int, int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Case, Meeting, Response, Answer))


@pytest.fixture
def w(db, app, tmp_path, monkeypatch):
    # The pages keep reports in the instance folder: a temporary one here.
    monkeypatch.setattr(app, "instance_path", str(tmp_path / "instance"))
    monkeypatch.setitem(app.config, "FEEDBACK_IMPORT_REPORTS_DIR", "")
    return f.world()


def upload(client, data: bytes, source="papir", mode="all_or_nothing", name="svar.csv"):
    # Encoded here, in memory: Werkzeug's test client spools bodies over 500 KB to a
    # temporary file it never closes.
    boundary = "feedback-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
             f"{value}\r\n".encode() for key, value in (("source", source), ("mode", mode))]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
                 + data + f"\r\n--{boundary}--\r\n".encode())
    return client.post("/reports/import", data=b"".join(parts),
                       content_type=f"multipart/form-data; boundary={boundary}")


# --- a good file -----------------------------------------------------------------------

def test_a_file_imports_once_and_again_adds_nothing(client, w, db):
    f.login(client, w.admin)
    data = csv_bytes(response(1) + response(2, meeting_id="m2", meeting_date="2025-07-07",
                                            submitted_at="2025-07-07T08:00:00Z"))
    answer = upload(client, data)
    assert answer.status_code == 303
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Gennemført" in page or "Completed" in page
    assert counts(db) == (1, 2, 2, 8)
    case = db.session.scalar(select(Case).where(Case.source == "papir"))
    assert (case.source_id, case.reference, case.responsible_id) == ("c1", "import:papir:c1",
                                                                     None)
    assert case.team.name == "Nord" and case.child_birth_month == 6  # 15 on 2 June 2025
    assert {p.role.value for p in case.participants} == {"child"}
    meeting = db.session.scalar(select(Meeting).where(Meeting.source_id == "m1"))
    assert meeting.mode == MeetingMode.in_person and meeting.created_by_id == w.admin.id
    stored = db.session.scalar(select(Response).where(Response.source_id == "r1"))
    assert stored.total_tenths == sum(int(float(line["value"]) * 10) for line in response(1))
    assert stored.submitted_at.isoformat() == "2025-06-02T08:01:00+00:00"

    again = upload(client, data)
    assert again.status_code == 303
    assert counts(db) == (1, 2, 2, 8)
    batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.created_at.desc(),
                                                           ImportBatch.rows_unchanged.desc()))
    assert (batch.rows_unchanged, batch.responses_written) == (8, 0)
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("import.%"))).all()
    assert actions.count("import.start") == 2 and actions.count("import.end") == 2


def test_a_source_is_its_own_id_space(w, db, tmp_path):
    data = csv_bytes(response(1))
    run(w.admin, data, tmp_path, source="papir")
    run(w.admin, data, tmp_path, source="gammelt-system")
    assert counts(db) == (2, 2, 2, 8)


# --- hostile files -----------------------------------------------------------------------

def _encoding(lines):
    text = csv_bytes(lines).decode().replace("Nord", "Sønder")
    return text.encode("cp1252")


def _empty_lines(lines):
    data = csv_bytes(lines)
    head, rest = data.split(b"\r\n", 1)
    return head + b"\r\n" + b"\r\n" * 100_000 + rest


def _huge_field(lines):
    data = csv_bytes(lines)
    return data + b"r9,c1,p1,child,self," + b"N" * (50 * 1024 * 1024) + b",open\r\n"


HOSTILE = {
    # name: (bytes, imported?, text on the result page)
    "wrong encoding": (lambda: _encoding(response(1)), False, "UTF-8"),
    "a byte-order mark": (lambda: csv_bytes(response(1), bom=True), True, None),
    "no byte-order mark": (lambda: csv_bytes(response(1), "excel-da", bom=False), True, None),
    "semicolons inside quoted fields": (
        lambda: csv_bytes(response(1, team="Syd; Vest"), "excel-da"), True, None),
    "formula cells": (lambda: csv_bytes(response(1, team="'=Formel")), True, None),
    "a duplicated row": (lambda: csv_bytes(response(1) + response(1)[:1]), False, "line 2"),
    "an unknown instrument": (lambda: csv_bytes(response(1, instrument="orz")), False, "orz"),
    "a value out of range": (lambda: csv_bytes(response(1)[:3] + [
        {**response(1)[3], "value": "11"}]), False, "11"),
    "a value with two decimals": (lambda: csv_bytes(response(1)[:3] + [
        {**response(1)[3], "value": "10.05"}]), False, "10.05"),
    "a value in scientific notation": (lambda: csv_bytes(response(1)[:3] + [
        {**response(1)[3], "value": "1e1"}]), False, "1e1"),
    "NaN": (lambda: csv_bytes(response(1)[:3] + [{**response(1)[3], "value": "NaN"}]),
            False, "NaN"),
    "a date in the wrong format": (lambda: csv_bytes(response(1, meeting_date="02-06-2025")),
                                   False, "02-06-2025"),
    "a time without a zone": (lambda: csv_bytes(response(1, submitted_at="2025-06-02 08:00")),
                              False, "2025-06-02 08:00"),
    "100,000 empty lines": (lambda: _empty_lines(response(1)), True, None),
    "a 50 MB single field": (lambda: _huge_field(response(1)), False, "KB"),
    "not the long format": (lambda: b"name,score\r\nanna,7\r\n", False, "response_id"),
    "an empty file": (lambda: b"", False, None),
    "NUL bytes": (lambda: csv_bytes(response(1, locale="d\x00a")), False, "NUL"),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_files_get_a_clear_answer_and_never_a_partial_import(client, w, db, case):
    db.session.add(Team(organisation_id=w.org.id, name="Syd; Vest"))
    db.session.add(Team(organisation_id=w.org.id, name="=Formel"))
    db.session.commit()
    make, imported, text = HOSTILE[case]
    f.login(client, w.admin)
    client.post("/language", data={"locale": "en", "back": "/"})
    answer = upload(client, make())
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    page = client.get(answer.headers["Location"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    batch = db.session.scalar(select(ImportBatch))
    if imported:
        assert batch.status == "completed"
        assert counts(db) == (1, 1, 1, 4)
    else:
        assert batch.status == "refused"
        assert counts(db) == (0, 0, 0, 0)  # all or nothing: nothing
        assert "Nothing imported" in html
    if text:
        assert text in html, html[-3000:]
    if case == "formula cells":
        assert db.session.scalar(select(Case)).team.name == "=Formel"
    if case == "100,000 empty lines":
        with client.get(answer.headers["Location"] + "/report.csv") as lines:
            assert "2-100001" in lines.get_data(as_text=True)


def test_accepted_rows_only_writes_the_valid_responses_and_reports_every_line(w, db, tmp_path):
    bad = response(2, meeting_id="m2", meeting_date="2025-07-07")
    bad[2]["value"] = "42"
    staff = response(3, respondent_id="s1", respondent_role="staff")
    lines = response(1) + bad + staff + response(4, instrument="ors", item="nope")[:1]
    batch = run(w.admin, csv_bytes(lines), tmp_path, mode="accepted_only")
    assert batch.status == "completed"
    assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (13, 4, 9)
    assert batch.responses_written == 1
    assert counts(db) == (1, 1, 1, 4)
    lines_report = report(batch, tmp_path)
    assert [r["line"] for r in lines_report] == [str(n) for n in range(2, 15)]
    outcome = {int(r["line"]): r for r in lines_report}
    assert {outcome[n]["outcome"] for n in range(2, 6)} == {"accepted"}
    assert (outcome[8]["column"], outcome[8]["outcome"]) == ("value", "rejected")
    assert "42" in outcome[8]["problem"]
    for n in (6, 7, 9):  # the same response's good lines go with it
        assert outcome[n]["outcome"] == "rejected"
        assert "line 8" in outcome[n]["problem"]
    assert outcome[10]["column"] == "respondent_role" and "Staff" in outcome[10]["problem"]
    assert outcome[14]["column"] == "item" and "nope" in outcome[14]["problem"]
    shown = imports.rejections(imports.report_path(tmp_path, batch.id))
    assert [r.line for r in shown] == [str(n) for n in range(6, 15)]


def test_all_or_nothing_refuses_the_whole_file_for_one_bad_line(w, db, tmp_path):
    lines = response(1) + response(2, meeting_date="2024-12-01")  # before the case opened
    batch = run(w.admin, csv_bytes(lines), tmp_path)
    assert batch.status == "refused" and "4" in batch.refusal
    assert counts(db) == (0, 0, 0, 0)
    rejected = [r for r in report(batch, tmp_path) if r["outcome"] == "rejected"]
    assert [r["column"] for r in rejected] == ["meeting_date"] * 4


def test_a_case_must_be_described_the_same_on_every_line(w, db, tmp_path):
    lines = response(1) + response(2, case_opened="2025-01-07")
    batch = run(w.admin, csv_bytes(lines), tmp_path, mode="accepted_only")
    rejected = [r for r in report(batch, tmp_path) if r["outcome"] == "rejected"]
    assert len(rejected) == 8  # the case goes, with both its responses
    assert "case_opened" in rejected[-1]["problem"] and "line 2" in rejected[-1]["problem"]
    assert counts(db) == (0, 0, 0, 0)


def test_ages_that_fit_no_birth_date_reject_the_case(w, db, tmp_path):
    lines = response(1, child_age_at_meeting="15") + response(
        2, meeting_id="m2", meeting_date="2025-06-03", child_age_at_meeting="14")
    batch = run(w.admin, csv_bytes(lines), tmp_path, mode="accepted_only")
    assert batch.rows_rejected == 8 and counts(db) == (0, 0, 0, 0)
    assert "birth date" in report(batch, tmp_path)[0]["problem"]


def test_a_response_lacking_an_item_is_rejected_whole(w, db, tmp_path):
    batch = run(w.admin, csv_bytes(response(1)[:3]), tmp_path, mode="accepted_only")
    assert batch.rows_rejected == 3 and counts(db) == (0, 0, 0, 0)
    assert "overall" in report(batch, tmp_path)[0]["problem"]


def test_a_changed_answer_from_the_same_source_is_rejected_not_overwritten(w, db, tmp_path):
    run(w.admin, csv_bytes(response(1)), tmp_path)
    changed = response(1)
    changed[0]["value"] = "9.9"
    batch = run(w.admin, csv_bytes(changed), tmp_path, mode="accepted_only")
    assert batch.rows_rejected == 4
    assert "imported earlier" in report(batch, tmp_path)[0]["problem"]
    assert db.session.scalar(select(Answer.value_tenths).where(
        Answer.item_key == "individually")) == 10  # still the first import's 1.0


def test_skips_and_dont_know_come_in_as_codes_and_leave_no_total(w, db, tmp_path):
    lines = response(1)
    lines[1].update(value="", missing_code="skipped")
    batch = run(w.admin, csv_bytes(lines), tmp_path)
    assert batch.status == "completed"
    stored = db.session.scalar(select(Response))
    assert stored.total_tenths is None
    assert db.session.scalar(select(Answer.missing_code).where(
        Answer.item_key == "interpersonally")) == "skipped"
    dont_know = response(2)
    dont_know[0].update(value="", missing_code="dont_know")  # ORS has no "don't know"
    refused = run(w.admin, csv_bytes(dont_know), tmp_path)
    assert refused.status == "refused"
    assert report(refused, tmp_path)[0]["column"] == "missing_code"


# --- after the import ------------------------------------------------------------------

def test_imported_cases_wait_for_a_caseworker(client, w, db, tmp_path):
    run(w.admin, csv_bytes(response(1)), tmp_path)
    f.login(client, w.lene)  # the team lead of Nord
    listing = client.get("/cases").get_data(as_text=True)
    assert "import:papir:c1" in listing and "Ikke tildelt" in listing
    f.login(client, w.anna)  # a caseworker of Nord sees her own cases only
    assert "import:papir:c1" not in client.get("/cases").get_data(as_text=True)


def test_rolling_back_deletes_exactly_that_import(client, w, db, tmp_path):
    first = run(w.admin, csv_bytes(response(1)), tmp_path)
    run(w.admin, csv_bytes(response(1)), tmp_path, source="andet")
    f.login(client, w.admin)
    assert client.post(f"/reports/import/{first.id}/rollback").status_code == 303
    assert counts(db) == (1, 1, 1, 4)
    assert db.session.scalar(select(Case.source)) == "andet"
    assert db.session.get(ImportBatch, first.id).status == "rolled_back"
    assert db.session.scalar(select(func.count()).select_from(Participant).where(
        Participant.import_id == first.id)) == 0
    again = client.post(f"/reports/import/{first.id}/rollback")
    assert again.status_code == 409


def test_an_import_others_have_built_on_cannot_be_rolled_back(w, db, tmp_path):
    batch = run(w.admin, csv_bytes(response(1)), tmp_path)
    case = db.session.scalar(select(Case))
    cases.create_meeting(f.actor(w.lene), case, held_on=case.opened_on, type="follow_up",
                         mode="phone")
    with pytest.raises(Invalid) as refused:
        imports.rollback(Actor.staff(w.admin), batch.id)
    assert refused.value.code == "import_has_dependents"
    assert counts(db) == (1, 2, 1, 4)


def test_a_failure_while_writing_undoes_what_was_written(w, db, tmp_path, monkeypatch):
    lines = [line for n in range(1, 6) for line in response(n, meeting_id=f"m{n}")]
    real = writing.Writer.write
    calls = []

    def failing(self, batch):
        calls.append(len(batch))
        if len(calls) == 3:
            raise OperationalError("INSERT", {}, Exception("disk full"))
        return real(self, batch)

    monkeypatch.setattr(writing.Writer, "write", failing)
    with pytest.raises(imports.ImportFailed):
        run(w.admin, csv_bytes(lines), tmp_path, batch_responses=1)
    assert calls == [1, 1, 1]
    assert counts(db) == (0, 0, 0, 0)
    assert db.session.scalar(select(ImportBatch.status)) == "failed"


def test_uploads_have_their_own_size_limit(client, w, app):
    f.login(client, w.admin)
    big = csv_bytes([line for n in range(1, 400) for line in response(n)])
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]  # more than any other form may send
    assert upload(client, big).status_code == 303
    app.config["FEEDBACK_IMPORT_MAX_BYTES"] = 10_000
    try:
        assert upload(client, big, source="igen").status_code == 413
    finally:
        app.config["FEEDBACK_IMPORT_MAX_BYTES"] = 200 * 1024 * 1024


def test_the_import_form_explains_what_is_wrong(client, w):
    f.login(client, w.admin)
    client.post("/language", data={"locale": "en", "back": "/"})
    answer = upload(client, csv_bytes(response(1)), source="no spaces please")
    assert answer.status_code == 400
    assert "Use letters, digits" in answer.get_data(as_text=True)
    missing = client.post("/reports/import", data={"source": "x", "mode": "accepted_only"},
                          content_type="multipart/form-data")
    assert missing.status_code == 400


# --- respondents are not blocked --------------------------------------------------------

def test_respondents_submit_while_an_import_is_written(tmp_path_factory, tmp_path):
    """On SQLite, with its one writer at a time: the import's batches leave room."""
    with migrated_app("sqlite", tmp_path_factory) as live_app:
        _submit_during_import(live_app, tmp_path)


def _submit_during_import(live_app, tmp_path):
    lines = [line for n in range(1, 1201) for line in response(
        n, meeting_id=f"m{n}", submitted_at=f"2025-06-02T{n // 60 % 24:02d}:{n % 60:02d}:00Z")]
    data = csv_bytes(lines)
    with live_app.app_context():
        w = f.world()
        case = f.case(w.anna, w.north, reference="LIVE-1")
        meeting = f.meeting(w.anna, case)
        links = [f.invite(w.anna, meeting, f.child_of(case)) for _ in range(1)]
        admin_id = w.admin.id
    progress: list[int] = []
    failure: list[BaseException] = []

    def written(phase, done, total):
        if phase == "writing":
            progress.append(done)
            time.sleep(0.01)  # a long import: many short batches, the lock free between them

    def importing():
        try:
            with live_app.app_context():
                admin = _db.session.get(type(w.admin), admin_id)
                imports.run(Actor.staff(admin), io.BytesIO(data), source="stor",
                            mode="all_or_nothing", report_dir=tmp_path, batch_responses=5,
                            progress=written)
        except BaseException as error:  # noqa: BLE001 - reported in the test's own thread
            failure.append(error)

    worker = threading.Thread(target=importing)
    worker.start()
    deadline = time.monotonic() + 60
    while not progress and time.monotonic() < deadline:
        time.sleep(0.01)
    assert progress, f"the import never started writing: {failure}"
    client = live_app.test_client()
    client.get(f"/r/{links[0].token}")
    page = client.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    submitted = client.post(action, data={**hidden_inputs(page), "individually": "5",
                                          "interpersonally": "6", "socially": "7",
                                          "overall": "8"})
    written_when_answered = progress[-1]
    worker.join(120)
    assert not failure, failure
    assert submitted.status_code == 303
    assert written_when_answered < 1200, "the import had finished before the answer came"
    with live_app.app_context():
        assert _db.session.scalar(select(func.count()).select_from(Response)) == 1201
        assert _db.session.scalar(select(ImportBatch.status)) == "completed"
