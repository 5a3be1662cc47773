"""A case's series: each respondent's ratings per instrument family over the meetings.

This is the data behind the graphs, the signals and the journal summary; it
draws nothing. The unit is the episode (decision 19): one respondent's series
in one family within one case, never merged with anyone else's. Staff ratings
(decision 12) are episodes of their own, keyed by the staff user.

Three queries whatever the number of meetings: the meetings, the responses
(voided ones included, for the timeline) and their item values. Definitions
come from the per-process cache of frozen versions, not from each row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from feedback.extensions import db
from feedback.instruments import signals
from feedback.instruments.schema import Instrument
from feedback.models import (
    Answer,
    Case,
    InstrumentVersion,
    Meeting,
    Participant,
    Response,
    ResponseVoid,
    User,
)
from feedback.services.instruments import by_version_id

#: The role of a staff member's own rating (the child ruler, decision 12).
STAFF_ROLE = "staff"


@dataclass(frozen=True)
class MeetingPoint:
    """A meeting on the time axis: its date and its number in the case (1, 2, …)."""

    id: uuid.UUID
    held_on: date
    number: int
    type: str = "follow_up"


@dataclass(frozen=True)
class ItemValue:
    """One item's answer: a value in tenths, or a missing code ("skipped", "dont_know")."""

    key: str
    value_tenths: int | None
    missing_code: str | None = None


@dataclass(frozen=True)
class Rating:
    """One answered questionnaire as a point of a series (``total_tenths`` may be None)."""

    meeting: MeetingPoint
    total_tenths: int | None
    instrument: Instrument
    items: tuple[ItemValue, ...] = ()
    subject: str = "child"
    response_id: uuid.UUID | None = None

    @property
    def psychometric(self) -> bool:
        """False for the faces versions: drawn and marked, never used in figures."""
        return self.instrument.psychometric

    def value(self, key: str) -> int | None:
        """One item's value in tenths (None when skipped or not in this version)."""
        for item in self.items:
            if item.key == key:
                return item.value_tenths
        return None


@dataclass
class Trajectory:
    """One respondent's ratings in one family within one case (an episode)."""

    participant_id: uuid.UUID | None
    role: str
    label: str | None
    family: str
    #: The cut-off (tenths) for whom the latest rating is about, if there is one.
    cutoff_tenths: int | None = None
    #: Ratings with a total, in meeting order (what lines and signals use).
    ratings: list[Rating] = field(default_factory=list)
    #: Every response in the family, with or without a total (what item graphs use).
    answered: list[Rating] = field(default_factory=list)
    #: The staff member who rated, for staff episodes.
    staff_user_id: uuid.UUID | None = None

    @property
    def key(self) -> str:
        """A stable id of the respondent within the case."""
        return str(self.participant_id) if self.participant_id else f"staff-{self.staff_user_id}"


@dataclass(frozen=True)
class Answered:
    """A response as the timeline shows it: who, what, and whether it was voided."""

    meeting_id: uuid.UUID
    respondent_key: str
    role: str
    label: str | None
    instrument: Instrument
    total_tenths: int | None
    missing: int
    voided: bool


@dataclass
class CaseTrajectories:
    """Every meeting of a case, its trajectories by family, and who answered what when."""

    meetings: list[MeetingPoint]
    families: dict[str, list[Trajectory]]
    #: Every response (voided ones too) by meeting id, in the order they came.
    timeline: dict[uuid.UUID, list[Answered]] = field(default_factory=dict)

    def family(self, name: str) -> list[Trajectory]:
        """The trajectories of one family (empty when nobody answered it)."""
        return self.families.get(name, [])


def _cut(meetings: list[MeetingPoint], until) -> list[MeetingPoint]:
    if until is None:
        return meetings
    until = until if isinstance(until, uuid.UUID) else uuid.UUID(str(getattr(until, "id", until)))
    for n, m in enumerate(meetings):
        if m.id == until:
            return meetings[:n + 1]
    return meetings


def for_case(case: Case, families: tuple[str, ...] | None = None, *,
             participants=None, until=None, include_staff: bool = True) -> CaseTrajectories:
    """The case's meetings, every respondent's series by family, and the timeline.

    ``participants`` (ids) limits the series to those people (the family view,
    the meeting page); ``until`` (a meeting or its id) leaves out later
    meetings. Voided responses appear in the timeline only, never in a series.
    """
    meetings = _cut([
        MeetingPoint(row.id, row.held_on, n, row.type.value)
        for n, row in enumerate(db.session.execute(
            select(Meeting.id, Meeting.held_on, Meeting.type).where(Meeting.case_id == case.id)
            .order_by(Meeting.held_on, Meeting.created_at)), 1)
    ], until)
    by_id = {m.id: m for m in meetings}
    stmt = (
        select(Response.id, Response.participant_id, Response.staff_user_id, Participant.role,
               Participant.label, User.display_name, Response.meeting_id,
               Response.total_tenths, Response.subject, Response.instrument_version_id,
               InstrumentVersion.family, ResponseVoid.response_id.label("void_id"))
        .join(Meeting, Meeting.id == Response.meeting_id)
        .outerjoin(Participant, Participant.id == Response.participant_id)
        .outerjoin(User, User.id == Response.staff_user_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
        .where(Meeting.case_id == case.id)
        .order_by(Meeting.held_on, Meeting.created_at, Response.submitted_at)
    )
    answers = (
        select(Answer.response_id, Answer.item_key, Answer.value_tenths, Answer.missing_code)
        .join(Response, Response.id == Answer.response_id)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .where(Meeting.case_id == case.id)
        .order_by(Answer.response_id, Answer.position)
    )
    if families is not None:
        stmt = stmt.where(InstrumentVersion.family.in_(families))
        answers = answers.join(
            InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id
        ).where(InstrumentVersion.family.in_(families))
    if participants is not None:
        ids = [p if isinstance(p, uuid.UUID) else uuid.UUID(str(getattr(p, "id", p)))
               for p in participants]
        wanted = Response.participant_id.in_(ids)
        if include_staff:
            wanted = wanted | Response.staff_user_id.is_not(None)
        stmt = stmt.where(wanted)
        answers = answers.where(wanted)
    items: dict[uuid.UUID, list[ItemValue]] = {}
    for row in db.session.execute(answers):
        items.setdefault(row.response_id, []).append(
            ItemValue(row.item_key, row.value_tenths, row.missing_code))

    found: dict[tuple, Trajectory] = {}
    result: dict[str, list[Trajectory]] = {}
    timeline: dict[uuid.UUID, list[Answered]] = {}
    for row in db.session.execute(stmt):
        meeting = by_id.get(row.meeting_id)
        if meeting is None:  # after ``until``
            continue
        if row.participant_id is not None:
            who, role, label = str(row.participant_id), row.role.value, row.label
        else:
            who, role, label = f"staff-{row.staff_user_id}", STAFF_ROLE, row.display_name
        instrument = by_version_id(row.instrument_version_id)
        values = tuple(items.get(row.id, ()))
        voided = row.void_id is not None
        timeline.setdefault(row.meeting_id, []).append(Answered(
            row.meeting_id, who, role, label, instrument, row.total_tenths,
            sum(1 for v in values if v.value_tenths is None), voided))
        if voided:  # kept for the record, never drawn (decision 46)
            continue
        key = (row.family, who)
        series = found.get(key)
        if series is None:
            series = found[key] = Trajectory(row.participant_id, role, label, row.family,
                                             staff_user_id=row.staff_user_id)
            result.setdefault(row.family, []).append(series)
        rating = Rating(meeting, row.total_tenths, instrument, values, row.subject.value,
                        row.id)
        series.answered.append(rating)
        if row.total_tenths is not None:
            series.ratings.append(rating)
            series.cutoff_tenths = signals.cutoff_tenths(
                instrument, subject=row.subject.value, role=role,
                child_age=case.child_age_on(meeting.held_on))
    for family in result.values():
        family.sort(key=lambda t: (ROLE_ORDER.get(t.role, 9), t.label or ""))
    return CaseTrajectories(meetings, result, timeline)


#: Series are listed child first, then the carers, the network and staff.
ROLE_ORDER = {"child": 0, "mother": 1, "father": 2, "other_carer": 3, "network": 4,
              "professional": 5, STAFF_ROLE: 6}
