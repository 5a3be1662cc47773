"""Satisfaction with the child's smiley questionnaire: per item, by period and team.

One SQL query per grouping counts answers, sums values and counts the top
(9–10) and bottom (1–3) answers and the distinct children; nothing is read
answer by answer.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func

from feedback.extensions import db
from feedback.labels import text
from feedback.models import Answer, InstrumentVersion, Meeting, Response, Team
from feedback.services.actors import Actor
from feedback.services.exports.filters import DataFilters
from feedback.services.instruments import current
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
)

NAME = "satisfaction"
TITLE = _l("The child's satisfaction")
DESCRIPTION = _l("The child's smiley questionnaire: mean, share answering 9–10 and share "
                 "answering 1–3 per item, by period and team.")
OPTIONS = (
    Option("instrument", _l("Questionnaire"), "choice", "child-meeting"),
    Option("period", _l("Periods"), "choice", "half", ("month", "quarter", "half", "year")),
    Option("anchor", _l("Periods start on (MM-DD)"), "anchor", "01-01"),
)
FORMULAS = (
    _l("n = answers to the item (skipped items are not answers)."),
    _l("Mean = the sum of the answers ÷ n, on the questionnaire's 1–10 scale."),
    _l("Share 9–10 = answers of 9 or 10 ÷ n; share 1–3 = answers from 1 to 3 ÷ n."),
    _l("Children = distinct children who answered the item; responses per child = n ÷ "
       "children."),
)
COLUMNS = (
    Column("period", _l("Period")), Column("team", _l("Team")), Column("item", _l("Item")),
    Column("n", _l("n"), COUNT), Column("mean", _l("Mean"), NUMBER),
    Column("top", _l("Share 9–10"), SHARE), Column("bottom", _l("Share 1–3"), SHARE),
    Column("children", _l("Children"), COUNT),
    Column("per_child", _l("Responses per child"), NUMBER),
)


def build(actor: Actor, filters: DataFilters, options: dict) -> Report:
    """The satisfaction report."""
    key = options["instrument"]
    pack = current(key)
    labels = {i.key: text(i.label) or text(i.text) for i in pack.items}
    order = {i.key: n for n, i in enumerate(pack.items)}
    periods = Periods(options["period"], options["anchor"]).between(
        *meeting_range(actor, filters, InstrumentVersion.key == key))
    bucket = Periods(options["period"], options["anchor"]).bucket(Meeting.held_on, periods)
    value = Answer.value_tenths
    tables = []
    everyone = str(_l("All teams"))
    overall: dict[str, list[int]] = {}
    rows = []
    for by_team in (False, True):
        group = [bucket.label("period"), Answer.item_key]
        if by_team:
            group.append(Team.name)
        stmt = responses(
            actor, filters, *group, func.count(value), func.sum(value),
            func.sum(case((value >= 90, 1), else_=0)), func.sum(case((value <= 30, 1), else_=0)),
            func.count(func.distinct(Response.participant_id)),
        ).join(Answer, Answer.response_id == Response.id).where(
            InstrumentVersion.key == key, value.is_not(None)).group_by(*group)
        for row in db.session.execute(stmt):
            period, item, n, total, top, bottom, children = (*row[:2], *row[-5:])
            team = row[2] if by_team else everyone
            if not 0 <= period < len(periods):
                continue
            rows.append((period, not by_team, team, order.get(item, 99), (
                period_label(periods[period]), team, labels.get(item, item), n,
                total / n / 10 if n else None,
                stats.share(top, n), stats.share(bottom, n), children,
                stats.share(n, children))))
            if not by_team:
                sums = overall.setdefault(item, [0, 0])
                sums[0] += n
                sums[1] += top
    rows.sort(key=lambda r: (r[0], not r[1], r[2], r[3]))
    tables.append(Table("items", _l("Items by period and team"), COLUMNS, [r[4] for r in rows],
                        children=[r[4][7] for r in rows], groups=[(r[0], r[3]) for r in rows],
                        totals={i for i, r in enumerate(rows) if r[1]}))
    per_item = dict(db.session.execute(responses(
        actor, filters, Answer.item_key, func.count(func.distinct(Response.participant_id)))
        .join(Answer, Answer.response_id == Response.id)
        .where(InstrumentVersion.key == key, value.is_not(None))
        .group_by(Answer.item_key)).all())
    missing = db.session.execute(responses(
        actor, filters, Answer.missing_code, func.count()).join(
        Answer, Answer.response_id == Response.id).where(
        InstrumentVersion.key == key, value.is_(None)).group_by(Answer.missing_code)).all()
    return Report(
        name=NAME, title=TITLE, formulas=list(FORMULAS), filters=filters, options=options,
        option_labels=[], tables=tables,
        chart=[(labels.get(item, item), stats.share(top, n), None)
               for item, (n, top) in sorted(overall.items(), key=lambda kv: order.get(kv[0], 99))],
        chart_children=[per_item.get(item, 0) for item in
                        sorted(overall, key=lambda k: order.get(k, 99))],
        chart_max=1.0, chart_title=_l("Share answering 9–10 per item, all periods and teams"),
        left_out=[LeftOut(f"items_{code}", _l("Items not answered (%(code)s)", code=code), n)
                  for code, n in missing] or [
            LeftOut("items_skipped", _l("Items not answered (skipped)"), 0)],
    )
