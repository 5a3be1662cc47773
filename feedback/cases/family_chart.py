"""The family's drawing: chosen lines, their cut-off and change band, nothing else.

A wrapper around :func:`feedback.cases.charts.family_graph` (which is left as
it is): it keeps only the chosen respondents' series and adds each one's
reliable-change band around their first score.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedback.cases import charts
from feedback.services.trajectories import CaseTrajectories


@dataclass(frozen=True)
class Band:
    """The reliable-change band (first score ± the pack's reliable change) of one line."""

    role: str
    y_top: float
    y_bottom: float
    low: float
    high: float


def _y(graph: charts.Graph, value: float) -> float:
    return graph.bottom - (value / graph.scale_max) * (graph.bottom - graph.top)


def family_graph(data: CaseTrajectories, participant_ids: list[str]):
    """The outcome graph with only ``participant_ids``'s lines, and their change bands."""
    wanted = {str(p) for p in participant_ids}
    kept = [t for t in data.family("outcome") if str(t.participant_id) in wanted]
    graph = charts.family_graph(CaseTrajectories(data.meetings, {"outcome": kept}), "outcome")
    bands = []
    for t in kept:
        first = next((r for r in t.ratings if r.psychometric), None)
        step = first.instrument.reliable_change_tenths if first else None
        if first is None or step is None:
            continue
        low = max(0.0, (first.total_tenths - step) / 10)
        high = min(graph.scale_max, (first.total_tenths + step) / 10)
        bands.append(Band(t.role, _y(graph, high), _y(graph, low), low, high))
    return graph, bands
