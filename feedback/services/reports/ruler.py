"""The child ruler: ratings by party and band, and how often the parties disagree.

Disagreement (decision in docs/decisions.md "Reports"): at one meeting, the
largest minus the smallest rating among the parties who rated is 3 points
or more. Both the band counts and the per-meeting spread are SQL groupings.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from feedback.extensions import db
from feedback.labels import text
from feedback.models import InstrumentVersion, Meeting, Participant, Response
from feedback.services.actors import Actor
from feedback.services.exports.filters import DataFilters
from feedback.services.exports.rows import raw
from feedback.services.instruments import current
from feedback.services.reports import stats
from feedback.services.reports.common import (
    COUNT,
    NUMBER,
    ROLE,
    SHARE,
    Column,
    LeftOut,
    Option,
    Report,
    Table,
    responses,
    role_name,
    role_of,
)

NAME = "ruler"
TITLE = _l("The child ruler")
DESCRIPTION = _l("Ratings of the child's well-being by party and band, and how often the "
                 "parties disagree by 3 points or more.")
#: Disagreement: the spread of the parties' ratings at one meeting, in tenths.
DISAGREE_TENTHS = 30
OPTIONS = (Option("instrument", _l("Questionnaire"), "choice", "child-ruler"),)
FORMULAS = (
    _l("Bands: 1–2 threatened, 3–5 at risk, 6–7 vulnerable, 8–9 moderate well-being, "
       "10 thriving; share = ratings in the band ÷ the party's ratings."),
    _l("Disagreement: at a meeting where two or more parties rated, the largest minus the "
       "smallest rating is 3 points or more; share = such meetings ÷ meetings with two or "
       "more parties."),
)
BAND_COLUMNS = (
    Column("role", _l("Party"), ROLE), Column("band", _l("Band")),
    Column("n", _l("Ratings"), COUNT),
    Column("share", _l("Share of the party's ratings"), SHARE),
)
DISAGREE_COLUMNS = (
    Column("meetings", _l("Meetings with 2+ parties"), COUNT),
    Column("disagree", _l("Meetings with a spread of 3+"), COUNT),
    Column("disagree_share", _l("Share"), SHARE),
    Column("mean_spread", _l("Mean spread"), NUMBER),
)


def build(actor: Actor, filters: DataFilters, options: dict) -> Report:
    """The child-ruler report."""
    key = options["instrument"]
    pack = current(key)
    bands = list(pack.bands) or []
    band_of = case(*[(Response.total_tenths <= b.max_tenths, n) for n, b in enumerate(bands)],
                   else_=len(bands)) if bands else case((Response.total_tenths.is_(None), 0),
                                                        else_=0)
    scope = (InstrumentVersion.key == key, Response.total_tenths.is_not(None))
    stmt = responses(actor, filters, Participant.role, band_of.label("band"), func.count(),
                     func.count(func.distinct(Meeting.case_id))
                     ).where(*scope).group_by(Participant.role, band_of)
    counts: dict[str, dict[int, int]] = {}
    band_cases: dict[tuple[str, int], int] = {}
    for role, band, n, cases in db.session.execute(stmt):
        counts.setdefault(role_of(role), {})[band] = n
        band_cases[(role_of(role), band)] = cases
    role_cases = {role_of(r): n for r, n in db.session.execute(responses(
        actor, filters, Participant.role, func.count(func.distinct(Meeting.case_id)))
        .where(*scope).group_by(Participant.role))}
    rows, children = [], []
    for role in sorted(counts):
        total = sum(counts[role].values())
        for n, band in enumerate(bands):
            found = counts[role].get(n, 0)
            rows.append((role, text(band.label), found,
                         stats.share(found, total)))
            children.append(band_cases.get((role, n), 0))
    rater = func.coalesce(raw(Response.participant_id), raw(Response.staff_user_id))
    per_meeting = responses(
        actor, filters, Meeting.id.label("meeting"), Meeting.case_id.label("case_id"),
        func.count(func.distinct(rater)).label("parties"),
        (func.max(Response.total_tenths) - func.min(Response.total_tenths)).label("spread"),
    ).where(*scope).group_by(Meeting.id, Meeting.case_id).subquery()
    meetings, disagree, spread, disagree_cases = db.session.execute(
        select(func.count(), func.sum(case((per_meeting.c.spread >= DISAGREE_TENTHS, 1),
                                           else_=0)),
               func.sum(per_meeting.c.spread), func.count(func.distinct(per_meeting.c.case_id)))
        .where(per_meeting.c.parties >= 2)).one()
    alone = db.session.scalar(select(func.count()).select_from(per_meeting).where(
        per_meeting.c.parties < 2))
    disagree = disagree or 0
    return Report(
        name=NAME, title=TITLE, formulas=list(FORMULAS), filters=filters, options=options,
        option_labels=[], tables=[
            Table("bands", _l("Ratings by party and band"), BAND_COLUMNS, rows,
                  children=children),
            Table("disagreement", _l("Disagreement between parties"), DISAGREE_COLUMNS,
                  [(meetings, disagree, stats.share(disagree, meetings),
                    spread / meetings / 10 if meetings else None)],
                  children=[disagree_cases]),
        ],
        chart=[(f"{role_name(role)}", stats.share(
            sum(v for b, v in counts[role].items() if b < 2), sum(counts[role].values())), None)
            for role in sorted(counts)],
        chart_children=[role_cases.get(role, 0) for role in sorted(counts)],
        chart_max=1.0, chart_title=_l("Share of each party's ratings in the two lowest bands "
                                      "(1–5)"),
        left_out=[LeftOut("single_party", _l("Meetings where only one party rated (not in the "
                                             "disagreement figures)"), alone or 0)],
    )
