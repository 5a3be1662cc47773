"""A writer waiting for SQLite's write lock looks again in short steps (feedback/app.py).

SQLite's own busy handler sleeps 1, 2, 5, 10 … ms between attempts; under many
writers the lock was often free while everyone slept (issue 8). The clock and
the pauses are given to the function, so nothing here depends on timing.
"""

import sqlite3

import pytest

from feedback.app import BUSY_TIMEOUT_MS, WRITE_LOCK_POLL, begin_immediate


@pytest.fixture
def two_connections(tmp_path):
    path = tmp_path / "lock.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("CREATE TABLE t (x INTEGER)")
    waiter = sqlite3.connect(path, isolation_level=None)
    waiter.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    yield holder, waiter
    holder.close()
    waiter.close()


def _busy_timeout(conn) -> int:
    return conn.execute("PRAGMA busy_timeout").fetchone()[0]


def test_the_lock_is_taken_at_once_when_it_is_free(two_connections):
    _holder, waiter = two_connections
    pauses = []
    begin_immediate(waiter, sleep=pauses.append)
    assert waiter.in_transaction and pauses == []
    waiter.execute("INSERT INTO t VALUES (1)")
    waiter.execute("COMMIT")
    assert _busy_timeout(waiter) == BUSY_TIMEOUT_MS


def test_a_waiter_looks_again_in_short_growing_steps_and_gets_the_lock(two_connections):
    holder, waiter = two_connections
    holder.execute("BEGIN IMMEDIATE")
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 7:
            holder.execute("COMMIT")  # the other writer is done

    begin_immediate(waiter, sleep=sleep)
    assert waiter.in_transaction
    first, longest = WRITE_LOCK_POLL
    assert pauses == [first, 2 * first, 4 * first, 8 * first, 16 * first, longest, longest]
    # Everything else keeps SQLite's busy timeout.
    assert _busy_timeout(waiter) == BUSY_TIMEOUT_MS
    waiter.execute("ROLLBACK")


def test_after_the_busy_timeout_the_usual_error_and_nothing_begun(two_connections):
    holder, waiter = two_connections
    holder.execute("BEGIN IMMEDIATE")
    now = [0.0]

    def sleep(seconds):
        now[0] += 1.0  # a second per pause, so the timeout passes after ten

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(waiter, clock=lambda: now[0], sleep=sleep)
    assert now[0] == BUSY_TIMEOUT_MS / 1000
    assert not waiter.in_transaction
    assert _busy_timeout(waiter) == BUSY_TIMEOUT_MS
    holder.execute("ROLLBACK")


def test_other_errors_are_not_waited_for(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.sqlite", isolation_level=None)
    conn.execute("BEGIN")
    pauses = []
    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        begin_immediate(conn, sleep=pauses.append)
    assert pauses == []
    conn.close()
