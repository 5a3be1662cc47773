"""SVG geometry for the case graphs, from trajectories (no queries, no templates)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from feedback.instruments.schema import Instrument
from feedback.services.trajectories import CaseTrajectories, Trajectory

# Geometry of the drawing, in SVG user units.
WIDTH, HEIGHT = 720, 360
LEFT, RIGHT, TOP, BOTTOM = 48, 24, 16, 48


@dataclass
class Point:
    """One rating, placed."""

    meeting_id: str
    held_on: date
    total: float
    pack: Instrument
    x: float = 0
    y: float = 0
    #: False for the under-6 faces versions: drawn and marked, never used for figures.
    psychometric: bool = True


@dataclass
class Series:
    """One respondent's line."""

    participant_id: str
    role: str
    label: str | None
    points: list[Point] = field(default_factory=list)
    cutoff: float | None = None

    @property
    def path(self) -> str:
        """The polyline's points attribute."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Graph:
    """A whole drawing: meetings on x, totals on y, one series per respondent."""

    meetings: list[tuple[str, date, float]]
    series: list[Series]
    cutoffs: list[tuple[float, float]]  # (value, y)
    ticks: list[tuple[int, float]]
    scale_max: float = 40
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def has_unscaled(self) -> bool:
        """Whether any point comes from a faces version."""
        return any(not p.psychometric for s in self.series for p in s.points)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not any(s.points for s in self.series)


def _scale_max(trajectories: list[Trajectory]) -> float:
    """The top of the y axis, from the packs' own scales (0–40 for the ORS family)."""
    tops = [r.instrument.total_max_tenths for t in trajectories for r in t.ratings
            if r.instrument.total_max_tenths]
    return max(tops) / 10 if tops else 40


def family_graph(data: CaseTrajectories, family: str = "outcome") -> Graph:
    """One line per respondent (never merged), with each subject's cut-off."""
    trajectories = data.family(family)
    n = max(len(data.meetings), 1)
    span = (WIDTH - RIGHT) - LEFT
    x_of = {m.id: LEFT + (span * (i + 0.5) / n) for i, m in enumerate(data.meetings)}
    top = _scale_max(trajectories)

    def y_of(value: float) -> float:
        return (HEIGHT - BOTTOM) - (value / top) * ((HEIGHT - BOTTOM) - TOP)

    series = []
    for t in trajectories:
        s = Series(str(t.participant_id), t.role, t.label,
                   cutoff=None if t.cutoff_tenths is None else t.cutoff_tenths / 10)
        for r in t.ratings:
            total = r.total_tenths / 10
            s.points.append(Point(str(r.meeting.id), r.meeting.held_on, total, r.instrument,
                                  x_of[r.meeting.id], y_of(total), r.psychometric))
        series.append(s)
    cutoffs = sorted({s.cutoff for s in series if s.cutoff is not None})
    step = top / 4
    return Graph(
        meetings=[(str(m.id), m.held_on, x_of[m.id]) for m in data.meetings],
        series=series,
        cutoffs=[(c, y_of(c)) for c in cutoffs],
        ticks=[(round(step * i, 1) if step % 1 else int(step * i), y_of(step * i))
               for i in range(5)],
        scale_max=top,
    )
