"""Cases, participants and meetings."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from feedback import clock
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
from feedback.services import access, audit, expected
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
    audit.record_read(actor, "cases.list", detail=f"{len(rows)} cases")
    return rows


def get_case(actor: Actor, case_id: uuid.UUID | str, *, audit_read: bool = True,
             options=()) -> Case:
    """The case if ``actor`` may see it; otherwise :class:`NotFound`, audited as refused.

    ``options``: loader options for what the caller will use of the case.
    """
    case = access.case_for(actor, Action.view_case, case_id, options)
    if audit_read:
        audit.record_read(actor, "case.view", "case", case.id, detail=_behalf(actor, case))
    return case


def get_meeting(actor: Actor, meeting_id: uuid.UUID | str) -> Meeting:
    """The meeting if ``actor`` may see its case; otherwise :class:`NotFound`, audited."""
    meeting = access.meeting_for(actor, Action.view_meeting, meeting_id)
    audit.record_read(actor, "meeting.view", "meeting", meeting.id,
                      detail=_behalf(actor, meeting.case))
    return meeting


def _behalf(actor: Actor, case: Case) -> str | None:
    # Team scope lets colleagues act on each other's cases; the log says so.
    return "not the responsible caseworker" if access.on_behalf(actor, case) else None


def teams_for(actor: Actor) -> list[Team]:
    """Teams the actor may create cases in (and move cases to): their active teams."""
    if not actor.is_staff:
        return []
    return list(db.session.scalars(
        select(Team).join(TeamMembership).where(TeamMembership.user_id == actor.user_id,
                                                Team.active.is_(True))
        .order_by(Team.name)
    ))


# --- what people type -------------------------------------------------------------

#: A case's opened date lies at most this many years before today (and not after today).
OPENED_YEARS_BACK = 30
#: The child is born at most this many years before the year the case opened …
BIRTH_YEARS_BEFORE_OPENING = 18
#: … and at most this many years after it (a case opened before the birth).
BIRTH_YEARS_AFTER_OPENING = 1
#: While a case is open, meetings can be planned up to this many years ahead.
MEETING_YEARS_AHEAD = 1


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def opened_window(today: date) -> tuple[date, date]:
    """The dates a case can have been opened on."""
    return _years_later(today, -OPENED_YEARS_BACK), today


def birth_year_window(opened_on: date) -> tuple[int, int]:
    """The child's possible birth years, for a case opened on ``opened_on``."""
    return (opened_on.year - BIRTH_YEARS_BEFORE_OPENING,
            opened_on.year + BIRTH_YEARS_AFTER_OPENING)


def meeting_window(case: Case, today: date) -> tuple[date, date]:
    """The dates a meeting of ``case`` can be on: within the case's life, a year ahead at most."""
    return case.opened_on, case.closed_on or _years_later(today, MEETING_YEARS_AHEAD)


def _within(value, window, code: str, field: str) -> None:
    first, last = window
    if not first <= value <= last:
        raise Invalid(code, field=field, first=first, last=last)


def _line(value: str | None, field: str, limit: int, *, required: bool = True) -> str | None:
    """One line of text as typed, trimmed; refused when too long or holding control characters.

    The same limit as the form's and the column's, so SQLite and PostgreSQL
    store exactly the same; NUL bytes and line breaks have no place in a name.
    """
    text = (value or "").strip()
    if not text:
        if required:
            raise Invalid("required", field=field)
        return None
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise Invalid("control_characters", field=field)
    if len(text) > limit:
        raise Invalid("too_long", field=field, max=limit)
    return text


def _tags(tags) -> list[str]:
    names = sorted({_line(t, "tags", CaseTag.NAME_MAX, required=False) or "" for t in tags} - {""})
    if len(names) > Case.TAGS_MAX:
        raise Invalid("too_many_tags", field="tags", max=Case.TAGS_MAX)
    return names


def _check_child(opened_on: date, child_birth_year: int, child_birth_month: int | None) -> None:
    _within(opened_on, opened_window(clock.today()), "opened_range", "opened_on")
    _within(child_birth_year, birth_year_window(opened_on), "birth_year_range",
            "child_birth_year")
    if child_birth_month is not None and not 1 <= child_birth_month <= 12:
        raise Invalid("birth_month_range", field="child_birth_month")


# --- cases ------------------------------------------------------------------------

def create_case(actor: Actor, *, reference: str, team_id: uuid.UUID | None,
                child_birth_year: int, opened_on: date, child_birth_month: int | None = None,
                tags: list[str] = ()) -> Case:
    """Open a case with ``actor`` responsible; the reference is unique per organisation."""
    access.require_area(actor, Action.create_case)
    reference = _line(reference, "reference", Case.REFERENCE_MAX)
    if team_id not in {t.id for t in teams_for(actor)}:
        raise Invalid("team_not_allowed", field="team")
    _check_child(opened_on, child_birth_year, child_birth_month)
    tag_names = _tags(tags)
    begin_write()
    case = Case(organisation_id=actor.user.organisation_id, reference=reference,
                team_id=team_id, responsible_id=actor.user_id, opened_on=opened_on,
                child_birth_year=child_birth_year, child_birth_month=child_birth_month)
    case.tags = [CaseTag(name=t) for t in tag_names]
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


def update_case(actor: Actor, case: Case, *, reference: str, team_id: uuid.UUID | None,
                child_birth_year: int, opened_on: date, child_birth_month: int | None = None,
                tags: list[str] = ()) -> Case:
    """Correct what was typed about a case: reference, team, the child's birth, opened date, tags.

    The opened date cannot move past the first meeting (or the closing date),
    and the case can move only to a team of the actor's in which its
    caseworker works.
    """
    access.check(actor, Action.edit_case, case)
    reference = _line(reference, "reference", Case.REFERENCE_MAX)
    if team_id != case.team_id:
        if team_id not in {t.id for t in teams_for(actor)}:
            raise Invalid("team_not_allowed", field="team")
        if team_id not in case.responsible.team_ids:
            raise Invalid("responsible_not_in_team", field="team")
    _check_child(opened_on, child_birth_year, child_birth_month)
    # The opened date may not leave a meeting (or the closing) before the case began.
    bounds = [m.held_on for m in case.meetings] + ([case.closed_on] if case.closed_on else [])
    if bounds and opened_on > min(bounds):
        raise Invalid("opened_after_meetings", field="opened_on", last=min(bounds))
    tag_names = _tags(tags)
    changed = [name for name, old, new in (
        ("reference", case.reference, reference), ("team", case.team_id, team_id),
        ("child_birth_year", case.child_birth_year, child_birth_year),
        ("child_birth_month", case.child_birth_month, child_birth_month),
        ("opened_on", case.opened_on, opened_on),
        ("tags", [t.name for t in case.tags], tag_names)) if old != new]
    if not changed:
        return case
    begin_write()
    case.reference, case.team_id, case.opened_on = reference, team_id, opened_on
    case.child_birth_year, case.child_birth_month = child_birth_year, child_birth_month
    if "tags" in changed:
        case.tags = [CaseTag(name=t) for t in tag_names]
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Invalid("reference_exists", field="reference") from None
    audit.record(actor, "case.update", "case", case.id,
                 detail=_detail(f"changed: {', '.join(changed)}", _behalf(actor, case)))
    db.session.commit()
    return case


def _detail(*parts: str | None) -> str | None:
    return "; ".join(p for p in parts if p) or None


def transfer_candidates(case: Case) -> list[User]:
    """Who can take over ``case``: active caseworkers and team leads of its team."""
    return list(db.session.scalars(
        select(User).join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == case.team_id, User.active.is_(True),
               User.role.in_((Role.caseworker, Role.team_lead)))
        .order_by(User.display_name)))


def transfer_case(actor: Actor, case: Case, to_user_id: uuid.UUID | str | None) -> Case:
    """Make another caseworker of the case's team responsible; the history stays with the case."""
    access.check(actor, Action.transfer_case, case)
    candidates = {str(u.id): u for u in transfer_candidates(case)}
    new = candidates.get(str(to_user_id))
    if new is None:
        raise Invalid("not_in_team", field="responsible")
    if new.id == case.responsible_id:
        return case
    begin_write()
    before = case.responsible_id
    case.responsible_id = new.id
    audit.record(actor, "case.transfer", "case", case.id,
                 detail=_detail(f"from user {before} to user {new.id}", _behalf(actor, case)))
    db.session.commit()
    return case


def close_window(case: Case, today: date) -> tuple[date, date]:
    """The dates a case can be closed on: from its last meeting (or opening) to today."""
    last_meeting = max((m.held_on for m in case.meetings), default=case.opened_on)
    return max(case.opened_on, last_meeting), today


def close_case(actor: Actor, case: Case, closed_on: date) -> Case:
    """Close the case: no new meetings or links until it is reopened."""
    access.check(actor, Action.close_case, case)
    if not case.is_open:
        raise Invalid("case_closed", field="closed_on")
    _within(closed_on, close_window(case, clock.today()), "closed_range", "closed_on")
    begin_write()
    case.closed_on = closed_on
    audit.record(actor, "case.close", "case", case.id, detail=_behalf(actor, case))
    db.session.commit()
    # The case's episodes are closed now: the expected ranges include them (decision 20).
    expected.compute(case.organisation_id)
    return case


def reopen_case(actor: Actor, case: Case) -> Case:
    """Reopen a closed case (closing and reopening are the same permission)."""
    access.check(actor, Action.close_case, case)
    if case.is_open:
        return case
    begin_write()
    case.closed_on = None
    audit.record(actor, "case.reopen", "case", case.id, detail=_behalf(actor, case))
    db.session.commit()
    return case


# --- participants and meetings ----------------------------------------------------

def add_participant(actor: Actor, case: Case, role: ParticipantRole | str,
                    label: str | None = None) -> Participant:
    """Add somebody who may answer in the case, by role (and an optional label)."""
    access.check(actor, Action.edit_case, case)
    label = _line(label, "label", Participant.LABEL_MAX, required=False)
    begin_write()
    participant = Participant(case_id=case.id, role=ParticipantRole(role), label=label)
    db.session.add(participant)
    db.session.flush()
    audit.record(actor, "participant.create", "participant", participant.id,
                 detail=_behalf(actor, case))
    db.session.commit()
    return participant


def create_meeting(actor: Actor, case: Case, *, held_on: date, type: MeetingType | str,
                   mode: MeetingMode | str) -> Meeting:
    """Plan or record a meeting in the case, within its life and at most a year ahead."""
    access.check(actor, Action.edit_case, case)
    if not case.is_open:
        raise Invalid("case_closed", field="held_on")
    _within(held_on, meeting_window(case, clock.today()), "meeting_date_range", "held_on")
    begin_write()
    meeting = Meeting(case_id=case.id, held_on=held_on, type=MeetingType(type),
                      mode=MeetingMode(mode), created_by_id=actor.user_id)
    db.session.add(meeting)
    db.session.flush()
    audit.record(actor, "meeting.create", "meeting", meeting.id, detail=_behalf(actor, case))
    db.session.commit()
    return meeting
