"""The one clock: every "now" and "today" in the service comes from here.

Timestamps are UTC; "today", meeting days and link expiry are in the
organisation's time zone (``FEEDBACK_TIMEZONE``, default Europe/Copenhagen),
whatever the server's own zone is (decision 43). Tests freeze the clock;
demos and browser tests may start it at a fixed instant
(``FEEDBACK_CLOCK_START``), after which it runs on in real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Copenhagen"

_frozen: datetime | None = None
_offset = timedelta(0)
_zone_name = DEFAULT_TIMEZONE


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def zone() -> ZoneInfo:
    """The organisation's time zone."""
    return _zone(_zone_name)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def today() -> date:
    """Today's date in the organisation's time zone."""
    return now().astimezone(zone()).date()


def local(instant: datetime) -> datetime:
    """``instant`` in the organisation's time zone."""
    return instant.astimezone(zone())


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` ends in the organisation's time zone, in UTC."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone()).astimezone(UTC)


def configure(timezone: str = DEFAULT_TIMEZONE, start: datetime | str | None = None) -> None:
    """Set the time zone, and optionally start the clock at ``start`` (it then runs on).

    Without ``start`` the clock is the system's.
    """
    global _zone_name, _offset
    _zone(timezone)  # an unknown zone fails here, at start-up
    _zone_name = timezone
    _offset = timedelta(0)
    if start:
        instant = datetime.fromisoformat(start) if isinstance(start, str) else start
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=zone())
        _offset = instant - datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Stop the clock at ``at`` (aware); ``None`` lets it run again."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = None if at is None else at.astimezone(UTC)


def advance(delta: timedelta) -> None:
    """Move a frozen clock on by ``delta``."""
    if _frozen is None:
        raise RuntimeError("the clock is not frozen")
    freeze(_frozen + delta)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Freeze the clock at ``at`` for a block, then restore what was before."""
    before = _frozen
    freeze(at)
    try:
        yield
    finally:
        freeze(before)
