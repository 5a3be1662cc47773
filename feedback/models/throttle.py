"""Failure counters for throttling, kept in the database so every worker agrees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime


class ThrottleCount(db.Model):
    """How many failures one key (an address, a user) had in one fixed window."""

    __tablename__ = "throttle_counts"

    #: Such as ``link-addr:203.0.113.7``; never a token or a password.
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
