"""Column types shared by the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator

from feedback import clock


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones; PostgreSQL's ``timestamptz`` does. Storing naive
    UTC on both keeps comparisons and exports identical.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store as naive UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use feedback.models.types.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        """Read back as aware UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    """The current instant from the service's one clock (frozen in tests)."""
    return clock.now()


def new_id() -> uuid.UUID:
    """A new random UUID for a primary key."""
    return uuid.uuid4()
