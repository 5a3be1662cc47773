"""The case graph: outcome totals per respondent over the meetings, as SVG geometry."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from feedback.extensions import db
from feedback.instruments.schema import Instrument
from feedback.models import (
    Case,
    InstrumentVersion,
    Meeting,
    Participant,
    Response,
    Subject,
)

# Geometry of the drawing, in SVG user units.
WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 48, 24, 16, 48


@dataclass
class Point:
    meeting_id: str
    held_on: date
    total: float
    instrument: str
    x: float = 0
    y: float = 0
    #: False for the under-6 faces versions: drawn and marked, never used for figures.
    psychometric: bool = True


@dataclass
class Series:
    participant_id: str
    role: str
    label: str | None
    points: list[Point] = field(default_factory=list)
    cutoff: float | None = None

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Graph:
    meetings: list[tuple[str, date, float]]
    series: list[Series]
    cutoffs: list[tuple[float, float]]  # (value, y)
    ticks: list[tuple[int, float]]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def has_unscaled(self) -> bool:
        return any(not p.psychometric for s in self.series for p in s.points)

    @property
    def empty(self) -> bool:
        return not any(s.points for s in self.series)


def outcome_graph(case: Case, family: str = "outcome") -> Graph:
    """One line per respondent (never merged), with each subject's age cut-off."""
    meetings = list(db.session.execute(
        select(Meeting.id, Meeting.held_on).where(Meeting.case_id == case.id)
        .order_by(Meeting.held_on, Meeting.created_at)
    ))
    rows = db.session.execute(
        select(Response.participant_id, Participant.role, Participant.label, Response.meeting_id,
               Meeting.held_on, Response.total_tenths, Response.subject,
               InstrumentVersion.key, InstrumentVersion.definition)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .join(Participant, Participant.id == Response.participant_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .where(Meeting.case_id == case.id, InstrumentVersion.family == family,
               Response.total_tenths.is_not(None))
        .order_by(Meeting.held_on, Response.submitted_at)
    )
    n = max(len(meetings), 1)
    span = (WIDTH - RIGHT) - LEFT
    x_of = {m.id: LEFT + (span * (i + 0.5) / n) for i, m in enumerate(meetings)}

    def y_of(value: float) -> float:
        return (HEIGHT - BOTTOM) - (value / 40) * ((HEIGHT - BOTTOM) - TOP)

    by_participant: dict = defaultdict(lambda: None)
    order: list = []
    cutoffs: set[float] = set()
    definitions: dict[str, Instrument] = {}
    for row in rows:
        series = by_participant[row.participant_id]
        if series is None:
            series = by_participant[row.participant_id] = Series(
                str(row.participant_id), row.role.value, row.label)
            order.append(series)
        instrument = definitions.get(row.key) or Instrument.from_json(row.definition)
        definitions[row.key] = instrument
        total = row.total_tenths / 10
        series.points.append(Point(str(row.meeting_id), row.held_on, total, row.key,
                                   x_of[row.meeting_id], y_of(total), instrument.psychometric))
        # The cut-off follows the subject: the child (rated by anyone, or rating
        # themself) by age at the meeting; an adult rating themself by the adult norm.
        about_child = row.subject == Subject.child or row.role.value == "child"
        age = case.child_age_on(row.held_on) if about_child else None
        cut = instrument.cutoff_for(age)
        series.cutoff = None if cut is None else cut / 10
    for series in order:
        if series.cutoff is not None:
            cutoffs.add(series.cutoff)
    return Graph(
        meetings=[(str(m.id), m.held_on, x_of[m.id]) for m in meetings],
        series=order,
        cutoffs=[(c, y_of(c)) for c in sorted(cutoffs)],
        ticks=[(v, y_of(v)) for v in range(0, 41, 10)],
    )
