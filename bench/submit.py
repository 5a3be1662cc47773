"""Submitting a questionnaire: the app under gunicorn against a raw WSGI baseline.

For each engine (SQLite, PostgreSQL): ORS links are issued through the app's
services and opened as a respondent opens them; the database is then copied,
so the app and the baseline (bench/baseline_submit.py) start from the same
rows and get the same links, answers and submission ids. Both run under
``gunicorn -c deploy/gunicorn.conf.py``. wrk posts every questionnaire once
over 8 and then 32 keep-alive connections, in interleaved rounds (app,
baseline, app, baseline). Before a ratio is printed the row counts of both
databases must agree: responses, answers, audit rows, used questionnaires.

    python -m bench.submit [--per-round N] [--rounds R] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from urllib.parse import urlencode

from bench import baseline_submit, seed
from bench.common import (
    PASSWORD,
    SECRET_KEY,
    BenchError,
    Database,
    Report,
    Req,
    Rounds,
    describe,
    gunicorn,
    postgres_unavailable,
    run_load,
    seeding_app,
    server_env,
    workspace,
)

CONCURRENCY = (8, 32)
TARGET = 0.5
ITEM_KEYS = ("individually", "interpersonally", "socially", "overall")
COUNTS = {
    "responses": "SELECT count(*) FROM responses",
    "answers": "SELECT count(*) FROM answers",
    "audit rows": "SELECT count(*) FROM audit_events",
    "used questionnaires": "SELECT count(*) FROM invitation_items WHERE used_at IS NOT NULL",
}


#: Rounds of posts per side and level, interleaved: a round of 400 lasts about a
#: second, and on a shared machine one slow second moved a two-round ratio by ±0.1.
ROUNDS = 4

def _value(rng: random.Random) -> str:
    whole = rng.randint(0, 10)
    return str(whole) if whole == 10 or rng.random() < 0.3 else f"{whole}.{rng.randint(0, 9)}"


def requests_for(links: list[seed.OpenedLink], seed_value: int = 1):
    """The same answers and submission ids for both sides; each side's own cookie."""
    rng = random.Random(seed_value)
    app_requests, baseline_requests = [], []
    for link in links:
        submission_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        form = {"csrf_token": link.csrf_token, "submission_id": str(submission_id)}
        form.update({key: _value(rng) for key in ITEM_KEYS})
        body = urlencode(form)
        app_requests.append(Req("POST", link.path, link.cookie, body))
        signed = baseline_submit.cookie_for(link.token_id, SECRET_KEY.encode())
        baseline_cookie = f"{baseline_submit.COOKIE}={signed}"
        baseline_requests.append(Req("POST", link.path, baseline_cookie, body))
    return app_requests, baseline_requests


def run(report: Report, engines=("sqlite", "postgresql"), per_round: int = 400,
        rounds: int = ROUNDS, concurrency=CONCURRENCY, workers: int | None = None,
        warmup: int = 16) -> None:
    for kind in engines:
        if kind == "postgresql" and (why := postgres_unavailable()):
            report.refuse("submit postgresql", f"not measured: {why}")
            continue
        with workspace(f"submit-{kind}") as workdir:
            _run_engine(report, kind, workdir, per_round, rounds, concurrency, workers,
                        warmup)


def _run_engine(report, kind, workdir, per_round, rounds, concurrency, workers, warmup):
    per_level = warmup + rounds * per_round
    app_db = Database.create(kind, workdir, "submit_app")
    baseline_db = None
    try:
        started = time.monotonic()
        with seeding_app(app_db):
            seed.staff(PASSWORD)
            issued = seed.issue_links(seed.CASEWORKER, per_level * len(concurrency))
        with gunicorn("feedback:create_app()", server_env(app_db), workdir, f"open-{kind}",
                      probe="/login", workers=workers) as server:
            links = seed.open_links(server.url, issued)
        report.note(f"{kind}: {len(links)} links issued through the services and opened "
                    f"over HTTP in {time.monotonic() - started:.0f} s")
        baseline_db = app_db.clone("submit_baseline")
        app_requests, baseline_requests = requests_for(links)
        with gunicorn("feedback:create_app()", server_env(app_db), workdir, f"app-{kind}",
                      probe="/login", workers=workers) as app_server, \
             gunicorn("bench.baseline_submit:app", server_env(baseline_db), workdir,
                      f"baseline-{kind}", workers=workers) as base_server:
            for level_no, connections in enumerate(concurrency):
                start = level_no * per_level
                what = f"submit {kind} {connections} connections"
                # Warm-up: every worker thread loads what it caches; not timed.
                results = Rounds()
                for server, reqs in ((app_server, app_requests), (base_server, baseline_requests)):
                    results.warmup.append(run_load(server.url, reqs[start:start + warmup],
                                                   connections, workdir))
                for r in range(rounds):
                    lo = start + warmup + r * per_round
                    results.app.append(run_load(app_server.url, app_requests[lo:lo + per_round],
                                                connections, workdir))
                    results.baseline.append(run_load(base_server.url,
                                                     baseline_requests[lo:lo + per_round],
                                                     connections, workdir))
                _report_level(report, what, results, app_db, baseline_db)
    finally:
        app_db.drop()
        if baseline_db is not None:
            baseline_db.drop()


def _report_level(report, what, results: Rounds, app_db, baseline_db) -> None:
    app, base = results.total("app"), results.total("baseline")
    app_counts, base_counts = app_db.counts(COUNTS), baseline_db.counts(COUNTS)
    report.data[what] = {"app": app.summary(), "baseline": base.summary(),
                         "app_rounds": [r.summary() for r in results.app],
                         "baseline_rounds": [r.summary() for r in results.baseline],
                         "rows_app": app_counts, "rows_baseline": base_counts}
    problems = []
    for side, result in (("warm-up app", results.warmup[0]),
                         ("warm-up baseline", results.warmup[1]), ("app", app),
                         ("baseline", base)):
        if set(result.statuses) != {303} or result.extra:
            problems.append(f"{side} answered {dict(result.statuses)} to {result.requests} posts")
    if app_counts != base_counts:
        problems.append(f"row counts differ: app {app_counts}, baseline {base_counts}")
    if problems:
        report.refuse(what, "; ".join(problems))
        return
    report.ratio(f"{what} throughput", app.throughput / base.throughput,
                 f"app {describe(app)}; baseline {describe(base)}; target ≥ {TARGET}",
                 app=app.summary(), baseline=base.summary())
    report.ratio(f"{what} p95", app.p(95) / base.p(95),
                 "app over baseline, lower is better")
    report.note("same rows on both sides: " + ", ".join(f"{k} {v}" for k, v in
                                                         app_counts.items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-round", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    report = Report("submit")
    try:
        run(report, args.engines.split(","), args.per_round, args.rounds)
    except BenchError as error:
        report.refuse("submit", str(error))
    report.write()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
