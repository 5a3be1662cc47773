"""`make load` in short: respondents under load while gunicorn's workers and master are killed.

About 30 s per database. No timing is asserted; what is asserted is what a
family would notice: nothing acknowledged is lost, nothing is stored twice,
no questionnaire is used up without its answers, no response is half stored.
"""

from __future__ import annotations

import io

import pytest

from bench import load
from tests.conftest import BACKENDS, POSTGRES_URL

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("engine", BACKENDS)
def test_nothing_acknowledged_is_lost_or_doubled_while_processes_are_killed(
        engine, monkeypatch):
    monkeypatch.setenv("FEEDBACK_BENCH_POSTGRES_URL", POSTGRES_URL)
    out = io.StringIO()
    result = load.run_engine(engine, respondents=8, duration=30, kill_every=8,
                             max_requests=5000, workers=2, out=out)
    report = out.getvalue()
    # The faults really happened: workers killed, the master killed once and restarted.
    assert result.faults.worker_kills >= 2, report
    assert result.faults.master_kills == 1 and result.faults.restarts == 1, report
    # Respondents met them (replies lost, resends) and still got their receipts.
    assert result.tally.statuses[0] > 0 and result.tally.resends > 0, report
    assert result.tally.double_taps > 0, report
    assert len(result.tally.acknowledged) > 50, report
    assert result.lost == 0, report
    assert result.counts["doubled"] == 0, report
    assert result.counts["used without a response"] == 0, report
    assert result.counts["half stored"] == 0, report
    assert result.counts["stored"] >= len(result.tally.acknowledged), report
    assert "lost                   0" in report and "result                 OK" in report


def test_the_check_counts_a_lost_answer(tmp_path):
    """The comparison itself can fail: an acknowledged id that is not stored counts as lost."""
    database = load.Database("sqlite", "check", path=tmp_path / "check.sqlite")
    conn = database.connect()
    conn.execute("CREATE TABLE responses (submission_id TEXT)")
    conn.execute("INSERT INTO responses VALUES ('0b7f2ab55a3b4d7c9a0c3b2f4d8e9a11')")
    conn.close()
    stored = load.stored_submission_ids(database)
    acknowledged = {"0b7f2ab5-5a3b-4d7c-9a0c-3b2f4d8e9a11",
                    "5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"}
    assert acknowledged - stored == {"5d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"}
