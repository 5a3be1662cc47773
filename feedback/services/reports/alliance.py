"""Session alliance: mean session totals and the share under the cut-off, by period and team.

SQL counts the totals per period, team, version and total (at most 401
totals per version), so the mean and the share under the cut-off are exact
sums over a small table.
"""

from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from feedback.extensions import db
from feedback.models import InstrumentVersion, Meeting, Response, Team
from feedback.services.actors import Actor
from feedback.services.exports.filters import DataFilters
from feedback.services.exports.rows import raw
from feedback.services.reports import stats
from feedback.services.reports.common import (
    COUNT,
    NUMBER,
    SHARE,
    Column,
    LeftOut,
    Option,
    Periods,
    Report,
    Table,
    meeting_range,
    period_label,
    responses,
    versions,
)

NAME = "alliance"
TITLE = _l("Session alliance")
DESCRIPTION = _l("Mean session totals and the share under the cut-off, by period and team.")
OPTIONS = (
    Option("family", _l("Questionnaire family"), "choice", "session"),
    Option("period", _l("Periods"), "choice", "quarter", ("month", "quarter", "half", "year")),
    Option("anchor", _l("Periods start on (MM-DD)"), "anchor", "01-01"),
)
FORMULAS = (
    _l("n = session questionnaires with a total (a skipped item means no total)."),
    _l("Mean total = the sum of the totals ÷ n, on the 0–40 scale."),
    _l("Share under the cut-off = totals below the questionnaire's cut-off (SRS: 36) ÷ the "
       "totals of questionnaires that have one. CSRS has no published cut-off and the faces "
       "versions none: their totals count in the mean but not in the share."),
)
COLUMNS = (
    Column("period", _l("Period")), Column("team", _l("Team")),
    Column("instrument", _l("Questionnaire")), Column("n", _l("n"), COUNT),
    Column("mean_total", _l("Mean total"), NUMBER),
    Column("under_cutoff", _l("Share under the cut-off"), SHARE),
)


def build(actor: Actor, filters: DataFilters, options: dict) -> Report:
    """The session-alliance report."""
    family = options["family"]
    defs = versions(family=family)
    shape = Periods(options["period"], options["anchor"])
    periods = shape.between(*meeting_range(actor, filters, InstrumentVersion.family == family))
    bucket = shape.bucket(Meeting.held_on, periods).label("period")
    group = (bucket, Team.name, InstrumentVersion.key,
             raw(Response.instrument_version_id, "version_id"), Response.total_tenths)
    stmt = responses(actor, filters, *group, func.count()).where(
        InstrumentVersion.family == family, Response.total_tenths.is_not(None)).group_by(*group)
    cells: dict[tuple, list[int]] = {}
    for period, team, key, version, total, n in db.session.execute(stmt):
        if not 0 <= period < len(periods):
            continue
        cut = defs[uuid.UUID(str(version))].cutoff_for(None)
        cell = cells.setdefault((period, team, key), [0, 0, 0, 0])
        cell[0] += n
        cell[1] += total * n
        if cut is not None:
            cell[2] += n
            cell[3] += n if total < cut else 0
    rows = [(period_label(periods[p]), team, key, n, s / n / 10, stats.share(under, with_cut))
            for (p, team, key), (n, s, with_cut, under) in sorted(cells.items())]
    scope = (InstrumentVersion.family == family, Response.total_tenths.is_not(None))
    cases = {tuple(r[:3]): r[3] for r in db.session.execute(responses(
        actor, filters, bucket, Team.name, InstrumentVersion.key,
        func.count(func.distinct(Meeting.case_id))).where(*scope)
        .group_by(bucket, Team.name, InstrumentVersion.key))}
    team_cases = dict(db.session.execute(responses(
        actor, filters, Team.name, func.count(func.distinct(Meeting.case_id))).where(
        *scope).group_by(Team.name)).all())
    skipped = db.session.scalar(responses(actor, filters, func.count()).where(
        InstrumentVersion.family == family, Response.total_tenths.is_(None)))
    by_team: dict[str, list[int]] = {}
    for (_, team, _), (n, s, _, _) in cells.items():
        t = by_team.setdefault(team, [0, 0])
        t[0] += n
        t[1] += s
    return Report(
        name=NAME, title=TITLE, formulas=list(FORMULAS), filters=filters, options=options,
        option_labels=[], tables=[Table("sessions", _l("By period, team and questionnaire"),
                                        COLUMNS, rows,
                                        children=[cases.get(k, 0) for k in sorted(cells)])],
        chart=[(team, s / n / 10, None) for team, (n, s) in sorted(by_team.items())],
        chart_children=[team_cases.get(team, 0) for team in sorted(by_team)],
        chart_max=40.0, chart_title=_l("Mean session total per team, all periods"),
        left_out=[LeftOut("skipped", _l("Questionnaires with a skipped item (no total)"),
                          skipped)],
    )
