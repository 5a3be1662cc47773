"""A case's series: each respondent's ratings per instrument family over the meetings.

This is the data behind the graphs, the signals and the journal summary; it
draws nothing. The unit is the episode (decision 19): one respondent's series
in one family within one case, never merged with anyone else's.
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
    Case,
    InstrumentVersion,
    Meeting,
    Participant,
    Response,
    ResponseVoid,
)
from feedback.services.instruments import by_version_id


@dataclass(frozen=True)
class MeetingPoint:
    """A meeting on the time axis: its date and its number in the case (1, 2, …)."""

    id: uuid.UUID
    held_on: date
    number: int


@dataclass(frozen=True)
class Rating:
    """One answered questionnaire with a total, as a point of a series."""

    meeting: MeetingPoint
    total_tenths: int
    instrument: Instrument

    @property
    def psychometric(self) -> bool:
        """False for the faces versions: drawn and marked, never used in figures."""
        return self.instrument.psychometric


@dataclass
class Trajectory:
    """One respondent's ratings in one family within one case (an episode)."""

    participant_id: uuid.UUID
    role: str
    label: str | None
    family: str
    #: The cut-off (tenths) for whom the latest rating is about, if there is one.
    cutoff_tenths: int | None = None
    ratings: list[Rating] = field(default_factory=list)


@dataclass
class CaseTrajectories:
    """Every meeting of a case, and its trajectories by family."""

    meetings: list[MeetingPoint]
    families: dict[str, list[Trajectory]]

    def family(self, name: str) -> list[Trajectory]:
        """The trajectories of one family (empty when nobody answered it)."""
        return self.families.get(name, [])


def for_case(case: Case, families: tuple[str, ...] | None = None) -> CaseTrajectories:
    """The case's meetings and every respondent's totals, by family.

    Two queries whatever the number of meetings; definitions come from the
    per-process cache of frozen versions, not from each row.
    """
    meetings = [
        MeetingPoint(row.id, row.held_on, n)
        for n, row in enumerate(db.session.execute(
            select(Meeting.id, Meeting.held_on).where(Meeting.case_id == case.id)
            .order_by(Meeting.held_on, Meeting.created_at)), 1)
    ]
    by_id = {m.id: m for m in meetings}
    stmt = (
        select(Response.participant_id, Participant.role, Participant.label,
               Response.meeting_id, Response.total_tenths, Response.subject,
               Response.instrument_version_id, InstrumentVersion.family)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .join(Participant, Participant.id == Response.participant_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        # Voided responses (given by the wrong person) are kept but never drawn.
        .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
        .where(Meeting.case_id == case.id, Response.total_tenths.is_not(None),
               ResponseVoid.response_id.is_(None))
        .order_by(Meeting.held_on, Meeting.created_at, Response.submitted_at)
    )
    if families is not None:
        stmt = stmt.where(InstrumentVersion.family.in_(families))
    found: dict[tuple, Trajectory] = {}
    result: dict[str, list[Trajectory]] = {}
    for row in db.session.execute(stmt):
        key = (row.family, row.participant_id)
        series = found.get(key)
        if series is None:
            series = found[key] = Trajectory(row.participant_id, row.role.value, row.label,
                                             row.family)
            result.setdefault(row.family, []).append(series)
        instrument = by_version_id(row.instrument_version_id)
        meeting = by_id[row.meeting_id]
        series.ratings.append(Rating(meeting, row.total_tenths, instrument))
        series.cutoff_tenths = signals.cutoff_tenths(
            instrument, subject=row.subject.value, role=series.role,
            child_age=case.child_age_on(meeting.held_on))
    return CaseTrajectories(meetings, result)
