"""What retention needs in the database: the permission slip for the audit trigger, tombstones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime, utcnow


class RetentionGrant(db.Model):
    """While a row exists, the audit trigger allows the retention command's two changes.

    The retention command adds a row and removes it again in the same
    transaction, so no other transaction ever sees one: deleting audit rows
    older than ``purge_before``, and nulling the object references of events
    about deleted cases. Nothing else in the audit log can change.
    """

    __tablename__ = "retention_grants"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    #: Audit rows written before this instant may be deleted.
    purge_before: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tombstone(db.Model):
    """An imported record retention deleted: a later import does not bring it back.

    Only the source and the source's id are kept, nothing of what the record said.
    """

    __tablename__ = "tombstones"

    #: ``case`` or ``response``.
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
