"""Expected ranges, precomputed from the organisation's closed episodes (decision 20)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime


class ExpectedRangeBase(db.Model):
    """How many closed episodes (two or more totals) one family and role had at the last run."""

    __tablename__ = "expected_range_bases"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"),
                                                       primary_key=True)
    family: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    episodes: Mapped[int]
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExpectedRange(db.Model):
    """The 25th–75th percentile of the k-th totals of closed episodes with a similar start."""

    __tablename__ = "expected_ranges"

    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"),
                                                       primary_key=True)
    family: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    #: The 5-point band of the first total: 0 for 0–4.9, 1 for 5–9.9, …
    band: Mapped[int] = mapped_column(primary_key=True)
    #: The rating's number within the episode (1 = the first).
    rating: Mapped[int] = mapped_column(primary_key=True)
    p25_tenths: Mapped[float] = mapped_column(Float)
    p75_tenths: Mapped[float] = mapped_column(Float)
    episodes: Mapped[int]
