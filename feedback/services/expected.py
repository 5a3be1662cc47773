"""Expected ranges (decision 20): computed from closed episodes, read by the case page.

:func:`compute` replaces the table from the organisation's closed cases; it
runs nightly (``flask expected-range compute``, deploy/systemd) and when a
case closes. A page view only reads the table (:func:`for_page`), never
computes.
"""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select

from feedback import clock
from feedback.extensions import db
from feedback.instruments import signals
from feedback.models import (
    Case,
    ExpectedRange,
    ExpectedRangeBase,
    InstrumentVersion,
    Meeting,
    Participant,
    Response,
    ResponseVoid,
)
from feedback.services.instruments import by_version_id
from feedback.services.uow import begin_write

#: The families expected ranges are computed for.
FAMILIES = ("outcome",)


def closed_episodes(organisation_id, family: str) -> dict[str, list[list[int]]]:
    """Counted totals of every closed episode of ``family``, by respondent role."""
    stmt = (
        select(Response.participant_id, Participant.role, Response.total_tenths,
               Response.instrument_version_id)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .join(Case, Case.id == Meeting.case_id)
        .join(Participant, Participant.id == Response.participant_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
        .where(Case.organisation_id == organisation_id, Case.closed_on.is_not(None),
               InstrumentVersion.family == family, Response.total_tenths.is_not(None),
               ResponseVoid.response_id.is_(None))
        .order_by(Response.participant_id, Meeting.held_on, Meeting.created_at,
                  Response.submitted_at)
    )
    episodes: dict = {}
    roles: dict = {}
    for row in db.session.execute(stmt):
        if not by_version_id(row.instrument_version_id).psychometric:
            continue  # faces versions never count (decision 9)
        episodes.setdefault(row.participant_id, []).append(row.total_tenths)
        roles[row.participant_id] = row.role.value
    by_role: dict[str, list[list[int]]] = {}
    for participant_id, totals in episodes.items():
        by_role.setdefault(roles[participant_id], []).append(totals)
    return by_role


def compute(organisation_id) -> int:
    """Replace the organisation's expected ranges; returns the number of ranges stored."""
    found = {family: closed_episodes(organisation_id, family) for family in FAMILIES}
    begin_write()
    db.session.execute(delete(ExpectedRange).where(
        ExpectedRange.organisation_id == organisation_id))
    db.session.execute(delete(ExpectedRangeBase).where(
        ExpectedRangeBase.organisation_id == organisation_id))
    now = clock.now()
    stored = 0
    for family, by_role in found.items():
        for role, episodes in by_role.items():
            usable = sum(1 for e in episodes if len(e) >= 2)
            db.session.add(ExpectedRangeBase(organisation_id=organisation_id, family=family,
                                             role=role, episodes=usable, computed_at=now))
            for r in signals.expected_ranges(episodes):
                db.session.add(ExpectedRange(
                    organisation_id=organisation_id, family=family, role=role, band=r.band,
                    rating=r.rating, p25_tenths=r.p25_tenths, p75_tenths=r.p75_tenths,
                    episodes=r.episodes))
                stored += 1
    db.session.commit()
    return stored


def compute_all() -> dict:
    """Compute for every organisation (the nightly command)."""
    from feedback.models import Organisation

    return {org.name: compute(org.id) for org in db.session.scalars(select(Organisation))}


#: The two statements of :func:`for_page`, built once (the organisation a bound parameter).
_BASES = (select(ExpectedRangeBase.family, ExpectedRangeBase.role, ExpectedRangeBase.episodes)
          .where(ExpectedRangeBase.organisation_id == bindparam("organisation_id"),
                 ExpectedRangeBase.family.in_(FAMILIES)))
_RANGES = (select(ExpectedRange.family, ExpectedRange.role, ExpectedRange.band,
                  ExpectedRange.rating, ExpectedRange.p25_tenths, ExpectedRange.p75_tenths)
           .where(ExpectedRange.organisation_id == bindparam("organisation_id")))


def for_page(case: Case) -> dict:
    """What the case page needs: the ranges, or why none is drawn (two small queries)."""
    org = {"organisation_id": case.organisation_id}
    bases = db.session.execute(_BASES, org).all()
    if not bases:
        return {"expected": None, "expected_reason": "not_computed"}
    have = max(b.episodes for b in bases)
    if have < signals.MIN_EPISODES:
        return {"expected": None, "expected_reason": "too_few",
                "expected_numbers": {"need": signals.MIN_EPISODES, "have": have}}
    enough = {(b.family, b.role) for b in bases if b.episodes >= signals.MIN_EPISODES}
    ranges = {
        (r.family, r.role, r.band, r.rating): (r.p25_tenths, r.p75_tenths)
        for r in db.session.execute(_RANGES, org)
        if (r.family, r.role) in enough
    }
    return {"expected": ranges or None, "expected_reason": "no_match"}
