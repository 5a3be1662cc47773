"""Cases, participants and meetings."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from feedback.extensions import db
from feedback.models import (
    Case,
    CaseTag,
    Meeting,
    MeetingMode,
    MeetingType,
    Participant,
    ParticipantRole,
    Team,
    TeamMembership,
)
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from feedback.services.uow import begin_write


def list_cases(actor: Actor) -> list[tuple[Case, int, date | None]]:
    """The actor's cases with their number of meetings and the latest meeting date."""
    access.require_area(actor, Action.list_cases)
    counts = (
        select(Meeting.case_id, func.count().label("n"), func.max(Meeting.held_on).label("last"))
        .group_by(Meeting.case_id)
        .subquery()
    )
    stmt = (
        access.visible_cases(actor)
        .outerjoin(counts, counts.c.case_id == Case.id)
        .add_columns(func.coalesce(counts.c.n, 0), counts.c.last)
        .options(selectinload(Case.team), selectinload(Case.responsible))
        .order_by(Case.closed_on.is_not(None), Case.reference)
    )
    rows = [tuple(row) for row in db.session.execute(stmt)]
    audit.record_now(actor, "cases.list", detail=f"{len(rows)} cases")
    return rows


def get_case(actor: Actor, case_id: uuid.UUID | str, *, audit_read: bool = True) -> Case:
    """The case if ``actor`` may see it; otherwise :class:`NotFound`, audited as refused."""
    case = access.case_for(actor, Action.view_case, case_id)
    if audit_read:
        audit.record_now(actor, "case.view", "case", case.id, detail=_behalf(actor, case))
    return case


def get_meeting(actor: Actor, meeting_id: uuid.UUID | str) -> Meeting:
    """The meeting if ``actor`` may see its case; otherwise :class:`NotFound`, audited."""
    meeting = access.meeting_for(actor, Action.view_meeting, meeting_id)
    audit.record_now(actor, "meeting.view", "meeting", meeting.id,
                     detail=_behalf(actor, meeting.case))
    return meeting


def _behalf(actor: Actor, case: Case) -> str | None:
    # Team scope lets colleagues act on each other's cases; the log says so.
    return "not the responsible caseworker" if access.on_behalf(actor, case) else None


def teams_for(actor: Actor) -> list[Team]:
    """Teams the actor may create cases in."""
    if not actor.is_staff:
        return []
    return list(db.session.scalars(
        select(Team).join(TeamMembership).where(TeamMembership.user_id == actor.user_id)
        .order_by(Team.name)
    ))


def create_case(actor: Actor, *, reference: str, team_id: uuid.UUID | None,
                child_birth_year: int, opened_on: date, child_birth_month: int | None = None,
                tags: list[str] = ()) -> Case:
    """Open a case with ``actor`` responsible; the reference is unique per organisation."""
    access.require_area(actor, Action.create_case)
    reference = reference.strip()
    if team_id not in {t.id for t in teams_for(actor)}:
        raise Invalid("team_not_allowed", field="team")
    if child_birth_year > opened_on.year or child_birth_year < opened_on.year - 25:
        raise Invalid("birth_year_range", field="child_birth_year")
    begin_write()
    case = Case(organisation_id=actor.user.organisation_id, reference=reference,
                team_id=team_id, responsible_id=actor.user_id, opened_on=opened_on,
                child_birth_year=child_birth_year, child_birth_month=child_birth_month)
    case.tags = [CaseTag(name=t) for t in sorted({t.strip() for t in tags if t.strip()})]
    db.session.add(case)
    # The child is always a participant; others are added by role.
    db.session.add(Participant(case=case, role=ParticipantRole.child))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Invalid("reference_exists", field="reference") from None
    audit.record(actor, "case.create", "case", case.id)
    db.session.commit()
    return case


def add_participant(actor: Actor, case: Case, role: ParticipantRole | str,
                    label: str | None = None) -> Participant:
    """Add somebody who may answer in the case, by role (and an optional label)."""
    access.check(actor, Action.edit_case, case)
    begin_write()
    participant = Participant(case_id=case.id, role=ParticipantRole(role),
                              label=(label or "").strip() or None)
    db.session.add(participant)
    db.session.flush()
    audit.record(actor, "participant.create", "participant", participant.id,
                 detail=_behalf(actor, case))
    db.session.commit()
    return participant


def create_meeting(actor: Actor, case: Case, *, held_on: date, type: MeetingType | str,
                   mode: MeetingMode | str) -> Meeting:
    """Plan or record a meeting in the case."""
    access.check(actor, Action.edit_case, case)
    begin_write()
    meeting = Meeting(case_id=case.id, held_on=held_on, type=MeetingType(type),
                      mode=MeetingMode(mode), created_by_id=actor.user_id)
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "meeting.create", "meeting", meeting.id, detail=_behalf(actor, case))
    db.session.commit()
    return meeting

