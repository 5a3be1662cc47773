"""`make bench` in miniature: every benchmark runs at a tiny size and both sides do the same work.

No timing is asserted (decision 42: benchmarks print ratios); these tests
check that the harness runs end to end (seeding, gunicorn, wrk, nginx, the
command-line dumps) and that a ratio is printed only when the app and its
baseline stored, drew or exported the same rows.
"""

from __future__ import annotations

import io
import shutil
from collections import Counter

import pytest

from bench import case_page, common, export, page_weight, submit
from bench.common import LoadResult, Report, Rounds
from tests.conftest import BACKENDS, POSTGRES_URL

pytestmark = pytest.mark.slow

needs_wrk = pytest.mark.skipif(not common.wrk_path(), reason="wrk is not installed "
                               "(apt-get install wrk, or `make bench-tools`)")


@pytest.fixture
def engine(request, monkeypatch):
    """Each backend the suite runs on; PostgreSQL from FEEDBACK_TEST_POSTGRES_URL."""
    monkeypatch.setenv("FEEDBACK_BENCH_POSTGRES_URL", POSTGRES_URL)
    return request.param


def _report(name: str) -> tuple[Report, io.StringIO]:
    out = io.StringIO()
    return Report(name, stream=out), out


def _ratio_lines(out: io.StringIO) -> list[str]:
    return [line for line in out.getvalue().splitlines() if " ratio " in line]


@needs_wrk
@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_submit_stores_the_same_rows_on_both_sides(engine):
    report, out = _report("submit")
    submit.run(report, (engine,), per_round=12, rounds=2, concurrency=(3,), workers=2,
               warmup=6)
    assert report.ok, out.getvalue()
    data = report.data[f"submit {engine} 3 connections"]
    assert data["rows_app"] == data["rows_baseline"]
    assert data["app"]["statuses"] == data["baseline"]["statuses"] == {303: 24}
    stored = data["rows_app"]  # 6 warm-up posts and 2 rounds of 12, each stored once
    assert stored["responses"] == stored["used questionnaires"] == 30
    assert stored["answers"] == 4 * 30
    lines = _ratio_lines(out)
    assert [line.split(" ratio ")[0] for line in lines] == [
        f"submit {engine} 3 connections throughput", f"submit {engine} 3 connections p95"]


@needs_wrk
def test_case_page_draws_the_same_points_on_both_sides():
    report, out = _report("case_page")
    case_page.run(report, ("sqlite",), sizes=(2, 4), rounds=1, per_round={2: 3, 4: 3},
                  workers=2)
    assert report.ok, out.getvalue()
    assert report.data["case page sqlite 4 meetings"]["points"] == [12, 12]
    reads = report.data["case page sqlite 4 meetings"]["audit_reads"]
    assert reads[0] == reads[1] > 0
    assert [line.split(" ratio ")[0] for line in _ratio_lines(out)] == [
        "case page sqlite 2 meetings p95", "case page sqlite 4 meetings p95",
        "case page sqlite growth 2→4 meetings app p95"]


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_export_writes_one_line_per_answer_on_both_sides(engine):
    if not shutil.which("sqlite3" if engine == "sqlite" else "psql"):
        pytest.skip("the database's command-line client is not installed")
    report, out = _report("export")
    export.run(report, (engine,), sizes=(400, 800), repeats=1)
    assert report.ok, out.getvalue()
    for answers in ("400", "800"):
        runs = report.data[f"export {engine} {answers} answers"]
        assert [r["rows"] for r in runs["app"] + runs["baseline"]] == [int(answers)] * 2
        assert runs["app"][0]["growth_kb"] >= 0
    assert len(_ratio_lines(out)) == 5  # time and memory per size, and the growth


def test_page_weight_counts_what_the_page_loads_through_nginx():
    if not (page_weight.nginx_path() and shutil.which("openssl")):
        pytest.skip("nginx or openssl is not installed (apt-get install nginx-light openssl)")
    report, out = _report("page_weight")
    page_weight.run(report, workers=1)
    assert report.ok, out.getvalue()
    loaded = report.data["ORS page first view"]
    assert [f["path"] for f in loaded][0] == "/r/"
    assert all(f["status"] == 200 and f["wire_bytes"] > 0 for f in loaded)
    assert any(f["encoding"] == "gzip" for f in loaded)  # nginx compresses the page
    assert len(_ratio_lines(out)) == 2


def _load(requests: int, status: int = 303) -> LoadResult:
    return LoadResult(requests, 1.0, [0.01] * requests, Counter({status: requests}), 0.01, 0.01)


class _Counts:
    def __init__(self, counts):
        self._counts = counts

    def counts(self, _queries):
        return self._counts


def test_no_ratio_when_the_sides_stored_different_rows():
    report, out = _report("submit")
    rounds = Rounds(app=[_load(10)], baseline=[_load(10)], warmup=[_load(2), _load(2)])
    rows = {"responses": 12, "answers": 48, "audit rows": 12, "used questionnaires": 12}
    submit._report_level(report, "submit sqlite 8 connections", rounds, _Counts(rows),
                         _Counts({**rows, "answers": 47}))
    assert not report.ok and not _ratio_lines(out)
    assert "row counts differ" in out.getvalue()


def test_no_ratio_when_a_side_answered_otherwise():
    report, out = _report("submit")
    rounds = Rounds(app=[_load(10)], baseline=[_load(10, status=404)],
                    warmup=[_load(2), _load(2)])
    rows = {"responses": 12}
    submit._report_level(report, "submit sqlite 8 connections", rounds, _Counts(rows),
                         _Counts(rows))
    assert not report.ok and not _ratio_lines(out)


def test_no_ratio_when_the_pages_drew_different_points():
    report, out = _report("case_page")
    rounds = Rounds(app=[_load(5, 200)], baseline=[_load(5, 200)],
                    warmup=[_load(2, 200), _load(2, 200)])
    assert case_page._report_size(report, "case page sqlite 4 meetings", 4, [12, 11], (7, 7),
                                  rounds) is None
    assert not report.ok and not _ratio_lines(out)
    assert "points drawn" in out.getvalue()


@pytest.mark.parametrize("engine", BACKENDS, indirect=True)
def test_the_outcome_report_and_its_hand_written_query_agree(engine):
    from bench import report_outcome

    report, out = _report("report_outcome")
    report_outcome.run(report, (engine,), sizes=(4000,), repeats=1)
    assert report.ok, out.getvalue()
    lines = _ratio_lines(out)
    assert len(lines) == 1 and "cells identical" in lines[0]


def test_no_ratio_when_the_report_and_the_query_disagree():
    from bench import report_outcome

    same = {("closed", "2020-01-01–2020-06-30", "child"): (3, 2, 20.0, 25.0, 5.0, None, 0.5,
                                                          0.0, None, 1.0)}
    assert report_outcome._same(same, dict(same)) is None
    other = {k: (3, 2, 20.0, 25.0, 5.000001, None, 0.5, 0.0, None, 1.0) for k in same}
    assert "app" in report_outcome._same(same, other)
    assert "different cells" in report_outcome._same(same, {})
