"""Themed Likert packs: theme means per wave and Welch's t-test between two waves.

A wave is a named period the analyst defines (decision 36). Theme means are
given two ways: the mean of the item means, and the mean of the respondents'
theme indices (a respondent's index = the mean of their answered items in
the theme; their last response in the wave counts). Welch's test compares
the respondent indices of two waves.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func

from feedback.extensions import db
from feedback.labels import text
from feedback.models import Answer, InstrumentVersion, Meeting, Response
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from feedback.services.exports.filters import DataFilters
from feedback.services.exports.rows import raw
from feedback.services.instruments import current
from feedback.services.reports import stats
from feedback.services.reports.common import (
    COUNT,
    NUMBER,
    STAT,
    Column,
    LeftOut,
    Option,
    Report,
    Table,
    responses,
)

NAME = "likert"
TITLE = _l("Themes by wave")
DESCRIPTION = _l("Themed questionnaires: theme means per wave, and Welch's t-test between two "
                 "waves.")
OPTIONS = (
    Option("instrument", _l("Questionnaire"), "choice", "parent-coordination"),
    Option("waves", _l("Waves"), "text", "",
           hint=_l("One wave a line: name=YYYY-MM-DD..YYYY-MM-DD, for example "
                   "baseline=2025-01-01..2025-06-30")),
    Option("wave_a", _l("Compare wave"), "text", ""),
    Option("wave_b", _l("with wave"), "text", ""),
)
FORMULAS = (
    _l("Wave: a named period of meeting dates; waves may not overlap."),
    _l("Item mean = the sum of the item's answers ÷ their number (\"don't know\" and skipped "
       "items are not answers). Theme mean (items) = the mean of the theme's item means."),
    _l("Respondent index = the mean of the respondent's answered items in the theme, from "
       "their last questionnaire in the wave. Theme mean (respondents) = the mean of the "
       "indices."),
    _l("Welch's t-test between two waves on the respondent indices: t = (m₁ − m₂) ÷ √(s₁²/n₁ "
       "+ s₂²/n₂); df by the Welch–Satterthwaite formula; p two-sided from the t "
       "distribution."),
)
WAVE = re.compile(r"^(?P<name>[^=]{1,60})="
                  r"(?P<start>\d{4}-\d{2}-\d{2})\.\.(?P<end>\d{4}-\d{2}-\d{2})$")
MEANS = (
    Column("wave", _l("Wave")), Column("theme", _l("Theme")),
    Column("item_mean", _l("Mean of item means"), NUMBER),
    Column("respondents", _l("Respondents"), COUNT),
    Column("respondent_mean", _l("Mean of respondent indices"), NUMBER),
    Column("sd", _l("SD of indices"), NUMBER),
)
TESTS = (
    Column("theme", _l("Theme")), Column("wave_a", _l("Wave A")),
    Column("wave_b", _l("Wave B")), Column("n_a", _l("n A"), COUNT),
    Column("n_b", _l("n B"), COUNT), Column("difference", _l("Difference A − B"), NUMBER),
    Column("t", _l("t"), STAT), Column("df", _l("df"), STAT), Column("p", _l("p"), STAT),
)


def parse_waves(raw_text: str) -> list[tuple[str, date, date]]:
    """Waves from ``name=from..to`` lines (or ``;``-separated); Invalid for anything else."""
    waves = []
    for part in re.split(r"[;\n]", raw_text or ""):
        part = part.strip()
        if not part:
            continue
        match = WAVE.match(part)
        try:
            if not match:
                raise ValueError
            start = date.fromisoformat(match["start"])
            end = date.fromisoformat(match["end"])
            if end < start:
                raise ValueError
        except ValueError:
            raise Invalid("report_option", field="waves", value=part[:80]) from None
        waves.append((match["name"].strip(), start, end))
    names = [w[0] for w in waves]
    if len(set(names)) != len(names):
        raise Invalid("report_option", field="waves", value=raw_text[:80])
    ordered = sorted(waves, key=lambda w: w[1])
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if later[1] <= earlier[2]:
            raise Invalid("report_option", field="waves", value=later[0][:80])
    return waves


def build(actor: Actor, filters: DataFilters, options: dict) -> Report:
    """The themes-by-wave report."""
    key = options["instrument"]
    pack = current(key)
    waves = parse_waves(options["waves"])
    names = [w[0] for w in waves]
    for field in ("wave_a", "wave_b"):
        if options[field] and options[field] not in names:
            raise Invalid("report_option", field=field, value=options[field][:80])
    wave_a = options["wave_a"] or (names[0] if len(names) > 1 else "")
    wave_b = options["wave_b"] or (names[1] if len(names) > 1 else "")
    themes = list(pack.themes)
    theme_of = {i.key: n for n, t in enumerate(themes) for i in pack.items if i.theme == t.key}
    means_rows, tests_rows, left = [], [], []
    means_children: list[int] = []
    tests_children: list[int] = []
    if waves and themes:
        wave_no = case(*[((Meeting.held_on >= s) & (Meeting.held_on <= e), n)
                         for n, (_, s, e) in enumerate(waves)], else_=-1)
        theme_no = case(*[(Answer.item_key.in_([k for k, t in theme_of.items() if t == n]), n)
                          for n in range(len(themes))], else_=-1)
        answered = (InstrumentVersion.key == key, Answer.value_tenths.is_not(None))
        items = db.session.execute(responses(
            actor, filters, wave_no.label("wave"), Answer.item_key, func.count(),
            func.sum(Answer.value_tenths)).join(Answer, Answer.response_id == Response.id)
            .where(*answered).group_by(wave_no, Answer.item_key)).all()
        item_means: dict[tuple[int, int], list[float]] = {}
        for wave, item, n, total in items:
            if wave >= 0 and item in theme_of:
                item_means.setdefault((wave, theme_of[item]), []).append(total / n / 10)
        rater = func.coalesce(raw(Response.participant_id), raw(Response.staff_user_id))
        per_response = db.session.execute(responses(
            actor, filters, wave_no.label("wave"), rater.label("rater"), Response.id,
            Response.submitted_at, theme_no.label("theme"), func.avg(Answer.value_tenths),
            raw(Meeting.case_id, "case_id"))
            .join(Answer, Answer.response_id == Response.id).where(*answered)
            .group_by(wave_no, rater, Response.id, Response.submitted_at, theme_no,
                      Meeting.case_id)).all()
        last: dict[tuple[int, str], tuple] = {}
        case_of = {}
        for wave, who, response_id, submitted, theme, index, case_id in per_response:
            case_of[who] = case_id
            if wave < 0 or theme < 0:
                continue
            seen = last.get((wave, who))
            if seen is None or (submitted, str(response_id)) > seen[0]:
                last[(wave, who)] = ((submitted, str(response_id)), {})
            if last[(wave, who)][0] == (submitted, str(response_id)):
                last[(wave, who)][1][theme] = float(index) / 10
        indices: dict[tuple[int, int], list[float]] = {}
        cases: dict[tuple[int, int], set] = {}
        for (wave, who), (_, by_theme) in sorted(last.items()):
            for theme, value in by_theme.items():
                indices.setdefault((wave, theme), []).append(value)
                cases.setdefault((wave, theme), set()).add(case_of[who])
        for w, (name, _, _) in enumerate(waves):
            for t, theme in enumerate(themes):
                values = indices.get((w, t), [])
                means_rows.append((name, text(theme.label),
                                   stats.mean(item_means.get((w, t), [])), len(values),
                                   stats.mean(values), stats.sample_sd(values)))
                means_children.append(len(cases.get((w, t), ())))
        if wave_a and wave_b:
            a, b = names.index(wave_a), names.index(wave_b)
            for t, theme in enumerate(themes):
                xa, xb = indices.get((a, t), []), indices.get((b, t), [])
                result = stats.welch(xa, xb)
                difference = (stats.mean(xa) - stats.mean(xb)) if xa and xb else None
                tests_rows.append((text(theme.label), wave_a, wave_b, len(xa), len(xb),
                                   difference, *(result or (None, None, None))))
                tests_children.append(min(len(cases.get((a, t), ())),
                                          len(cases.get((b, t), ()))))
        earlier = sum(1 for (w, _), _v in last.items())
        total_responses = len({r[2] for r in per_response if r[0] >= 0})
        left.append(LeftOut("earlier_in_wave", _l("Earlier questionnaires by a respondent "
                                                  "in the same wave (their last counts)"),
                            total_responses - earlier))
        outside = len({r[2] for r in per_response if r[0] < 0})
        left.append(LeftOut("outside_waves", _l("Questionnaires outside every wave"), outside))
    missing = db.session.execute(responses(
        actor, filters, Answer.missing_code, func.count()).join(
        Answer, Answer.response_id == Response.id).where(
        InstrumentVersion.key == key, Answer.value_tenths.is_(None))
        .group_by(Answer.missing_code)).all()
    left += [LeftOut(f"items_{code}", _l("Items not answered (%(code)s)", code=code), n)
             for code, n in missing]
    return Report(
        name=NAME, title=TITLE, formulas=list(FORMULAS), filters=filters, options=options,
        option_labels=[], left_out=left, tables=[
            Table("means", _l("Theme means per wave"), MEANS, means_rows,
                  note=None if waves else _l("Define at least one wave to see theme means."),
                  children=means_children),
            Table("welch", _l("Welch's t-test between two waves"), TESTS, tests_rows,
                  note=None if tests_rows else _l("Define two waves to compare them."),
                  children=tests_children),
        ],
        chart=[(f"{r[0]} · {r[1]}", r[4], None) for r in means_rows if r[4] is not None],
        chart_children=[n for r, n in zip(means_rows, means_children, strict=True)
                        if r[4] is not None],
        chart_max=float(max((i.response.max for i in pack.items), default=10)),
        chart_title=_l("Mean of respondent indices per wave and theme"),
    )
