"""The caseworker's list and the team lead's overview: each case's latest scores and signals.

A few queries for the whole list whatever the number of cases and meetings:
the visible cases (audited once), their outcome and session totals, the day
of each case's latest rating and its next meeting. Signals are the same rules
as on the case page (instruments/signals.py), per episode.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from feedback import clock
from feedback.extensions import db
from feedback.instruments import signals
from feedback.models import (
    Case,
    InstrumentVersion,
    Meeting,
    Participant,
    Response,
    ResponseVoid,
)
from feedback.services import cases
from feedback.services.actors import Actor
from feedback.services.instruments import by_version_id
from feedback.services.trajectories import ROLE_ORDER

SORTS = ("reference", "signals", "days", "next")


@dataclass
class Latest:
    """One respondent's latest outcome total in a case."""

    role: str
    label: str | None
    total_tenths: int
    psychometric: bool


@dataclass
class CaseRow:
    """A case in the list, with what the caseworker needs to see at a glance."""

    case: Case
    meetings: int
    latest: list[Latest] = field(default_factory=list)
    #: (role, label, signal kind), in the order of the respondents.
    signals: list[tuple[str, str | None, str]] = field(default_factory=list)
    last_rating: date | None = None
    days_since: int | None = None
    next_meeting: date | None = None


def case_rows(actor: Actor, *, sort: str = "reference", text: str = "",
              only_signals: bool = False, stale_days: int | None = None,
              status: str = "open", after: int = signals.NOT_ON_TRACK_AFTER) -> list[CaseRow]:
    """The actor's cases with latest scores, signals, days since a rating and the next meeting."""
    today = clock.today()
    rows = [CaseRow(case, n) for case, n, _last in cases.list_cases(actor)]
    if status in ("open", "closed"):
        rows = [r for r in rows if r.case.is_open == (status == "open")]
    text = (text or "").strip().casefold()
    if text:
        rows = [r for r in rows if text in r.case.reference.casefold()]
    by_id = {r.case.id: r for r in rows}
    if by_id:
        _fill(by_id, today, after)
    if only_signals:
        rows = [r for r in rows if r.signals]
    if stale_days is not None:
        rows = [r for r in rows if r.days_since is None or r.days_since > stale_days]
    far = date.max
    keys = {
        "reference": lambda r: r.case.reference.casefold(),
        "signals": lambda r: (-len(r.signals), r.case.reference.casefold()),
        "days": lambda r: (-(r.days_since if r.days_since is not None else 10**6),
                           r.case.reference.casefold()),
        "next": lambda r: (r.next_meeting or far, r.case.reference.casefold()),
    }
    rows.sort(key=keys.get(sort, keys["reference"]))
    return rows


def _fill(by_id: dict[uuid.UUID, CaseRow], today: date, after: int) -> None:
    ids = list(by_id)
    totals = db.session.execute(
        select(Meeting.case_id, Response.participant_id, Participant.role, Participant.label,
               InstrumentVersion.family, Response.total_tenths, Response.instrument_version_id)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .join(Participant, Participant.id == Response.participant_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
        .where(Meeting.case_id.in_(ids), ResponseVoid.response_id.is_(None),
               Response.total_tenths.is_not(None),
               InstrumentVersion.family.in_(("outcome", "session")))
        .order_by(Meeting.held_on, Meeting.created_at, Response.submitted_at))
    episodes: dict[tuple, list] = {}
    for row in totals:
        pack = by_version_id(row.instrument_version_id)
        episodes.setdefault((row.case_id, row.family, row.participant_id), []).append(
            (row.role.value, row.label, row.total_tenths, pack))
    ordered = sorted(episodes.items(), key=lambda item: ROLE_ORDER.get(item[1][0][0], 9))
    for (case_id, family, _who), ratings in ordered:
        row = by_id[case_id]
        role, label = ratings[0][0], ratings[0][1]
        series = [(t, pack.psychometric) for _r, _l, t, pack in ratings]
        if family == "outcome":
            last = ratings[-1]
            row.latest.append(Latest(role, label, last[2], last[3].psychometric))
            rc = last[3].reliable_change_tenths or signals.RELIABLE_CHANGE_TENTHS
            found = signals.outcome_signals(series, after=after, reliable_change_tenths=rc)
        else:
            case = row.case
            last = ratings[-1]
            cutoff = signals.cutoff_tenths(last[3], subject="child", role=role,
                                           child_age=case.child_age_on(today))
            found = signals.session_signals(series, cutoff)
        row.signals += [(role, label, s.kind) for s in found]
    for case_id, last in db.session.execute(
            select(Meeting.case_id, func.max(Meeting.held_on))
            .join(Response, Response.meeting_id == Meeting.id)
            .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
            .where(Meeting.case_id.in_(ids), ResponseVoid.response_id.is_(None))
            .group_by(Meeting.case_id)):
        by_id[case_id].last_rating = last
        by_id[case_id].days_since = (today - last).days
    for case_id, upcoming in db.session.execute(
            select(Meeting.case_id, func.min(Meeting.held_on))
            .where(Meeting.case_id.in_(ids), Meeting.held_on >= today)
            .group_by(Meeting.case_id)):
        by_id[case_id].next_meeting = upcoming


__all__ = ["SORTS", "CaseRow", "Latest", "case_rows"]
