"""Retention: cases and their answers go a configured time after the case closes.

The organisation chooses the period (``FEEDBACK_RETENTION_CASE_DAYS``) and
whether answers stay, anonymised, for statistics
(``FEEDBACK_RETENTION_KEEP_ANONYMISED``) or go with the case. Audit rows are
kept ``FEEDBACK_AUDIT_RETENTION_DAYS`` (decision 28). Reopening a case stops
the clock; closing it again starts it afresh.

* **Deleting** removes the case, its people, meetings, links and answers. The
  audit events about them stay, with their object references nulled; the
  deletion's own event says how many rows went, never what they said.
  Imported rows leave a tombstone (source, source id) so importing the same
  file again does not bring them back.
* **Anonymising** keeps the answers, their dates, the respondents' roles and
  the child's birth year, and removes everything that leads back to the
  family or the case system: the reference (replaced by ``anon-`` and an
  internal number), the birth month, tags, people's first names or initials,
  source ids, the responsible caseworker, links, and voided answers with
  their reasons. A respondent's answers stay linked to each other over time
  within the case, so episodes still count in the outcome report.

The audit trigger allows the two changes this module makes only while a
:class:`RetentionGrant` row exists, which it adds and removes in one
transaction (see the retention migration).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, select, update

from feedback import clock
from feedback.extensions import db
from feedback.models import (
    Answer,
    AuditEvent,
    Case,
    CaseTag,
    ImportBatch,
    Invitation,
    InvitationItem,
    InvitationToken,
    Meeting,
    Participant,
    ParticipantConsent,
    Response,
    ResponseVoid,
    RetentionGrant,
    Team,
    Tombstone,
)
from feedback.services import access, audit
from feedback.services.actors import Actor, ActorKind
from feedback.services.uow import begin_write

DELETE, ANONYMISE = "delete", "anonymise"


@dataclass(frozen=True)
class Settings:
    """The organisation's retention settings."""

    case_days: int
    keep_anonymised: bool
    audit_days: int

    @property
    def case_action(self) -> str:
        """What happens to a case when its time is up."""
        return ANONYMISE if self.keep_anonymised else DELETE


def settings() -> Settings:
    """The retention settings from the configuration."""
    config = current_app.config
    return Settings(case_days=int(config["FEEDBACK_RETENTION_CASE_DAYS"]),
                    keep_anonymised=bool(config["FEEDBACK_RETENTION_KEEP_ANONYMISED"]),
                    audit_days=int(config["FEEDBACK_AUDIT_RETENTION_DAYS"]))


@dataclass(frozen=True)
class DueCase:
    """A closed case and the day retention removes or anonymises it."""

    id: uuid.UUID
    reference: str
    team: str
    closed_on: date
    due_on: date
    action: str


@dataclass
class Plan:
    """What a run removes: cases due, and audit rows past their period."""

    cases: list[DueCase] = field(default_factory=list)
    audit_rows: int = 0
    audit_before: object = None


def _cases(today: date, within_days: int = 0) -> list[DueCase]:
    conf = settings()
    last_closed = today - timedelta(days=conf.case_days - within_days)
    rows = db.session.execute(
        select(Case.id, Case.reference, Team.name, Case.closed_on)
        .join(Team, Team.id == Case.team_id)
        .where(Case.closed_on.is_not(None), Case.closed_on <= last_closed,
               Case.anonymised_at.is_(None))
        .order_by(Case.closed_on, Case.reference))
    return [DueCase(i, ref, team, closed, closed + timedelta(days=conf.case_days),
                    conf.case_action) for i, ref, team, closed in rows]


def plan(today: date | None = None) -> Plan:
    """What a run today would remove (nothing is changed)."""
    today = today or clock.today()
    before = clock.now() - timedelta(days=settings().audit_days)
    count = db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.at < before))
    return Plan(cases=_cases(today), audit_rows=count or 0, audit_before=before)


def overview(actor: Actor, within_days: int = 90) -> tuple[Settings, list[DueCase]]:
    """For the administrator: the settings, and cases due now or within ``within_days``."""
    access.require_area(actor, access.Action.retention)
    due = _cases(clock.today(), within_days)
    audit.record_now(actor, "retention.overview", detail=f"{len(due)} cases listed")
    return settings(), due


def _grant(purge_before=None) -> RetentionGrant:
    # Without a purge, a grant from the epoch lets no audit row be deleted.
    grant = RetentionGrant(purge_before=purge_before or clock.now().replace(
        year=1970, month=1, day=1))
    db.session.add(grant)
    db.session.flush()
    return grant


def _tombstones(kind: str, rows) -> None:
    for source, source_id in rows:
        if source and source_id:
            db.session.merge(Tombstone(kind=kind, source=source, source_id=source_id,
                                       deleted_at=clock.now()))


def _null_references(ids: list[str]) -> None:
    """Null the audit log's references to records that are going (the trigger's 2nd exception)."""
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        db.session.execute(update(AuditEvent).where(AuditEvent.object_id.in_(chunk))
                           .values(object_id=None))
        db.session.execute(update(AuditEvent).where(
            AuditEvent.actor_ref.in_(chunk),
            AuditEvent.actor_kind == ActorKind.respondent.value).values(actor_ref=None))


def _delete_case(case: Case) -> str:
    meeting_ids = select(Meeting.id).where(Meeting.case_id == case.id)
    response_ids = select(Response.id).where(Response.meeting_id.in_(meeting_ids))
    invitation_ids = select(Invitation.id).where(Invitation.meeting_id.in_(meeting_ids))
    _tombstones("case", [(case.source, case.source_id)])
    _tombstones("response", db.session.execute(
        select(Response.source, Response.source_id).where(Response.meeting_id.in_(meeting_ids),
                                                          Response.source.is_not(None))))
    _null_references(audit.case_object_ids(case))
    responses = db.session.scalar(select(func.count()).select_from(response_ids.subquery()))
    meetings = db.session.scalar(select(func.count()).select_from(meeting_ids.subquery()))
    for statement in (
        delete(Answer).where(Answer.response_id.in_(response_ids)),
        delete(ResponseVoid).where(ResponseVoid.response_id.in_(response_ids)),
        delete(Response).where(Response.id.in_(response_ids)),
        delete(InvitationToken).where(InvitationToken.invitation_id.in_(invitation_ids)),
        delete(InvitationItem).where(InvitationItem.invitation_id.in_(invitation_ids)),
        delete(Invitation).where(Invitation.id.in_(invitation_ids)),
        delete(Meeting).where(Meeting.case_id == case.id),
        delete(ParticipantConsent).where(ParticipantConsent.participant_id.in_(
            select(Participant.id).where(Participant.case_id == case.id))),
        delete(Participant).where(Participant.case_id == case.id),
        delete(CaseTag).where(CaseTag.case_id == case.id),
        delete(Case).where(Case.id == case.id),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    return f"1 case, {meetings} meetings, {responses} questionnaires deleted"


def _anonymise_case(case: Case) -> str:
    meeting_ids = select(Meeting.id).where(Meeting.case_id == case.id)
    voided = select(ResponseVoid.response_id).join(
        Response, Response.id == ResponseVoid.response_id).where(
        Response.meeting_id.in_(meeting_ids))
    invitation_ids = select(Invitation.id).where(Invitation.meeting_id.in_(meeting_ids))
    _tombstones("case", [(case.source, case.source_id)])
    _tombstones("response", db.session.execute(
        select(Response.source, Response.source_id).where(Response.meeting_id.in_(meeting_ids),
                                                          Response.source.is_not(None))))
    gone = list(db.session.scalars(voided))
    if gone:
        _null_references([str(i) for i in gone])
    for statement in (
        delete(Answer).where(Answer.response_id.in_(gone)),
        delete(ResponseVoid).where(ResponseVoid.response_id.in_(gone)),
        delete(Response).where(Response.id.in_(gone)),
        update(Response).where(Response.meeting_id.in_(meeting_ids))
        .values(invitation_id=None, source=None, source_id=None),
        delete(InvitationToken).where(InvitationToken.invitation_id.in_(invitation_ids)),
        delete(InvitationItem).where(InvitationItem.invitation_id.in_(invitation_ids)),
        delete(Invitation).where(Invitation.id.in_(invitation_ids)),
        update(Meeting).where(Meeting.case_id == case.id).values(source=None, source_id=None),
        update(Participant).where(Participant.case_id == case.id)
        .values(label=None, source=None, source_id=None),
        delete(CaseTag).where(CaseTag.case_id == case.id),
        update(Case).where(Case.id == case.id).values(
            reference=f"anon-{case.id.hex[:16]}", child_birth_month=None, responsible_id=None,
            source=None, source_id=None, anonymised_at=clock.now()),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    return f"anonymised; {len(gone)} voided questionnaires deleted"


@dataclass
class Result:
    """What a run did (or, in a dry run, would do)."""

    cases: list[DueCase]
    audit_rows: int
    dry_run: bool
    #: Import reports (files listing every imported line) removed.
    import_reports: int = 0


def import_reports_dir() -> Path:
    """Where the import pages keep their reports (as :mod:`feedback.reports.views` has it)."""
    configured = current_app.config.get("FEEDBACK_IMPORT_REPORTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _old_import_reports() -> list[Path]:
    """Reports of imports older than the case period: their lines may name deleted cases."""
    from feedback.services.imports import report_path

    before = clock.now() - timedelta(days=settings().case_days)
    folder = import_reports_dir()
    ids = db.session.scalars(select(ImportBatch.id).where(ImportBatch.created_at < before))
    return [p for p in (report_path(folder, i) for i in ids) if p.exists()]


def run(actor: Actor | None = None, *, dry_run: bool = False) -> Result:
    """Remove or anonymise the cases that are due, then purge old audit rows.

    One transaction per case, so a run cut short leaves every case whole or
    done. Each step is audited without what it removed; a dry run changes
    nothing but its own audit row.
    """
    actor = actor or Actor.system("retention")
    todo = plan()
    reports = _old_import_reports()
    if dry_run:
        audit.record_now(actor, "retention.dry_run",
                         detail=f"{len(todo.cases)} cases due, {todo.audit_rows} audit rows, "
                                f"{len(reports)} import reports")
        return Result(todo.cases, todo.audit_rows, dry_run=True, import_reports=len(reports))
    for due in todo.cases:
        begin_write()
        case = db.session.get(Case, due.id)
        if case is None or case.closed_on is None or case.anonymised_at is not None:
            db.session.rollback()  # reopened or handled since the plan was made
            continue
        grant = _grant()
        db.session.expunge(case)
        if due.action == DELETE:
            detail = _delete_case(case)
            audit.record(actor, "retention.delete", "case", None, detail=detail)
        else:
            detail = _anonymise_case(case)
            audit.record(actor, "retention.anonymise", "case", case.id, detail=detail)
        db.session.delete(grant)
        db.session.commit()
    begin_write()
    grant = _grant(todo.audit_before)
    purged = db.session.execute(delete(AuditEvent).where(AuditEvent.at < todo.audit_before)
                                .execution_options(synchronize_session=False)).rowcount
    db.session.delete(grant)
    audit.record(actor, "retention.audit_purge", detail=f"{purged} audit rows deleted")
    db.session.commit()
    for path in reports:
        path.unlink(missing_ok=True)
    if reports:
        audit.record_now(actor, "retention.import_reports",
                         detail=f"{len(reports)} import reports deleted")
    return Result(todo.cases, purged, dry_run=False, import_reports=len(reports))
