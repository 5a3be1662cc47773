"""Import batches: historical answers brought in from another source, tagged by batch."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from feedback.extensions import db
from feedback.models.types import UTCDateTime, new_id, utcnow


class ImportBatch(db.Model):
    """One run of an import: who brought which file in from which source, and how it went.

    Every case, participant, meeting and response it created carries its id
    (``import_id``), so rolling the import back deletes exactly those rows.
    """

    __tablename__ = "import_batches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    #: The source label the person gave (decision 39), not the file name.
    source: Mapped[str] = mapped_column(String(64))
    #: The uploaded file's name, for the person's own record only.
    file_name: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``all_or_nothing`` or ``accepted_only``.
    mode: Mapped[str] = mapped_column(String(20))
    #: ``validating``, ``writing``, ``completed``, ``refused`` (nothing written because
    #: of rejected rows in all-or-nothing mode, or a file that is not the long
    #: format), ``failed`` (undone after an error while writing) or ``rolled_back``.
    status: Mapped[str] = mapped_column(String(20), default="validating")
    #: Data lines read, and how each ended.
    rows_read: Mapped[int] = mapped_column(default=0)
    rows_accepted: Mapped[int] = mapped_column(default=0)
    rows_unchanged: Mapped[int] = mapped_column(default=0)
    rows_rejected: Mapped[int] = mapped_column(default=0)
    #: Responses written by this import.
    responses_written: Mapped[int] = mapped_column(default=0)
    #: Why a whole file was refused (a message id), if it was.
    refusal: Mapped[str | None] = mapped_column(String(200))
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rolled_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Imported:
    """Columns of a row that may have come from an import (a mixin).

    Source ids are kept in their own columns, never mixed with this service's
    ids; one (source, source id) is one row, so importing twice adds nothing.
    """

    #: The source label of the import; null for rows made in this service.
    source: Mapped[str | None] = mapped_column(String(64))
    #: The row's id in that source.
    source_id: Mapped[str | None] = mapped_column(String(100))
    #: The import batch that created the row. A plain indexed column, no foreign key:
    #: batches are never deleted, and adding one would rebuild big tables on SQLite.
    import_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
