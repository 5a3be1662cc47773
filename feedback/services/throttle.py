"""Throttling repeated failures (bad links and codes, wrong passwords) per key."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from feedback import clock
from feedback.extensions import db
from feedback.models import ThrottleCount
from feedback.services.uow import begin_write

WINDOW = timedelta(minutes=15)


def _window(now: datetime) -> datetime:
    epoch = int(now.timestamp())
    start = epoch - epoch % int(WINDOW.total_seconds())
    return datetime.fromtimestamp(start, tz=now.tzinfo)


def failures(key: str) -> int:
    """Failures recorded for ``key`` in the current window."""
    return db.session.scalar(
        select(func.coalesce(func.sum(ThrottleCount.count), 0))
        .where(ThrottleCount.key == key, ThrottleCount.window_start == _window(clock.now()))
    )


def blocked(key: str, limit: int) -> bool:
    """Whether ``key`` has reached ``limit`` failures in the current window."""
    return failures(key) >= limit


def record_failure(*keys: str) -> None:
    """Count one failure for each key, atomically (several workers may count at once)."""
    begin_write()
    now = clock.now()
    window = _window(now)
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key in keys:
        stmt = insert(ThrottleCount).values(key=key, window_start=window, count=1)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": ThrottleCount.count + 1},
        ))
    # Old windows are useless; clear them as we go.
    db.session.execute(delete(ThrottleCount).where(ThrottleCount.window_start < now - 4 * WINDOW))
    db.session.commit()
