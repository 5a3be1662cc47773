"""The outcome-by-cohort report against one hand-written SQL query for the same figures.

The data is the export benchmark's (cases of 25 meetings with four ORS
respondents each, 400 answers a case, up to 10⁶ answers). The app's side is
``reports.run(analyst, "outcome", …)`` in this process: the access check,
the SQL that reduces answers to episodes, the cohort sums and the audit row.
The baseline is one SQL statement written by hand for the same figures
(half-years by the case's opened date, every role, closed by a fixed day),
with only the square root of the variance taken in Python (SQLite has no
``sqrt`` everywhere). A ratio is printed only when every figure agrees to
1e-9.

    python -m bench.report_outcome [--sizes 10000,1000000] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from datetime import date, timedelta

from bench import export, seed
from bench.common import (
    PASSWORD,
    BenchError,
    Database,
    Report,
    postgres_unavailable,
    seeding_app,
    workspace,
)

SIZES = (10_000, 100_000, 1_000_000)
HEADLINE = 1_000_000
TARGET_RATIO = 1.5
CLOSED_BY = date(2021, 6, 30)

_AGE = {
    "sqlite": ("CAST(strftime('%Y', m.held_on) AS INTEGER) - c.child_birth_year - "
               "(strftime('%m-%d', m.held_on) < printf('%02d-01', "
               "coalesce(c.child_birth_month, 7)))"),
    "postgresql": ("extract(year FROM m.held_on)::int - c.child_birth_year - "
                   "(to_char(m.held_on, 'MM-DD') < lpad(coalesce(c.child_birth_month, 7)::text, "
                   "2, '0') || '-01')::int"),
}
_COHORT = {
    "sqlite": ("strftime('%Y', opened_on) || CASE WHEN CAST(strftime('%m', opened_on) AS "
               "INTEGER) < 7 THEN '-01-01' ELSE '-07-01' END"),
    "postgresql": ("to_char(opened_on, 'YYYY') || CASE WHEN extract(month FROM opened_on) < 7 "
                   "THEN '-01-01' ELSE '-07-01' END"),
}
# ORS cut-offs by the child's age (decision 9); the seed has no other version.
_CUT = "CASE WHEN age >= 18 THEN 250 WHEN age >= 13 THEN 280 WHEN age >= 6 THEN 320 END"


def baseline_sql(kind: str) -> str:
    """Per (status, cohort, role): the outcome report's figures, as sums."""
    two = "n >= 2"
    return f"""
WITH rated AS (
  SELECT c.id AS case_id, coalesce(r.participant_id, r.staff_user_id) AS rater,
         coalesce(p.role, 'staff') AS role, c.opened_on, c.closed_on,
         r.total_tenths AS total, {_AGE[kind]} AS age,
         row_number() OVER (PARTITION BY c.id, coalesce(r.participant_id, r.staff_user_id)
                            ORDER BY m.held_on, m.created_at, r.submitted_at) AS rf,
         row_number() OVER (PARTITION BY c.id, coalesce(r.participant_id, r.staff_user_id)
                            ORDER BY m.held_on DESC, m.created_at DESC,
                                     r.submitted_at DESC) AS rl
  FROM responses r
  JOIN meetings m ON m.id = r.meeting_id
  JOIN cases c ON c.id = m.case_id
  LEFT JOIN participants p ON p.id = r.participant_id
  WHERE r.total_tenths IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM response_voids v WHERE v.response_id = r.id)
), episodes AS (
  SELECT case_id, role, opened_on, closed_on, count(*) AS n,
         max(CASE WHEN rf = 1 THEN total END) AS first,
         max(CASE WHEN rl = 1 THEN total END) AS last,
         max(CASE WHEN rf = 1 THEN {_CUT} END) AS cut_first,
         max(CASE WHEN rl = 1 THEN {_CUT} END) AS cut_last
  FROM rated GROUP BY case_id, rater, role, opened_on, closed_on
), labelled AS (
  SELECT *, {_COHORT[kind]} AS cohort,
         CASE WHEN closed_on IS NOT NULL AND closed_on <= '{CLOSED_BY}' THEN 'closed'
              ELSE 'open' END AS status
  FROM episodes
), everyone AS (
  SELECT {_COHORT[kind]} AS cohort,
         CASE WHEN closed_on IS NOT NULL AND closed_on <= '{CLOSED_BY}' THEN 'closed'
              ELSE 'open' END AS status, count(*) AS cases
  FROM cases GROUP BY 1, 2
)
SELECT l.status, l.cohort, l.role, count(*) AS episodes,
       sum(CASE WHEN {two} THEN 1 ELSE 0 END) AS rated,
       sum(CASE WHEN {two} THEN first END) AS sum_first,
       sum(CASE WHEN {two} THEN first * first END) AS squares_first,
       sum(CASE WHEN {two} THEN last END) AS sum_last,
       sum(CASE WHEN {two} AND last - first >= 50 THEN 1 ELSE 0 END) AS improved,
       sum(CASE WHEN {two} AND last - first <= -50 THEN 1 ELSE 0 END) AS deteriorated,
       sum(CASE WHEN {two} AND cut_first IS NOT NULL AND cut_last IS NOT NULL
                THEN 1 ELSE 0 END) AS with_cut,
       sum(CASE WHEN {two} AND first < cut_first AND last >= cut_last THEN 1 ELSE 0 END)
         AS crossed,
       count(DISTINCT l.case_id) AS covered, max(e.cases) AS cases
FROM labelled l JOIN everyone e ON e.cohort = l.cohort AND e.status = l.status
GROUP BY l.status, l.cohort, l.role
ORDER BY l.status, l.cohort, l.role"""


def _share(part, whole):
    return part / whole if whole else None


def baseline_figures(rows) -> dict:
    """The report's columns from the baseline's sums (a square root and divisions)."""
    found = {}
    for (status, cohort, role, episodes, rated, s_first, sq_first, s_last, improved,
         deteriorated, with_cut, crossed, covered, cases) in rows:
        start = date.fromisoformat(cohort)
        end = date(start.year + (start.month == 7), 1 if start.month == 7 else 7, 1)
        label = f"{start.isoformat()}–{(end - timedelta(days=1)).isoformat()}"
        mean_first = s_first / rated / 10 if rated else None
        mean_last = s_last / rated / 10 if rated else None
        change = mean_last - mean_first if rated else None
        sd = (math.sqrt(max(sq_first - s_first * s_first / rated, 0) / (rated - 1)) / 10
              if rated and rated > 1 else None)
        found[(status, label, role)] = (
            episodes, rated, mean_first, mean_last, change, change / sd if sd else None,
            _share(improved, rated), _share(deteriorated, rated), _share(crossed, with_cut),
            _share(covered, cases))
    return found


def _same(app: dict, base: dict) -> str | None:
    if set(app) != set(base):
        return f"different cells: app {len(app)}, baseline {len(base)}"
    for key, values in app.items():
        for a, b in zip(values, base[key], strict=True):
            if (a is None) != (b is None) or (a is not None and
                                              not math.isclose(a, b, rel_tol=1e-9,
                                                               abs_tol=1e-9)):
                return f"{key}: app {values}, baseline {base[key]}"
    return None


def _app_figures(analyst) -> dict:
    from flask_babel import force_locale

    from feedback.services import reports
    from feedback.services.actors import Actor

    with force_locale("da"):
        made = reports.run(Actor.staff(analyst), "outcome", {
            "cohort": "half", "anchor": "01-01", "closed_by": CLOSED_BY.isoformat(),
            "role": list(seed.ROLES)})
    return {(table.key, row[0], row[1]): tuple(row[2:]) for table in made.tables
            for row in table.rows}


def run(report: Report, engines=("sqlite", "postgresql"), sizes=SIZES, repeats: int = 3) -> None:
    for kind in engines:
        if kind == "postgresql" and (why := postgres_unavailable()):
            report.refuse("outcome report postgresql", f"not measured: {why}")
            continue
        with workspace(f"report-{kind}") as workdir:
            _run_engine(report, kind, workdir, sorted(sizes), repeats)


def _run_engine(report, kind, workdir, sizes, repeats):
    from sqlalchemy import select, text

    from feedback.extensions import db
    from feedback.models import User
    from feedback.services.instruments import current, ensure_version
    from feedback.services.uow import begin_write

    database = Database.create(kind, workdir, "report")
    try:
        with seeding_app(database) as app:
            app.config["FEEDBACK_REPORT_MIN_CHILDREN"] = 0  # the same figures on both sides
            staff = seed.staff(PASSWORD)
            begin_write()
            version = ensure_version(current("ors")).id
            db.session.commit()
            ids = {"org": staff.organisation_id, "team": staff.team_id,
                   "user": staff.caseworker_id, "version": version}
            have = 0
            for size in sizes:
                want = -(-size // seed.ANSWERS_PER_CASE)
                db.session.remove()
                export.grow(database, ids, have, want)
                have = want
                answers = database.scalar("SELECT count(*) FROM answers")
                analyst = db.session.scalar(select(User).where(User.id == staff.analyst_id))
                query = text(baseline_sql(kind))
                what = f"outcome report {kind} {answers:,} answers".replace(",", " ")
                app_s, base_s, app_fig, base_fig = [], [], None, None
                for _ in range(repeats):  # interleaved; the medians are compared
                    started = time.perf_counter()
                    app_fig = _app_figures(analyst)
                    app_s.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    base_fig = baseline_figures(db.session.execute(query).all())
                    base_s.append(time.perf_counter() - started)
                    db.session.rollback()
                report.data[what] = {"app_s": app_s, "baseline_s": base_s}
                differs = _same(app_fig, base_fig)
                if differs:
                    report.refuse(what, f"the figures differ: {differs}")
                    continue
                a, b = statistics.median(app_s), statistics.median(base_s)
                report.ratio(what, a / b,
                             f"reports.run {a:.2f} s, hand-written SQL {b:.2f} s, "
                             f"{len(app_fig)} cells identical"
                             + (f"; target ≤ {TARGET_RATIO:g}" if answers >= HEADLINE else ""),
                             app_s=a, baseline_s=b, cells=len(app_fig))
    finally:
        database.drop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    report = Report("report_outcome")
    try:
        run(report, args.engines.split(","), [int(s) for s in args.sizes.split(",")],
            args.repeats)
    except BenchError as error:
        report.refuse("report_outcome", str(error))
    report.write()
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
