"""Importing the long CSV file: ``flask import`` against the database's own CSV loader.

The file is the export benchmark's (bench/export.py): answers written with
plain SQL by bench/seed.py, exported with ``flask export`` in the long
format. It is imported into a fresh database that has the same team and an
administrator. The app's side is ``flask import <file> --user <admin>
--source bench`` in a process of its own (the whole file is checked, the
report written, then the answers written in batches). The baseline loads the
same file, unchecked, into a plain table of text columns with ``sqlite3``'s
``.import --csv`` or ``psql \\copy``. Before a ratio is printed, the app must
have accepted every line and stored one answer per line.

Prints one line per engine and size (decision 42):

    import rows per second sqlite 1 000 000 answers: 21 400 ratio 9.87 (...)

where the ratio is the app's time over the baseline's.

    python -m bench.import_rows [--sizes 100000,1000000] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import seed
from bench.common import (
    PASSWORD,
    ROOT,
    BenchError,
    Database,
    Report,
    postgres_unavailable,
    seeding_app,
    server_env,
    workspace,
)
from bench.export import grow

SIZES = (100_000, 1_000_000)
ADMIN = "bench-admin"
COLUMNS = 22  # feedback.services.exports.LONG_COLUMNS


def _flask(database: Database, *args: str) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "feedback", *args],
                          cwd=ROOT, env=server_env(database), capture_output=True, text=True,
                          check=False)
    return time.perf_counter() - started, done


def source_file(kind: str, workdir: Path, answers: int) -> Path:
    """A long CSV file of ``answers`` answers, exported by the app from seeded data."""
    from feedback.extensions import db
    from feedback.services.instruments import current, ensure_version
    from feedback.services.uow import begin_write

    database = Database.create(kind, workdir, "import-source")
    try:
        with seeding_app(database):
            staff = seed.staff(PASSWORD)
            begin_write()
            version = ensure_version(current("ors")).id
            db.session.commit()
        ids = {"org": staff.organisation_id, "team": staff.team_id,
               "user": staff.caseworker_id, "version": version}
        grow(database, ids, 0, -(-answers // seed.ANSWERS_PER_CASE))
        target = workdir / f"long-{answers}.csv"
        _, done = _flask(database, "export", "--user", seed.ANALYST, "--output", str(target))
        if done.returncode != 0:
            raise BenchError(f"flask export failed: {done.stderr[-2000:]}")
        return target
    finally:
        database.drop()


def target_database(kind: str, workdir: Path) -> Database:
    """A fresh database with the seed's team and an administrator who may import."""
    from feedback.services import accounts

    database = Database.create(kind, workdir, "import-target")
    with seeding_app(database):
        org = accounts.get_or_create_organisation("Bench Kommune")
        accounts.create_team(org, "Team Bench")
        accounts.create_user(org, ADMIN, PASSWORD, "Bench Admin", "admin")
    return database


def baseline(database: Database, path: Path) -> float:
    """Load the same file into a plain table of text columns with the engine's own tool."""
    columns = ", ".join(f"c{n} TEXT" for n in range(COLUMNS))
    if database.kind == "sqlite":
        tool = shutil.which("sqlite3")
        if tool is None:
            raise BenchError("no sqlite3 command-line client to compare with")
        command = [tool, str(database.path), f"CREATE TABLE raw_import ({columns});",
                   f".import --csv --skip 1 {path} raw_import"]
    else:
        tool = shutil.which("psql")
        if tool is None:
            raise BenchError("no psql command-line client to compare with")
        command = [tool, database.dsn, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                   "-c", f"CREATE TABLE raw_import ({columns})",
                   "-c", f"\\copy raw_import FROM '{path}' WITH (FORMAT csv, HEADER)"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise BenchError(f"baseline load failed: {done.stderr[-2000:]}")
    return elapsed


def _measure(report: Report, kind: str, workdir: Path, answers: int) -> None:
    path = source_file(kind, workdir, answers)
    lines = sum(1 for _ in open(path, "rb")) - 1
    app_db = target_database(kind, workdir)
    base_db = Database.create(kind, workdir, "import-baseline")
    try:
        app_s, done = _flask(app_db, "import", str(path), "--user", ADMIN, "--source", "bench",
                             "--no-progress", "--batch-size", "500")
        if done.returncode != 0:
            raise BenchError(f"flask import failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")
        stored = app_db.scalar("SELECT count(*) FROM answers")
        base_s = baseline(base_db, path)
        loaded = base_db.scalar("SELECT count(*) FROM raw_import")
    finally:
        app_db.drop()
        base_db.drop()
    what = f"import rows per second {kind} {answers:,} answers".replace(",", " ")
    report.data[what] = {"app_s": app_s, "baseline_s": base_s, "lines": lines,
                         "stored": stored, "loaded": loaded, "output": done.stdout[-500:]}
    if not lines == stored == loaded:
        report.refuse(what, f"lines in the file {lines}, answers stored {stored}, "
                            f"rows the baseline loaded {loaded}")
        return
    tool = "sqlite3 .import" if kind == "sqlite" else "psql \\copy"
    rate = f"{lines / app_s:,.0f}".replace(",", " ")
    report.ratio(f"{what}: {rate}", app_s / base_s,
                 f"flask import {app_s:.1f} s, checked, reported and written in batches; "
                 f"{tool} of the same file into one text table {base_s:.1f} s",
                 app_s=app_s, baseline_s=base_s, rows_per_s=lines / app_s)


def run(report: Report, engines=("sqlite", "postgresql"), sizes=SIZES) -> None:
    """Measure each engine at each size (hook for ``python -m bench``)."""
    for kind in engines:
        if kind == "postgresql" and (why := postgres_unavailable()):
            report.refuse("import postgresql", f"not measured: {why}")
            continue
        with workspace(f"import-{kind}") as workdir:
            for answers in sorted(sizes):
                _measure(report, kind, workdir, answers)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    report = Report("import_rows")
    try:
        run(report, args.engines.split(","), [int(s) for s in args.sizes.split(",")])
    except BenchError as error:
        report.refuse("import", str(error))
    report.write()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
