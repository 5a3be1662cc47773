"""The case page of a case with many meetings: the app against a raw-SQL page.

A case with 200 meetings, each answered by three respondents (ORS), and cases
with 50 and 800 meetings for the growth. The app and the baseline
(bench/baseline_case.py) run under the same gunicorn configuration on copies
of one database; one connection asks for the page again and again, in
interleaved rounds (app, baseline, app, baseline). Before a ratio is printed
both pages must draw the same number of points (one per answered
questionnaire), and both databases must hold the same number of audit rows
for the reads.

    python -m bench.case_page [--sizes 50,200,800] [--rounds R] [--engines sqlite]
"""

from __future__ import annotations

import argparse
import re
import sys

from bench import baseline_case, seed
from bench.common import (
    PASSWORD,
    SECRET_KEY,
    BenchError,
    Database,
    Report,
    Req,
    Rounds,
    fmt_ms,
    gunicorn,
    http_request,
    postgres_unavailable,
    run_load,
    seeding_app,
    server_env,
    workspace,
)

SIZES = (50, 200, 800)
HEADLINE = 200
RESPONDENTS = 3
TARGET = 2.0
#: Requests per round for each size: enough for a p95, a few seconds each.
PER_ROUND = {50: 60, 200: 40, 800: 15}
#: Rounds per side, interleaved: the p95 of 80 requests (two rounds) is their 4th
#: slowest, which one stall of a shared machine decides; of 200 it is the 10th.
ROUNDS = 5
AUDIT_READS = "SELECT count(*) FROM audit_events WHERE action = 'case.view'"


def points(body: bytes) -> int:
    """Points drawn on the page's graphs: each carries its value (``data-value``)."""
    return len(re.findall(rb'\sdata-value="', body))


def run(report: Report, engines=("sqlite",), sizes=SIZES, rounds: int = ROUNDS,
        per_round: dict | None = None, workers: int | None = None) -> None:
    per_round = per_round or PER_ROUND
    for kind in engines:
        if kind == "postgresql" and (why := postgres_unavailable()):
            report.refuse("case page postgresql", f"not measured: {why}")
            continue
        with workspace(f"case-{kind}") as workdir:
            _run_engine(report, kind, workdir, sizes, rounds, per_round, workers)


def _run_engine(report, kind, workdir, sizes, rounds, per_round, workers):
    app_db = Database.create(kind, workdir, "case_app")
    baseline_db = None
    try:
        with seeding_app(app_db):
            staff = seed.staff(PASSWORD)
            cases = {m: seed.case_with_history(seed.CASEWORKER, m, f"CASE-{m}") for m in sizes}
        baseline_db = app_db.clone("case_baseline")
        base_cookie = (f"{baseline_case.COOKIE}="
                       f"{baseline_case.cookie_for(str(staff.caseworker_id), SECRET_KEY.encode())}")
        with gunicorn("feedback:create_app()", server_env(app_db), workdir, f"app-{kind}",
                      probe="/login", workers=workers) as app_server, \
             gunicorn("bench.baseline_case:app", server_env(baseline_db), workdir,
                      f"baseline-{kind}", workers=workers) as base_server:
            app_cookie = seed.login(app_server.url, seed.CASEWORKER, PASSWORD)
            sides = ((app_server, app_cookie), (base_server, base_cookie))
            measured = {}
            for meetings in sizes:
                what = f"case page {kind} {meetings} meetings"
                path = f"/cases/{cases[meetings]}"
                drawn = []
                for server, cookie in sides:
                    status, _, body = http_request(server.url, "GET", path,
                                                   headers={"Cookie": cookie})
                    drawn.append(points(body) if status == 200 else f"status {status}")
                results = Rounds()
                for server, cookie in sides:  # every worker compiles what it caches
                    results.warmup.append(run_load(server.url, [Req("GET", path, cookie)] * 32,
                                                   16, workdir))
                n = per_round.get(meetings, 20)
                for _ in range(rounds):
                    for side, (server, cookie) in zip(("app", "baseline"), sides, strict=True):
                        getattr(results, side).append(
                            run_load(server.url, [Req("GET", path, cookie)] * n, 1, workdir))
                reads = (app_db.scalar(AUDIT_READS), baseline_db.scalar(AUDIT_READS))
                measured[meetings] = _report_size(report, what, meetings, drawn, reads, results)
            _report_growth(report, kind, measured)
    finally:
        app_db.drop()
        if baseline_db is not None:
            baseline_db.drop()


def _report_size(report, what, meetings, drawn, reads, results: Rounds):
    app, base = results.total("app"), results.total("baseline")
    report.data[what] = {"points": drawn, "audit_reads": reads, "app": app.summary(),
                         "baseline": base.summary()}
    expected = meetings * RESPONDENTS
    problems = []
    if drawn != [expected, expected]:
        problems.append(f"points drawn: app {drawn[0]}, baseline {drawn[1]}, "
                        f"expected {expected}")
    if reads[0] != reads[1]:
        problems.append(f"audit rows of reads: app {reads[0]}, baseline {reads[1]}")
    for side, result in (("warm-up app", results.warmup[0]),
                         ("warm-up baseline", results.warmup[1]), ("app", app),
                         ("baseline", base)):
        if set(result.statuses) != {200} or result.extra:
            problems.append(f"{side} answered {dict(result.statuses)}")
    if problems:
        report.refuse(what, "; ".join(problems))
        return None
    headline = meetings == HEADLINE
    report.ratio(
        f"{what} p95", app.p(95) / base.p(95),
        f"app p95 {fmt_ms(app.p(95))} p50 {fmt_ms(app.p(50))}; baseline p95 "
        f"{fmt_ms(base.p(95))} p50 {fmt_ms(base.p(50))}; {app.requests} requests each; "
        f"{expected} points on both" + (f"; target ≤ {TARGET:g}" if headline else ""),
        app=app.summary(), baseline=base.summary())
    return app.p(95), base.p(95)


def _report_growth(report, kind, measured):
    sizes = sorted(m for m, v in measured.items() if v is not None)
    for small, large in zip(sizes, sizes[1:], strict=False):
        (app_small, base_small), (app_large, base_large) = measured[small], measured[large]
        report.ratio(f"case page {kind} growth {small}→{large} meetings app p95",
                     app_large / app_small,
                     f"{large / small:g}× the meetings; baseline grew "
                     f"{base_large / base_small:.2f}×; linear or better is ≤ {large / small:g}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--engines", default="sqlite")
    args = parser.parse_args(argv)
    report = Report("case_page")
    try:
        run(report, args.engines.split(","), [int(s) for s in args.sizes.split(",")],
            args.rounds)
    except BenchError as error:
        report.refuse("case page", str(error))
    report.write()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
