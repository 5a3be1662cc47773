"""The append-only audit log."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    """Who did what to which record, when, and whether it was refused.

    A database trigger refuses UPDATE and DELETE on this table.
    """

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    #: ``staff``, ``respondent`` or ``system``.
    actor_kind: Mapped[str] = mapped_column(String(20))
    #: A respondent's invitation id, or what the system was doing (``cli``, ``retention``).
    actor_ref: Mapped[str | None] = mapped_column(String(64))
    #: Such as ``case.view``, ``export.csv``, ``response.submit``.
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    #: ``ok`` or ``refused``.
    outcome: Mapped[str] = mapped_column(String(10), default="ok")
    detail: Mapped[str | None] = mapped_column(String(500))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
