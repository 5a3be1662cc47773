"""The case page's timeline: every meeting, newest first, with who answered what."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from feedback.cases import fragments
from feedback.cases.charts import Options, _name
from feedback.instruments.schema import Instrument
from feedback.services.trajectories import CaseTrajectories


class Entry(NamedTuple):
    """One questionnaire answered at a meeting, as the timeline lists it."""

    who: str
    role: str
    title: str
    total: str | None
    missing: int
    voided: bool


#: Made without the keyword handling of ``Entry(...)``: a long case lists thousands.
_entry = tuple.__new__


@dataclass(slots=True)
class TimelineMeeting:
    """A meeting in the timeline: date, number, kind and who answered what."""

    id: str
    number: int
    type: str
    date_text: str
    entries: tuple[Entry, ...]
    #: Who answered what, as markup (cases/fragments.py).
    markup: str = ""


def short_title(pack: Instrument, opt: Options) -> str:
    """ORS, CORS, SRS … by their well-known codes; other packs by their title."""
    return pack.id.upper() if len(pack.id) <= 5 else opt.title(pack)


def timeline(data: CaseTrajectories, opt: Options) -> list[TimelineMeeting]:
    """The meetings, newest first, with every answer (voided ones marked)."""
    names: dict[tuple[str, str | None], str] = {}
    titles: dict[int, str] = {}
    totals: dict[tuple[int, int], str] = {}
    value, date_text = opt.fmt.value, opt.fmt.date
    parts: dict = {}
    out = []
    for m in reversed(data.meetings):
        entries = []
        for a in data.timeline.get(m.id, ()):
            name = names.get((a.role, a.label))
            if name is None:
                name = names[(a.role, a.label)] = _name(a.role, a.label, opt.role_name)
            pack = a.instrument
            title = titles.get(id(pack))
            if title is None:
                title = titles[id(pack)] = short_title(pack, opt)
            total = None
            if a.total_tenths is not None:
                total = totals.get((a.total_tenths, pack.value_decimals))
                if total is None:
                    total = totals[(a.total_tenths, pack.value_decimals)] = value(
                        a.total_tenths, pack.value_decimals)
            entries.append(_entry(Entry, (name, a.role, title, total, a.missing, a.voided)))
        entries = tuple(entries)
        out.append(TimelineMeeting(str(m.id), m.number, m.type, date_text(m.held_on), entries,
                                   fragments.entries(entries, opt.notes, parts)))
    return out
