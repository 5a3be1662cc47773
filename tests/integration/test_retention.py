"""Retention: closed cases go after the configured period, the audit log keeps only what it may.

The append-only trigger allows exactly two changes, and only to the retention
command: deleting audit rows past their period, and nulling the object
references of a deleted case's events. Both are tried here directly against
the database, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from feedback import clock
from feedback.instruments.scoring import ItemAnswer
from feedback.models import (
    AuditEvent,
    Case,
    Meeting,
    Participant,
    Response,
    RetentionGrant,
    Tombstone,
)
from feedback.services import audit, cases, imports, instruments, responses, retention
from feedback.services.actors import Actor
from feedback.services.errors import NotFound
from tests import factories as f
from tests.conftest import TODAY
from tests.integration.test_access import _token
from tests.integration.test_imports import counts, csv_bytes
from tests.integration.test_imports import response as import_lines
from tests.integration.test_imports import run as run_import


@pytest.fixture
def short(app, monkeypatch):
    """Cases go 30 days after closing, audit rows after 400 days."""
    monkeypatch.setitem(app.config, "FEEDBACK_RETENTION_CASE_DAYS", 30)
    monkeypatch.setitem(app.config, "FEEDBACK_AUDIT_RETENTION_DAYS", 400)
    monkeypatch.setitem(app.config, "FEEDBACK_RETENTION_KEEP_ANONYMISED", False)
    return app.config


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _closed_case(w, reference="FAM-1", label="Mette"):
    case = f.case(w.lene, w.north, reference=reference, tags=["forsøg"])
    meeting = f.meeting(w.lene, case)
    mother = cases.add_participant(f.actor(w.lene), case, "mother", label=label)
    link = f.invite(w.lene, meeting, mother)
    instrument = instruments.definition(link.invitation.items[0].instrument_version)
    responses.submit(Actor.respondent(link.invitation.id), _token(link), 0, str(uuid.uuid4()),
                     {i.key: ItemAnswer(60) for i in instrument.items}, "da")
    cases.get_case(f.actor(w.lene), case.id)  # somebody looked
    cases.close_case(f.actor(w.lene), case, TODAY)
    return case


# --- the trigger ------------------------------------------------------------------------

def _refused(db, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(statement)


def test_without_a_grant_no_audit_row_can_be_changed_or_deleted(db):
    w = f.world()
    cases.list_cases(f.actor(w.anna))
    row = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    _refused(db, update(AuditEvent).where(AuditEvent.id == row).values(object_id=None))
    _refused(db, update(AuditEvent).where(AuditEvent.id == row).values(action="nothing"))
    _refused(db, delete(AuditEvent).where(AuditEvent.id == row))


def test_a_grant_allows_only_nulling_references_and_deleting_rows_past_the_period(db, backend):
    w = f.world()
    case = f.case(w.anna, w.north)
    old = db.session.scalar(select(AuditEvent).where(AuditEvent.object_id == str(case.id)))
    clock.advance(timedelta(days=10))
    cases.get_case(f.actor(w.anna), case.id)
    new = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    with db.session.begin_nested():
        db.session.add(RetentionGrant(purge_before=clock.now() - timedelta(days=5)))
    # Anything but nulling a reference is still refused.
    _refused(db, update(AuditEvent).where(AuditEvent.id == new.id).values(detail="changed"))
    _refused(db, update(AuditEvent).where(AuditEvent.id == new.id)
             .values(object_id=str(uuid.uuid4())))
    _refused(db, update(AuditEvent).where(AuditEvent.id == new.id)
             .values(object_id=None, outcome="refused"))
    # Rows younger than the grant's limit stay.
    _refused(db, delete(AuditEvent).where(AuditEvent.id == new.id))
    with db.session.begin_nested():
        db.session.execute(update(AuditEvent).where(AuditEvent.id == new.id)
                           .values(object_id=None))
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == old.id))
    db.session.expire_all()
    assert db.session.get(AuditEvent, new.id).object_id is None
    assert db.session.get(AuditEvent, new.id).action == "case.view"
    assert db.session.get(AuditEvent, old.id) is None
    if backend == "postgresql":
        _refused(db, text("TRUNCATE audit_events"))


# --- the command ------------------------------------------------------------------------

def test_dry_run_lists_what_would_go_and_changes_nothing(db, app, short):
    w = f.world()
    case = _closed_case(w)
    clock.advance(timedelta(days=29))
    assert retention.run(dry_run=True).cases == []
    clock.advance(timedelta(days=1))
    before = counts(db)
    result = retention.run(dry_run=True)
    assert [c.reference for c in result.cases] == ["FAM-1"]
    assert counts(db) == before and db.session.get(Case, case.id) is not None
    out = app.test_cli_runner().invoke(args=["retention", "run", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "would delete: case FAM-1 (Nord)" in out.output


def test_a_deleted_case_leaves_its_events_without_references_and_no_trace_of_its_data(db, short):
    w = f.world()
    case = _closed_case(w)
    keep = f.case(w.lene, w.north, reference="KEEP-1")
    ids = audit.case_object_ids(case)
    about = _count(db, AuditEvent, AuditEvent.object_id.in_(ids))
    assert about >= 5
    clock.advance(timedelta(days=31))
    result = retention.run()
    assert [c.reference for c in result.cases] == ["FAM-1"]
    db.session.expire_all()
    assert db.session.get(Case, case.id) is None
    assert _count(db, Meeting, Meeting.case_id == case.id) == 0
    assert _count(db, Participant, Participant.case_id == case.id) == 0
    assert _count(db, Response) == 0
    assert db.session.get(Case, keep.id) is not None
    # The events stay, pointing nowhere; the deletion says how much, not what.
    assert _count(db, AuditEvent, AuditEvent.object_id.in_(ids)) == 0
    assert _count(db, AuditEvent, AuditEvent.actor_ref.in_(ids)) == 0
    assert _count(db, AuditEvent, AuditEvent.action == "case.view",
                  AuditEvent.object_id.is_(None)) == 1
    (event,) = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "retention.delete"))
    assert event.object_id is None and event.actor_ref == "retention"
    assert "FAM-1" not in event.detail and "Mette" not in event.detail
    assert "1 questionnaires" in event.detail
    # Nothing is left to allow further changes.
    assert _count(db, RetentionGrant) == 0


def test_anonymising_keeps_the_answers_and_removes_what_leads_back_to_the_family(db, short):
    short["FEEDBACK_RETENTION_KEEP_ANONYMISED"] = True
    w = f.world()
    case = _closed_case(w)
    clock.advance(timedelta(days=31))
    retention.run()
    db.session.expire_all()
    kept = db.session.get(Case, case.id)
    assert kept.reference.startswith("anon-") and kept.anonymised_at is not None
    assert kept.tags == [] and kept.responsible_id is None and kept.child_birth_month is None
    assert all(p.label is None for p in kept.participants)
    mother = next(p for p in kept.participants if p.role.value == "mother")
    assert mother.label is None and mother.role.value == "mother"
    (answered,) = db.session.scalars(select(Response))
    assert answered.participant_id == mother.id and answered.invitation_id is None
    assert answered.total_tenths is not None
    # Done once: the next run finds nothing.
    assert retention.run().cases == []
    # Statistics only: the team lead no longer finds it among the team's cases.
    assert kept.id not in {row[0].id for row in cases.list_cases(f.actor(w.lene))}
    with pytest.raises(NotFound):
        cases.get_case(f.actor(w.lene), kept.id)


def test_reopening_stops_the_clock(db, short):
    w = f.world()
    case = _closed_case(w)
    clock.advance(timedelta(days=20))
    cases.reopen_case(f.actor(w.lene), case)
    clock.advance(timedelta(days=40))
    assert retention.run().cases == []
    assert db.session.get(Case, case.id) is not None


def test_audit_rows_past_their_period_are_deleted_and_the_purge_is_logged(db, short):
    w = f.world()
    cases.list_cases(f.actor(w.anna))
    clock.advance(timedelta(days=300))
    cases.list_cases(f.actor(w.bo))
    clock.advance(timedelta(days=101))
    result = retention.run()
    assert result.audit_rows >= 1
    left = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action == "cases.list")))
    assert len(left) == 1
    assert _count(db, AuditEvent, AuditEvent.action == "retention.audit_purge") == 1


def test_a_deleted_import_is_not_brought_back_by_importing_the_file_again(db, short, tmp_path):
    w = f.world()
    closed = {"case_closed": "2026-03-01", "case_status": "closed"}
    data = csv_bytes(import_lines(1, **closed) + import_lines(2, **closed))
    batch = run_import(w.admin, data, tmp_path)
    assert batch.responses_written == 2
    clock.advance(timedelta(days=31))
    retention.run()
    assert counts(db)[0] == 0
    assert _count(db, Tombstone, Tombstone.source == "papir") == 3  # a case, two responses
    again = run_import(w.admin, data, tmp_path)
    assert again.status == "completed" and again.responses_written == 0
    assert counts(db) == (0, 0, 0, 0)


def test_import_reports_older_than_the_case_period_are_deleted(db, app, short, tmp_path,
                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_IMPORT_REPORTS_DIR", str(tmp_path))
    w = f.world()
    first = run_import(w.admin, csv_bytes(import_lines(1)), tmp_path)
    clock.advance(timedelta(days=20))
    second = run_import(w.admin, csv_bytes(import_lines(2)), tmp_path)
    clock.advance(timedelta(days=11))
    assert retention.run(dry_run=True).import_reports == 1
    assert imports.report_path(tmp_path, first.id).exists()
    assert retention.run().import_reports == 1
    assert not imports.report_path(tmp_path, first.id).exists()
    assert imports.report_path(tmp_path, second.id).exists()


def test_the_administrator_sees_what_is_due(db, client, short):
    w = f.world()
    _closed_case(w, reference="DUE-SOON")
    f.login(client, w.admin)
    page = client.get("/admin/retention")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "DUE-SOON" in html and "slettes 30 dage" in html


def test_the_systemd_unit_runs_this_command(app, db, short):
    unit = Path(__file__).resolve().parents[2] / "deploy/systemd/feedback-retention.service"
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    args = line.split(" --app feedback ", 1)[1].split()
    w = f.world()
    _closed_case(w, reference="BY-TIMER")
    clock.advance(timedelta(days=31))
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "deleted: case BY-TIMER" in result.output
    assert _count(db, Case, Case.reference == "BY-TIMER") == 0
