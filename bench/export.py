"""The long CSV export: ``flask export`` against the database's own CSV dump.

The data (10⁴, 10⁵ and 10⁶ answers: cases of 25 meetings with four ORS
respondents each) is written with plain SQL in the schema the migrations
built. The app's side is ``flask export --user <analyst> --output <file>``,
which streams the same file as the web page from the same service function,
run in a process of its own that measures its peak memory growth
(bench/export_runner.py). The baseline dumps the same rows, joined the same
way and in the same order, with ``sqlite3 -csv`` or ``psql \\copy``. Before
a ratio is printed both files must have one line per answer.

    python -m bench.export [--sizes 10000,100000,1000000] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import seed
from bench.common import (
    PASSWORD,
    BenchError,
    Database,
    Report,
    postgres_unavailable,
    seeding_app,
    server_env,
    workspace,
)

SIZES = (10_000, 100_000, 1_000_000)
HEADLINE = 1_000_000
TARGET_RATIO = 2.0
TARGET_GROWTH_MB = 50
COLUMNS = 22  # feedback.services.exports.LONG_COLUMNS

# The same join, filter and order as the app's long export, with the values
# the database can make itself (raw ids instead of pseudonyms).
BASELINE_SQL = {
    "sqlite": """
SELECT r.id AS response_id, c.id AS case_id,
       coalesce(r.participant_id, r.staff_user_id) AS respondent_id,
       coalesce(p.role, 'staff') AS respondent_role, r.subject, t.name AS team,
       CASE WHEN c.closed_on IS NULL THEN 'open' ELSE 'closed' END AS case_status,
       c.opened_on AS case_opened, coalesce(c.closed_on, '') AS case_closed,
       c.child_birth_year,
       CAST(strftime('%Y', m.held_on) AS INTEGER) - c.child_birth_year
         - (strftime('%m-%d', m.held_on) < printf('%02d-01', coalesce(c.child_birth_month, 7)))
         AS child_age_at_meeting,
       m.id AS meeting_id, m.held_on AS meeting_date, m.type AS meeting_type,
       iv.key AS instrument, iv.version AS instrument_version, iv.family, a.item_key AS item,
       CASE WHEN a.value_tenths IS NULL THEN ''
            ELSE printf('%d.%d', a.value_tenths / 10, a.value_tenths % 10) END AS value,
       coalesce(a.missing_code, '') AS missing_code,
       replace(r.submitted_at, ' ', 'T') || 'Z' AS submitted_at, r.locale
FROM answers a
JOIN responses r ON r.id = a.response_id
JOIN meetings m ON m.id = r.meeting_id
JOIN cases c ON c.id = m.case_id
JOIN teams t ON t.id = c.team_id
JOIN instrument_versions iv ON iv.id = r.instrument_version_id
LEFT JOIN participants p ON p.id = r.participant_id
ORDER BY r.submitted_at, r.id, a.position""",
    "postgresql": """
SELECT r.id AS response_id, c.id AS case_id,
       coalesce(r.participant_id, r.staff_user_id) AS respondent_id,
       coalesce(p.role, 'staff') AS respondent_role, r.subject, t.name AS team,
       CASE WHEN c.closed_on IS NULL THEN 'open' ELSE 'closed' END AS case_status,
       c.opened_on AS case_opened, c.closed_on AS case_closed, c.child_birth_year,
       extract(year FROM m.held_on)::int - c.child_birth_year
         - (to_char(m.held_on, 'MM-DD') < lpad(coalesce(c.child_birth_month, 7)::text, 2, '0')
            || '-01')::int AS child_age_at_meeting,
       m.id AS meeting_id, m.held_on AS meeting_date, m.type AS meeting_type,
       iv.key AS instrument, iv.version AS instrument_version, iv.family, a.item_key AS item,
       CASE WHEN a.value_tenths IS NULL THEN ''
            ELSE (a.value_tenths / 10) || '.' || (a.value_tenths % 10) END AS value,
       coalesce(a.missing_code, '') AS missing_code,
       to_char(r.submitted_at, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS submitted_at, r.locale
FROM answers a
JOIN responses r ON r.id = a.response_id
JOIN meetings m ON m.id = r.meeting_id
JOIN cases c ON c.id = m.case_id
JOIN teams t ON t.id = c.team_id
JOIN instrument_versions iv ON iv.id = r.instrument_version_id
LEFT JOIN participants p ON p.id = r.participant_id
ORDER BY r.submitted_at, r.id, a.position""",
}


def baseline_command(database: Database, target: Path) -> list[str] | None:
    query = " ".join(BASELINE_SQL[database.kind].split())
    if database.kind == "sqlite":
        sqlite3 = shutil.which("sqlite3")
        return sqlite3 and [sqlite3, "-csv", "-header", str(database.path), query]
    psql = shutil.which("psql")
    return psql and [psql, database.dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                     f"\\copy ({query}) TO '{target}' WITH (FORMAT csv, HEADER)"]


def lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def run_app(database: Database, target: Path, workdir: Path) -> dict:
    """``flask export`` in a process of its own; wall time, rows and memory growth."""
    result = workdir / "runner.json"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.export_runner", str(result), "export", "--user",
         seed.ANALYST, "--output", str(target)],
        cwd=Path(__file__).resolve().parent.parent, env=server_env(database),
        capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"flask export failed: {done.stderr[-2000:]}")
    measured = json.loads(result.read_text())
    return {"wall_s": wall, "rows": lines(target) - 1, "bytes": target.stat().st_size,
            **measured}


def run_baseline(database: Database, target: Path) -> dict:
    command = baseline_command(database, target)
    if command is None:
        raise BenchError(f"no {'sqlite3' if database.kind == 'sqlite' else 'psql'} "
                         "command-line client to compare with")
    started = time.perf_counter()
    with open(target, "wb") if database.kind == "sqlite" else open(os.devnull, "wb") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.PIPE, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"baseline dump failed: {done.stderr.decode()[-2000:]}")
    return {"wall_s": wall, "rows": lines(target) - 1, "bytes": target.stat().st_size}


def grow(database: Database, ids: dict, have_cases: int, want_cases: int) -> None:
    """Add cases with 400 answers each until there are ``want_cases``."""
    conn = database.connect()
    try:
        if database.kind == "sqlite":
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("BEGIN")
        else:
            conn.execute("SET synchronous_commit = off")
        for statement in seed.export_rows(database.kind, have_cases, want_cases - have_cases,
                                          ids):
            conn.execute(statement)
        if database.kind == "sqlite":
            conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


def run(report: Report, engines=("sqlite", "postgresql"), sizes=SIZES,
        repeats: int = 3) -> None:
    for kind in engines:
        if kind == "postgresql" and (why := postgres_unavailable()):
            report.refuse("export postgresql", f"not measured: {why}")
            continue
        with workspace(f"export-{kind}") as workdir:
            _run_engine(report, kind, workdir, sorted(sizes), repeats)


def _run_engine(report, kind, workdir, sizes, repeats):
    from feedback.extensions import db
    from feedback.services.instruments import current, ensure_version
    from feedback.services.uow import begin_write

    database = Database.create(kind, workdir, "export")
    try:
        with seeding_app(database):
            staff = seed.staff(PASSWORD)
            begin_write()
            version = ensure_version(current("ors")).id
            db.session.commit()
        ids = {"org": staff.organisation_id, "team": staff.team_id,
               "user": staff.caseworker_id, "version": version}
        have = 0
        measured = {}
        for size in sizes:
            want = -(-size // seed.ANSWERS_PER_CASE)
            grow(database, ids, have, want)
            have = want
            answers = database.scalar("SELECT count(*) FROM answers")
            measured[size] = _measure(report, kind, database, workdir, answers,
                                      1 if size >= HEADLINE else repeats)
        _report_growth(report, kind, measured)
    finally:
        database.drop()


def _measure(report, kind, database, workdir, answers, repeats):
    what = f"export {kind} {answers:,} answers".replace(",", " ")
    app_runs, base_runs = [], []
    app_file, base_file = workdir / "app.csv", workdir / "baseline.csv"
    for _ in range(repeats):  # interleaved: app, baseline, app, baseline, ...
        app_runs.append(run_app(database, app_file, workdir))
        app_file.unlink()
        base_runs.append(run_baseline(database, base_file))
        base_file.unlink()
    report.data[what] = {"app": app_runs, "baseline": base_runs}
    rows = {(r["rows"]) for r in app_runs} | {r["rows"] for r in base_runs}
    if rows != {answers}:
        report.refuse(what, f"rows exported: app {[r['rows'] for r in app_runs]}, baseline "
                            f"{[r['rows'] for r in base_runs]}, answers stored {answers}")
        return None
    app_s = statistics.median(r["wall_s"] for r in app_runs)
    command_s = statistics.median(r["command_s"] for r in app_runs)
    base_s = statistics.median(r["wall_s"] for r in base_runs)
    growth_mb = max(r["growth_kb"] for r in app_runs) / 1024
    tool = "sqlite3 -csv" if kind == "sqlite" else "psql \\copy"
    headline = answers >= HEADLINE
    report.ratio(f"{what} time", app_s / base_s,
                 f"flask export {app_s:.2f} s (the command itself {command_s:.2f} s, the rest "
                 f"starting Python and the app), {tool} {base_s:.2f} s, {answers} rows on both"
                 + (f"; target ≤ {TARGET_RATIO:g}" if headline else ""),
                 app_s=app_s, command_s=command_s, baseline_s=base_s)
    report.ratio(f"{what} memory growth", growth_mb / TARGET_GROWTH_MB,
                 f"peak growth of the exporting process {growth_mb:.1f} MB of the "
                 f"{TARGET_GROWTH_MB} MB allowed", growth_mb=growth_mb)
    return command_s, base_s, growth_mb


def _report_growth(report, kind, measured):
    sizes = sorted(s for s, v in measured.items() if v is not None)
    for small, large in zip(sizes, sizes[1:], strict=False):
        (app_small, base_small, _), (app_large, base_large, _) = measured[small], measured[large]
        report.ratio(f"export {kind} growth {small}→{large} answers flask export command time",
                     app_large / app_small,
                     f"{large / small:g}× the rows; baseline grew {base_large / base_small:.2f}×; "
                     f"linear or better is ≤ {large / small:g}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each side below 10⁶ rows (the median is used)")
    args = parser.parse_args(argv)
    report = Report("export")
    try:
        run(report, args.engines.split(","), [int(s) for s in args.sizes.split(",")],
            args.repeats)
    except BenchError as error:
        report.refuse("export", str(error))
    report.write()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
