"""Response rates: questionnaires issued, opened and answered, per instrument, team and period.

Counts questionnaires (the items of invitations), not people or tokens
(decisions 1 and 2). One grouped SQL query; voided answers do not count as
answered.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select

from feedback.extensions import db
from feedback.models import (
    Case,
    InstrumentVersion,
    Invitation,
    InvitationItem,
    InvitationToken,
    Meeting,
    Participant,
    Response,
    Team,
)
from feedback.services import access
from feedback.services.actors import Actor
from feedback.services.exports.filters import DataFilters, counted_responses
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

NAME = "response_rates"
TITLE = _l("Response rates")
DESCRIPTION = _l("Questionnaires issued, opened and answered, per questionnaire, team and "
                 "period.")
OPTIONS = (
    Option("period", _l("Periods"), "choice", "quarter", ("month", "quarter", "half", "year")),
    Option("anchor", _l("Periods start on (MM-DD)"), "anchor", "01-01"),
)
FORMULAS = (
    _l("Issued = questionnaires in invitations (one invitation can hold several), by the "
       "meeting's date."),
    _l("Opened = issued questionnaires whose invitation link was opened at least once."),
    _l("Answered = issued questionnaires with an answer that has not been voided."),
    _l("Response rate = answered ÷ issued; opened rate = opened ÷ issued."),
)
COLUMNS = (
    Column("period", _l("Period")), Column("instrument", _l("Questionnaire")),
    Column("team", _l("Team")), Column("issued", _l("Issued"), COUNT),
    Column("opened", _l("Opened"), COUNT), Column("answered", _l("Answered"), COUNT),
    Column("opened_rate", _l("Opened rate"), SHARE),
    Column("response_rate", _l("Response rate"), SHARE),
)


def _joined(actor: Actor, filters: DataFilters, columns):
    opened = (select(InvitationToken.invitation_id)
              .where(InvitationToken.opened_at.is_not(None))
              .group_by(InvitationToken.invitation_id).subquery())
    answered = (select(Response.invitation_id, Response.instrument_version_id)
                .where(Response.invitation_id.is_not(None), counted_responses())
                .group_by(Response.invitation_id, Response.instrument_version_id).subquery())
    is_answered = answered.c.invitation_id.is_not(None)
    stmt = (
        select(*columns(opened, is_answered))
        .select_from(InvitationItem)
        .join(Invitation, Invitation.id == InvitationItem.invitation_id)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .join(Case, Case.id == Meeting.case_id)
        .join(Team, Team.id == Case.team_id)
        .join(InstrumentVersion, InstrumentVersion.id == InvitationItem.instrument_version_id)
        .join(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(opened, opened.c.invitation_id == Invitation.id)
        .outerjoin(answered, and_(
            answered.c.invitation_id == InvitationItem.invitation_id,
            answered.c.instrument_version_id == InvitationItem.instrument_version_id))
        .where(access.data_filter(actor), *filters.conditions())
    )
    return stmt


def build(actor: Actor, filters: DataFilters, options: dict) -> Report:
    """The response-rate report."""
    shape = Periods(options["period"], options["anchor"])
    first, last = db.session.execute(_joined(
        actor, filters, lambda o, a: (func.min(Meeting.held_on), func.max(Meeting.held_on)))
    ).one()
    periods = shape.between(first, last)
    bucket = shape.bucket(Meeting.held_on, periods).label("period")

    def columns(opened, is_answered):
        return (bucket, InstrumentVersion.key, Team.name, func.count(func.distinct(Case.id)),
                func.count(),
                func.sum(case((or_(opened.c.invitation_id.is_not(None), is_answered), 1),
                              else_=0)),
                func.sum(case((is_answered, 1), else_=0)))

    stmt = _joined(actor, filters, columns).group_by(bucket, InstrumentVersion.key, Team.name)
    rows = []
    totals: dict[str, list[int]] = {}
    for period, key, team, children, issued, opened, answered in db.session.execute(stmt):
        if not 0 <= period < len(periods):
            continue
        rows.append((period, key, team, children, (
            period_label(periods[period]), key, team, issued, opened, answered,
            stats.share(opened, issued), stats.share(answered, issued))))
        t = totals.setdefault(key, [0, 0])
        t[0] += issued
        t[1] += answered
    rows.sort(key=lambda r: r[:3])
    per_key = dict(db.session.execute(_joined(
        actor, filters, lambda o, a: (InstrumentVersion.key, func.count(func.distinct(Case.id))))
        .group_by(InstrumentVersion.key)).all())
    staff = db.session.scalar(responses(actor, filters, func.count()).where(
        Response.invitation_id.is_(None)))
    return Report(
        name=NAME, title=TITLE, formulas=list(FORMULAS), filters=filters, options=options,
        option_labels=[], tables=[Table("rates", _l("By period, questionnaire and team"),
                                        COLUMNS, [r[4] for r in rows],
                                        children=[r[3] for r in rows])],
        chart=[(key, stats.share(a, i), None) for key, (i, a) in sorted(totals.items())],
        chart_children=[per_key.get(key, 0) for key in sorted(totals)],
        chart_max=1.0, chart_title=_l("Response rate per questionnaire, all periods and teams"),
        left_out=[LeftOut("no_invitation", _l("Answers entered without an invitation (staff "
                                               "ratings and imports; not in the rates)"),
                          staff)],
    )
