"""Leaders' view: who got better last quarter, which cases lack a rating, coverage by team.

"Last quarter" is the calendar quarter before the one holding today (from
the one clock). Built on the outcome report's episodes and two grouped
queries over cases.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from feedback import clock
from feedback.extensions import db
from feedback.models import Case, Meeting, Team
from feedback.services import access
from feedback.services.actors import Actor
from feedback.services.exports.filters import DataFilters
from feedback.services.reports import stats
from feedback.services.reports.common import (
    COUNT,
    SHARE,
    Column,
    LeftOut,
    Option,
    Periods,
    Report,
    Table,
    period_label,
    responses,
)
from feedback.services.reports.outcome import episodes

NAME = "leaders"
TITLE = _l("Leaders' view")
DESCRIPTION = _l("Children reliably improved last quarter, cases without a rating in the last "
                 "weeks, and coverage by team.")
OPTIONS = (
    Option("family", _l("Questionnaire family"), "choice", "outcome"),
    Option("weeks", _l("Weeks without a rating"), "int", 8, minimum=1, maximum=104),
)
FORMULAS = (
    _l("Last quarter: the calendar quarter before the one holding today."),
    _l("Reliably improved last quarter: episodes whose last non-faces total fell in the "
       "quarter and is 5.0 points or more above their first; share of the episodes with two "
       "or more totals whose last fell in the quarter."),
    _l("Without a rating: open cases with no answered questionnaire at a meeting in the last "
       "N weeks (including cases with none at all)."),
    _l("Coverage last quarter = cases open at some time in the quarter with at least one "
       "rating in it ÷ cases open at some time in the quarter."),
)
COLUMNS = (
    Column("team", _l("Team")), Column("rated", _l("Episodes rated last quarter"), COUNT),
    Column("improved", _l("Reliably improved"), COUNT),
    Column("improved_share", _l("Share improved"), SHARE),
    Column("open_cases", _l("Open cases"), COUNT),
    Column("without_rating", _l("Without a rating in N weeks"), COUNT),
    Column("coverage", _l("Coverage last quarter"), SHARE),
)


def build(actor: Actor, filters: DataFilters, options: dict) -> Report:
    """The leaders' view."""
    today = clock.today()
    quarters = Periods("quarter", "01-01")
    this_quarter = quarters.start_of(today)
    start = quarters.start_of(this_quarter - timedelta(days=1))
    quarter = (start, this_quarter)
    since = today - timedelta(weeks=options["weeks"])
    if not filters.roles:
        filters = DataFilters(**{**filters.__dict__, "roles": ("child",)})
    found, _ = episodes(actor, filters, options["family"])
    recent = [e for e in found if e.totals >= 2 and e.last_on and start <= e.last_on < quarter[1]]

    open_now = (Case.closed_on.is_(None)) | (Case.closed_on > today)
    latest = (responses(actor, filters, Meeting.case_id.label("case_id"),
                        func.max(Meeting.held_on).label("latest"))
              .group_by(Meeting.case_id).subquery())
    cases = db.session.execute(
        select(Team.name, func.count(), func.count(latest.c.case_id),
               func.sum(case((latest.c.latest >= since, 1), else_=0)))
        .select_from(Case).join(Team, Team.id == Case.team_id)
        .outerjoin(latest, latest.c.case_id == Case.id)
        .where(access.data_filter(actor), *filters.case_conditions(), open_now)
        .group_by(Team.name)).all()
    in_quarter = (Case.opened_on < quarter[1]) & (
        Case.closed_on.is_(None) | (Case.closed_on >= start))
    rated_in_quarter = (responses(actor, filters, Meeting.case_id.label("case_id"))
                        .where(Meeting.held_on >= start, Meeting.held_on < quarter[1])
                        .group_by(Meeting.case_id).subquery())
    coverage = {team: (n, rated) for team, n, rated in db.session.execute(
        select(Team.name, func.count(), func.count(rated_in_quarter.c.case_id))
        .select_from(Case).join(Team, Team.id == Case.team_id)
        .outerjoin(rated_in_quarter, rated_in_quarter.c.case_id == Case.id)
        .where(access.data_filter(actor), *filters.case_conditions(), in_quarter)
        .group_by(Team.name))}
    open_cases = {team: (n, n - (recent_n or 0)) for team, n, _, recent_n in cases}
    rows, children = [], []
    for team in sorted(set(open_cases) | set(coverage) | {e.team for e in recent}):
        mine = [e for e in recent if e.team == team]
        improved = sum(e.change >= stats.RELIABLE_TENTHS for e in mine)
        n_open, without = open_cases.get(team, (0, 0))
        n_quarter, rated = coverage.get(team, (0, 0))
        rows.append((team, len(mine), improved, stats.share(improved, len(mine)), n_open,
                     without, stats.share(rated, n_quarter)))
        children.append({("rated", "improved", "improved_share"): len({e.case_id for e in mine}),
                         ("open_cases", "without_rating"): n_open, ("coverage",): n_quarter})
    return Report(
        name=NAME, title=TITLE, formulas=list(FORMULAS), filters=filters, options=options,
        option_labels=[(_l("Last quarter"), period_label(quarter)),
                       (_l("Without a rating since"), since.isoformat())],
        tables=[Table("teams", _l("By team"), COLUMNS, rows, children=children)],
        chart=[(r[0], r[6], None) for r in rows], chart_max=1.0,
        chart_children=[c[("coverage",)] for c in children],
        chart_title=_l("Coverage last quarter per team"),
        left_out=[LeftOut("one_rating", _l("Episodes with only one non-faces total (not in the "
                                           "improvement figures)"),
                          sum(1 for e in found if e.totals < 2))],
    )
