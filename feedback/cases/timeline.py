"""The case page's timeline: every meeting, newest first, with who answered what."""

from __future__ import annotations

from dataclasses import dataclass

from feedback.cases import fragments
from feedback.cases.charts import Options, _decimals, _name
from feedback.instruments.schema import Instrument
from feedback.services.trajectories import CaseTrajectories


@dataclass(frozen=True)
class Entry:
    """One questionnaire answered at a meeting, as the timeline lists it."""

    who: str
    role: str
    title: str
    total: str | None
    missing: int
    voided: bool


@dataclass(frozen=True)
class TimelineMeeting:
    """A meeting in the timeline: date, number, kind and who answered what."""

    id: str
    number: int
    type: str
    date_text: str
    entries: tuple[Entry, ...]
    #: Who answered what, as markup (cases/fragments.py).
    markup: str = ""

    @property
    def by_person(self) -> list[tuple[str, list[Entry]]]:
        """The entries grouped by who answered, in the order they first answered."""
        groups: dict[str, list[Entry]] = {}
        for e in self.entries:
            groups.setdefault(e.who, []).append(e)
        return list(groups.items())


def short_title(pack: Instrument, opt: Options) -> str:
    """ORS, CORS, SRS … by their well-known codes; other packs by their title."""
    return pack.id.upper() if len(pack.id) <= 5 else opt.title(pack)


def timeline(data: CaseTrajectories, opt: Options) -> list[TimelineMeeting]:
    """The meetings, newest first, with every answer (voided ones marked)."""
    names: dict[tuple[str, str | None], str] = {}
    out = []
    for m in reversed(data.meetings):
        entries = []
        for a in data.timeline.get(m.id, ()):
            name = names.get((a.role, a.label))
            if name is None:
                name = names[(a.role, a.label)] = _name(a.role, a.label, opt.role_name)
            entries.append(Entry(name, a.role, short_title(a.instrument, opt),
                                 None if a.total_tenths is None
                                 else opt.fmt.value(a.total_tenths, _decimals(a.instrument)),
                                 a.missing, a.voided))
        meeting = TimelineMeeting(str(m.id), m.number, m.type, opt.fmt.date(m.held_on),
                                  tuple(entries))
        object.__setattr__(meeting, "markup", fragments.entries(meeting, opt.notes))
        out.append(meeting)
    return out
