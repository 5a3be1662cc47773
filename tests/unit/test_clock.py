"""The one clock: UTC instants, local days, and link expiry at the end of the local day."""

from datetime import UTC, date, datetime, timedelta

from feedback import clock
from tests.conftest import FROZEN_NOW


def test_tests_run_at_the_frozen_instant_whatever_the_real_date():
    assert clock.now() == FROZEN_NOW
    assert clock.today() == date(2026, 3, 11)


def test_today_is_the_organisations_day_not_the_servers():
    # 23:30 UTC on 31 December is already 1 January in Copenhagen.
    clock.freeze(datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    assert clock.today() == date(2026, 1, 1)


def test_the_end_of_a_local_day_follows_summer_time():
    # Winter (UTC+1) and summer (UTC+2): the day ends at local midnight either way.
    assert clock.end_of_day(date(2026, 1, 15)) == datetime(2026, 1, 15, 23, 0, tzinfo=UTC)
    assert clock.end_of_day(date(2026, 7, 15)) == datetime(2026, 7, 15, 22, 0, tzinfo=UTC)


def test_a_frozen_clock_moves_only_when_told():
    clock.advance(timedelta(hours=15))
    assert clock.now() == FROZEN_NOW + timedelta(hours=15)
    assert clock.today() == date(2026, 3, 12)


def test_a_started_clock_runs_on_from_its_start():
    clock.freeze(None)
    try:
        clock.configure("Europe/Copenhagen", "2026-03-11T10:00:00+01:00")
        first = clock.now()
        assert abs(first - FROZEN_NOW) < timedelta(seconds=5)
        assert clock.now() >= first
    finally:
        clock.configure("Europe/Copenhagen")
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
