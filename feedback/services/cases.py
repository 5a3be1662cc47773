"""Cases, participants and meetings, and who may see them."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Select, func, or_, select
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
    Role,
    Team,
    TeamMembership,
    User,
)
from feedback.services import audit
from feedback.services.errors import Invalid, NotFound
from feedback.services.uow import begin_write


def visible_cases(user: User) -> Select:
    """Cases the user may open: a caseworker their own; a team lead their teams' too."""
    stmt = select(Case)
    if user.role == Role.caseworker:
        return stmt.where(Case.responsible_id == user.id)
    if user.role == Role.team_lead:
        team_ids = select(TeamMembership.team_id).where(TeamMembership.user_id == user.id)
        return stmt.where(or_(Case.responsible_id == user.id, Case.team_id.in_(team_ids)))
    return stmt.where(False)


def list_cases(user: User) -> list[tuple[Case, int, date | None]]:
    """The user's cases with their number of meetings and the latest meeting date."""
    counts = (
        select(Meeting.case_id, func.count().label("n"), func.max(Meeting.held_on).label("last"))
        .group_by(Meeting.case_id)
        .subquery()
    )
    stmt = (
        visible_cases(user)
        .outerjoin(counts, counts.c.case_id == Case.id)
        .add_columns(func.coalesce(counts.c.n, 0), counts.c.last)
        .options(selectinload(Case.team), selectinload(Case.responsible))
        .order_by(Case.closed_on.is_not(None), Case.reference)
    )
    return [tuple(row) for row in db.session.execute(stmt)]


def get_case(user: User, case_id: uuid.UUID | str, *, audit_read: bool = True) -> Case:
    """The case if ``user`` may see it; otherwise :class:`NotFound`, audited as refused."""
    try:
        case_uuid = uuid.UUID(str(case_id))
    except ValueError:
        raise NotFound() from None
    case = db.session.scalar(visible_cases(user).where(Case.id == case_uuid))
    if case is None:
        audit.record_now("case.view", "case", case_uuid, outcome="refused",
                         detail="not found or not permitted")
        raise NotFound()
    if audit_read:
        audit.record_now("case.view", "case", case.id)
    return case


def get_meeting(user: User, meeting_id: uuid.UUID | str) -> Meeting:
    try:
        meeting_uuid = uuid.UUID(str(meeting_id))
    except ValueError:
        raise NotFound() from None
    meeting = db.session.scalar(
        select(Meeting).join(Case).where(
            Meeting.id == meeting_uuid, Case.id.in_(visible_cases(user).with_only_columns(Case.id))
        )
    )
    if meeting is None:
        audit.record_now("meeting.view", "meeting", meeting_uuid, outcome="refused",
                         detail="not found or not permitted")
        raise NotFound()
    return meeting


def teams_for(user: User) -> list[Team]:
    """Teams the user may create cases in."""
    return list(db.session.scalars(
        select(Team).join(TeamMembership).where(TeamMembership.user_id == user.id)
        .order_by(Team.name)
    ))


def create_case(user: User, *, reference: str, team_id: uuid.UUID, child_birth_year: int,
                opened_on: date, child_birth_month: int | None = None,
                tags: list[str] = ()) -> Case:
    """Open a case with ``user`` responsible; the reference is unique per organisation."""
    reference = reference.strip()
    if user.role not in (Role.caseworker, Role.team_lead):
        raise NotFound()
    if team_id not in {t.id for t in teams_for(user)}:
        raise Invalid("team_not_allowed", field="team")
    if child_birth_year > opened_on.year or child_birth_year < opened_on.year - 25:
        raise Invalid("birth_year_range", field="child_birth_year")
    begin_write()
    case = Case(organisation_id=user.organisation_id, reference=reference, team_id=team_id,
                responsible_id=user.id, opened_on=opened_on, child_birth_year=child_birth_year,
                child_birth_month=child_birth_month)
    case.tags = [CaseTag(name=t) for t in sorted({t.strip() for t in tags if t.strip()})]
    db.session.add(case)
    # The child is always a participant; others are added by role.
    db.session.add(Participant(case=case, role=ParticipantRole.child))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Invalid("reference_exists", field="reference") from None
    audit.record("case.create", "case", case.id)
    db.session.commit()
    return case


def add_participant(user: User, case: Case, role: ParticipantRole | str,
                    label: str | None = None) -> Participant:
    begin_write()
    participant = Participant(case_id=case.id, role=ParticipantRole(role),
                              label=(label or "").strip() or None)
    db.session.add(participant)
    db.session.flush()
    audit.record("participant.create", "participant", participant.id)
    db.session.commit()
    return participant


def create_meeting(user: User, case: Case, *, held_on: date, type: MeetingType | str,
                   mode: MeetingMode | str) -> Meeting:
    begin_write()
    meeting = Meeting(case_id=case.id, held_on=held_on, type=MeetingType(type),
                      mode=MeetingMode(mode), created_by_id=user.id)
    db.session.add(meeting)
    db.session.flush()
    audit.record("meeting.create", "meeting", meeting.id)
    db.session.commit()
    return meeting
