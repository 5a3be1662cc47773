"""The family's drawing: chosen lines, their cut-off and change band, nothing else.

A wrapper around :func:`feedback.cases.charts.family_graph` (which is left as
it is): it keeps only the chosen respondents' series, adds each one's
reliable-change band around their first score, breaks a line where its
respondent gave no answer, and can stretch the drawing upright for a phone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from feedback.cases import charts
from feedback.services.trajectories import CaseTrajectories

#: How far apart (in x) two lines' end labels must be before they are moved apart.
_LABEL_ROOM = 110


@dataclass(frozen=True)
class Band:
    """The reliable-change band (first score ± the pack's reliable change) of one line."""

    role: str
    y_top: float
    y_bottom: float


@dataclass(frozen=True)
class Segment:
    """A run of one line: solid between consecutive meetings, dashed across a missed one."""

    role: str
    points: str
    gap: bool


@dataclass(frozen=True)
class Dot:
    """One rating, placed; hollow for the faces versions."""

    x: float
    y: float
    hollow: bool


@dataclass(frozen=True)
class Label:
    """A line's latest value, written next to its last point."""

    role: str
    x: float
    y: float
    text: float


@dataclass
class Drawing:
    """Everything the family template draws, in SVG user units."""

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    meetings: list[tuple[date, float]]
    cutoffs: list[float]
    bands: list[Band] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    dots: list[tuple[str, list[Dot]]] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)


def family_graph(data: CaseTrajectories, participant_ids: list[str]) -> charts.Graph:
    """The outcome graph with only ``participant_ids``'s lines."""
    wanted = {str(p) for p in participant_ids}
    kept = [t for t in data.family("outcome") if str(t.participant_id) in wanted]
    return charts.family_graph(CaseTrajectories(data.meetings, {"outcome": kept}), "outcome")


def drawing(graph: charts.Graph, stretch: float = 1.0) -> Drawing:
    """The family's drawing of ``graph``, ``stretch`` times as tall (2 for a phone upright)."""

    def y(value_y: float) -> float:
        return graph.top + (value_y - graph.top) * stretch

    def y_of(value: float) -> float:
        return y(graph.bottom - (value / graph.scale_max) * (graph.bottom - graph.top))

    bottom = y(graph.bottom)
    d = Drawing(width=graph.width, height=bottom + (graph.height - graph.bottom),
                left=graph.left, right=graph.right, top=graph.top, bottom=bottom,
                meetings=[(held_on, x) for _id, held_on, x in graph.meetings],
                cutoffs=[y(cy) for _value, cy in graph.cutoffs])
    order = {meeting_id: n for n, (meeting_id, _held_on, _x) in enumerate(graph.meetings)}
    for s in graph.series:
        if not s.points:
            continue
        first = next((p for p in s.points if p.psychometric), None)
        step = first.pack.reliable_change_tenths if first else None
        if step is not None:
            high = min(graph.scale_max, first.total + step / 10)
            low = max(0.0, first.total - step / 10)
            d.bands.append(Band(s.role, y_of(high), y_of(low)))
        run = s.points[:1]
        for before, point in zip(s.points, s.points[1:], strict=False):
            if order[point.meeting_id] - order[before.meeting_id] > 1:
                if len(run) > 1:
                    d.segments.append(Segment(s.role, _path(run, y), gap=False))
                d.segments.append(Segment(s.role, _path([before, point], y), gap=True))
                run = [point]
            else:
                run.append(point)
        if len(run) > 1:
            d.segments.append(Segment(s.role, _path(run, y), gap=False))
        d.dots.append((s.role, [Dot(p.x, y(p.y), not p.psychometric) for p in s.points]))
        last = s.points[-1]
        d.labels.append(Label(s.role, last.x, y(last.y), last.total))
    d.labels = _apart(d.labels)
    return d


def _path(points, y) -> str:
    return " ".join(f"{p.x:.1f},{y(p.y):.1f}" for p in points)


def _apart(labels: list[Label]) -> list[Label]:
    """Each label above its point, except a lower line's close to a higher one's: below it."""
    placed = []
    for label in labels:
        crowded = any(abs(o.x - label.x) < _LABEL_ROOM and o.text > label.text
                      for o in labels if o is not label)
        placed.append((label, 44 if crowded else -20))
    return [Label(lab.role, lab.x, lab.y + dy, lab.text) for lab, dy in placed]
