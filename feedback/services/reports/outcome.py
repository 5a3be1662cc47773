"""Outcome by cohort: did the children get better? (decision 19, docs/decisions.md "Reports").

The unit is the episode: one respondent's series in one family within one
case. SQL reduces the answers to one row per episode (first and last
non-faces total, with their dates and versions, and the episode's start);
the cohort figures are sums over those rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from feedback import clock
from feedback.extensions import db
from feedback.instruments import signals
from feedback.models import Case, InstrumentVersion, Meeting, Participant, Response, Team
from feedback.services import access
from feedback.services.actors import Actor
from feedback.services.exports.filters import DataFilters
from feedback.services.exports.rows import raw
from feedback.services.reports import stats
from feedback.services.reports.common import (
    COUNT,
    NUMBER,
    ROLE,
    SHARE,
    STAT,
    Column,
    LeftOut,
    Option,
    Periods,
    Report,
    Table,
    period_label,
    responses,
    role_name,
    role_of,
    versions,
)

NAME = "outcome"
TITLE = _l("Outcome by cohort")
DESCRIPTION = _l("Did the children get better? First and last totals, change and effect size "
                 "per cohort of cases.")
OPTIONS = (
    Option("family", _l("Questionnaire family"), "choice", "outcome"),
    Option("cohort", _l("Cohorts"), "choice", "half", ("quarter", "half", "year")),
    Option("anchor", _l("Cohorts start on (MM-DD)"), "anchor", "01-01",
           hint=_l("For example 04-01 for half-years from 1 April and 1 October.")),
    Option("cohort_by", _l("Cohort by"), "choice", "opened", ("opened", "episode_start")),
    Option("closed_by", _l("Closed by"), "date", None,
           hint=_l("An episode counts as closed when its case closed on or before this day "
                   "(default: today).")),
)
FORMULAS = (
    _l("Episode: one respondent's ratings in one questionnaire family within one case."),
    _l("First and last total: the totals at the first and the last rated meeting, from the "
       "non-faces versions only; episodes with fewer than two such totals are counted but "
       "left out of every change figure."),
    _l("Change = last total − first total. Mean change = the mean over episodes with two or "
       "more totals."),
    _l("Effect size = mean change ÷ the sample standard deviation (n − 1) of the first totals "
       "of the same episodes."),
    _l("Reliably improved: change ≥ +5.0 points; reliably deteriorated: change ≤ −5.0 points; "
       "shares of the episodes with two or more totals."),
    _l("Crossed the cut-off upwards: below the cut-off for the subject's age at the first "
       "rating and at or above the cut-off for the age at the last; share of the episodes with "
       "a cut-off at both ratings."),
    _l("Coverage = cases in the cohort with at least one rating by this respondent / cases in "
       "the cohort."),
    _l("Closed: the case closed on or before the closed-by date; other episodes are shown "
       "separately as still open."),
)


@dataclass
class Episode:
    """One episode as the SQL gives it, with what the figures need."""

    case_id: str
    role: str
    team: str
    opened_on: date
    closed_on: date | None
    start: date
    ratings: int
    totals: int
    first: int | None
    last: int | None
    cut_first: int | None
    cut_last: int | None
    #: The day of the last non-faces total.
    last_on: date | None = None

    @property
    def change(self) -> int | None:
        """Last minus first total (tenths), for episodes with two or more totals."""
        return self.last - self.first if self.totals >= 2 else None


def _age(birth_year: int, birth_month: int | None, day: date) -> int:
    month = birth_month or 7
    return day.year - birth_year - (0 if (day.month, day.day) >= (month, 1) else 1)


def episodes(actor: Actor, filters: DataFilters, family: str) -> tuple[list[Episode], int]:
    """Every episode in ``family`` the actor may see, and the responses without a total."""
    defs = versions(family=family)
    psychometric = [vid for vid, d in defs.items() if d.psychometric]
    rater = func.coalesce(Response.participant_id, Response.staff_user_id)
    # 0: no total (a skipped item), 1: a faces version, 2: a total that counts in figures.
    kind = case((Response.total_tenths.is_(None), 0),
                *([(Response.instrument_version_id.in_(psychometric), 2)] if psychometric
                  else []), else_=1)
    order = (Meeting.held_on, Meeting.created_at, Response.submitted_at)
    window = (Case.id, rater, kind)
    inner = responses(
        actor, filters,
        raw(Case.id, "case_id"), rater.label("rater"), Participant.role.label("role"),
        Team.name.label("team"), Case.opened_on, Case.closed_on, Case.child_birth_year,
        Case.child_birth_month, Meeting.held_on, Response.total_tenths,
        raw(Response.instrument_version_id, "version_id"), Response.subject,
        kind.label("kind"),
        func.row_number().over(partition_by=window, order_by=order).label("rf"),
        func.row_number().over(partition_by=window,
                               order_by=[c.desc() for c in order]).label("rl"),
    ).where(InstrumentVersion.family == family).subquery()

    def at(which, column):
        return func.max(case((((inner.c.kind == 2) & (which == 1)), column), else_=None))

    def count(condition):
        return func.sum(case((condition, 1), else_=0))

    stmt = (
        select(inner.c.case_id, func.max(inner.c.role), inner.c.team,
               inner.c.opened_on, inner.c.closed_on, inner.c.child_birth_year,
               inner.c.child_birth_month,
               func.min(case((inner.c.kind > 0, inner.c.held_on), else_=None)),
               count(inner.c.kind > 0), count(inner.c.kind == 2), count(inner.c.kind == 0),
               at(inner.c.rf, inner.c.total_tenths), at(inner.c.rf, inner.c.held_on),
               at(inner.c.rf, inner.c.version_id), at(inner.c.rl, inner.c.total_tenths),
               at(inner.c.rl, inner.c.held_on), at(inner.c.rl, inner.c.version_id),
               func.max(inner.c.subject))
        .group_by(inner.c.case_id, inner.c.rater, inner.c.team, inner.c.opened_on,
                  inner.c.closed_on, inner.c.child_birth_year, inner.c.child_birth_month)
    )
    found = []
    skipped = 0
    # A version's id as the database gives it → its definition (a few versions, many rows).
    by_raw: dict = {}
    for (case_id, role, team, opened, closed, year, month, start, n, n_psych, n_skipped, first,
         first_on, first_version, last, last_on, last_version, subject) in db.session.execute(stmt):
        skipped += n_skipped
        if not n:  # only skipped questionnaires: no episode
            continue
        role = role_of(role)
        cut_first = cut_last = None
        if n_psych >= 2:
            cut_first, cut_last = (
                signals.cutoff_tenths(_definition(by_raw, defs, version), subject=subject,
                                      role=role, child_age=_age(year, month, _as_date(day)))
                for version, day in ((first_version, first_on), (last_version, last_on)))
        found.append(Episode(str(case_id), role, team, _as_date(opened), _as_date(closed),
                             _as_date(start), n, n_psych, first, last, cut_first, cut_last,
                             _as_date(last_on)))
    return found, skipped


def _definition(by_raw: dict, defs: dict, version):
    found = by_raw.get(version)
    if found is None:
        found = by_raw[version] = defs[uuid.UUID(str(version))]
    return found


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def cases_in_scope(actor: Actor, filters: DataFilters) -> list[tuple[str, date, date | None]]:
    """Every case the actor may report on under the case filters: (id, opened, closed)."""
    stmt = select(Case.id, Case.opened_on, Case.closed_on).where(
        access.data_filter(actor), *filters.case_conditions())
    return [(str(i), o, c) for i, o, c in db.session.execute(stmt)]


def figures(group: list[Episode]) -> dict:
    """Every figure of one cell (a cohort and role) from its episodes."""
    rated = [e for e in group if e.totals >= 2]
    changes = [e.change / 10 for e in rated]
    firsts = [e.first / 10 for e in rated]
    with_cut = [e for e in rated if e.cut_first is not None and e.cut_last is not None]
    return {
        "episodes": len(group),
        "two_or_more": len(rated),
        "mean_first": stats.mean(firsts),
        "mean_last": stats.mean([e.last / 10 for e in rated]),
        "mean_change": stats.mean(changes),
        "effect_size": stats.effect_size(changes, firsts),
        "improved": stats.share(sum(e.change >= stats.RELIABLE_TENTHS for e in rated),
                                len(rated)),
        "deteriorated": stats.share(sum(e.change <= -stats.RELIABLE_TENTHS for e in rated),
                                    len(rated)),
        "crossed": stats.share(sum(e.first < e.cut_first and e.last >= e.cut_last
                                   for e in with_cut), len(with_cut)),
    }


COLUMNS = (
    Column("cohort", _l("Cohort")), Column("role", _l("Respondent"), ROLE),
    Column("episodes", _l("Episodes"), COUNT),
    Column("two_or_more", _l("With 2+ ratings"), COUNT),
    Column("mean_first", _l("Mean first"), NUMBER), Column("mean_last", _l("Mean last"), NUMBER),
    Column("mean_change", _l("Mean change"), NUMBER),
    Column("effect_size", _l("Effect size"), STAT),
    Column("improved", _l("Reliably improved"), SHARE),
    Column("deteriorated", _l("Reliably deteriorated"), SHARE),
    Column("crossed", _l("Crossed the cut-off"), SHARE),
    Column("coverage", _l("Coverage"), SHARE),
)

#: The columns that rest on the episodes with two or more totals.
CHANGE_FIGURES = ("two_or_more", "mean_first", "mean_last", "mean_change", "effect_size",
                  "improved", "deteriorated", "crossed")


def build(actor: Actor, filters: DataFilters, options: dict) -> Report:
    """The outcome-by-cohort report."""
    family = options["family"]
    if not filters.roles:  # the child's own ratings unless another role is chosen
        filters = DataFilters(**{**filters.__dict__, "roles": ("child",)})
    closed_by = options["closed_by"] or clock.today()
    periods = Periods(options["cohort"], options["anchor"])
    by_start = options["cohort_by"] == "episode_start"
    found, skipped = episodes(actor, filters, family)
    all_cases = cases_in_scope(actor, filters)

    def closed(closed_on):
        return closed_on is not None and closed_on <= closed_by

    starts: dict[date, date] = {}  # a day → its cohort's start (many episodes share a day)

    def start_of(day: date) -> date:
        found = starts.get(day)
        if found is None:
            found = starts[day] = periods.start_of(day)
        return found

    tables = []
    chart, chart_children = [], []
    for status, title in (("closed", _l("Closed episodes")), ("open", _l("Still open"))):
        cohorts: dict[date, list[Episode]] = {}
        for e in found:
            if closed(e.closed_on) == (status == "closed"):
                cohorts.setdefault(start_of(e.start if by_start else e.opened_on), []).append(e)
        cases = [c for c in all_cases if closed(c[2]) == (status == "closed")]
        rows, children = [], []
        for start in sorted(cohorts):
            end = periods.between(start, start)[0]
            in_cohort = cohorts[start]
            if by_start:  # cases open at some time in the period
                denominator = sum(1 for _, o, c in cases if o < end[1] and
                                  (c is None or c >= start))
            else:
                denominator = sum(1 for _, o, _c in cases if start_of(o) == start)
            for role in sorted({e.role for e in in_cohort}):
                group = [e for e in in_cohort if e.role == role]
                f = figures(group)
                coverage = stats.share(len({e.case_id for e in group}), denominator)
                rows.append((period_label(end), role, f["episodes"],
                             f["two_or_more"], f["mean_first"], f["mean_last"],
                             f["mean_change"], f["effect_size"], f["improved"],
                             f["deteriorated"], f["crossed"], coverage))
                rated = len({e.case_id for e in group if e.totals >= 2})
                children.append({("episodes", "coverage"): len({e.case_id for e in group}),
                                 CHANGE_FIGURES: rated})
                if status == "closed" and f["mean_change"] is not None:
                    chart.append((f"{period_label(end)} · {role_name(role)}",
                                  f["mean_first"], f["mean_last"]))
                    chart_children.append(rated)
        tables.append(Table(status, title, COLUMNS, rows, children=children))
    one_rating = sum(1 for e in found if e.totals == 1)
    faces_only = sum(1 for e in found if e.totals == 0)
    faces_ratings = sum(e.ratings - e.totals for e in found)
    open_count = sum(1 for e in found if not closed(e.closed_on))
    return Report(
        name=NAME, title=TITLE, formulas=list(FORMULAS), filters=filters, options=options,
        option_labels=[], tables=tables, chart=chart, chart_children=chart_children,
        chart_max=40.0,
        chart_title=_l("Mean first and last total per cohort (closed episodes)"),
        left_out=[
            LeftOut("one_rating", _l("Episodes with only one non-faces total (counted, no "
                                     "change figures)"), one_rating),
            LeftOut("faces_only", _l("Episodes with only faces versions (counted, no change "
                                     "figures)"), faces_only),
            LeftOut("faces_ratings", _l("Ratings on a faces version (never in change "
                                        "figures)"), faces_ratings),
            LeftOut("open_episodes", _l("Episodes whose case was not closed by the closed-by "
                                        "date (shown separately)"), open_count),
            LeftOut("skipped", _l("Questionnaires with a skipped item (no total)"), skipped),
        ],
    )


