"""The case page's timeline: every meeting, newest first, with who answered what."""

from __future__ import annotations

from dataclasses import dataclass

from feedback.cases import fragments
from feedback.cases.charts import Options, _name
from feedback.instruments.schema import Instrument
from feedback.services.trajectories import CaseTrajectories


@dataclass(slots=True)
class TimelineMeeting:
    """A meeting in the timeline: date, number, kind and who answered what."""

    id: str
    number: int
    type: str
    date_text: str
    #: Who answered what, as markup (cases/fragments.py).
    markup: str = ""


def short_title(pack: Instrument, opt: Options) -> str:
    """ORS, CORS, SRS … by their well-known codes; other packs by their title."""
    return pack.id.upper() if len(pack.id) <= 5 else opt.title(pack)


def timeline(data: CaseTrajectories, opt: Options) -> list[TimelineMeeting]:
    """The meetings, newest first, with every answer (voided ones marked).

    Each answer's markup is made once per page for each (questionnaire, total,
    skips, voided) it shows, and the meeting's lines are joined as the answers
    are read: a case with 200 meetings lists hundreds.
    """
    names: dict[tuple[str, str | None], str] = {}
    titles: dict[int, str] = {}
    totals: dict[tuple[int, int], str] = {}
    value, date_text, words = opt.fmt.value, opt.fmt.date, opt.notes
    parts: dict[tuple, str] = {}
    out = []
    for m in reversed(data.meetings):
        people: dict[str, list[str]] = {}
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
            key = (title, total, a.missing, a.voided)
            part = parts.get(key)
            if part is None:
                part = parts[key] = fragments.answer(title, total, a.missing, a.voided, words)
            line = people.get(name)
            if line is None:
                people[name] = [part]
            else:
                line.append(part)
        out.append(TimelineMeeting(str(m.id), m.number, m.type, date_text(m.held_on),
                                   fragments.answered(people, words)))
    return out
