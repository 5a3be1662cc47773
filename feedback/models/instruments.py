"""Instrument versions as stored: a frozen copy of each pack version used."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime, new_id, utcnow


class InstrumentVersion(db.Model):
    """One version of an instrument pack, frozen when first used.

    Responses point here, so changing a pack file later never changes old
    answers or how they are scored: a changed pack must carry a new version.
    """

    __tablename__ = "instrument_versions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    #: The pack's id, such as ``ors`` or ``child-meeting``.
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    #: outcome, session, ruler, meeting-experience or a custom family.
    family: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the canonical definition; a pack edited without a new version is refused.
    digest: Mapped[str] = mapped_column(String(64))
    #: The whole validated pack as JSON, as it was when frozen.
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
