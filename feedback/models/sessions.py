"""Staff sessions, checked on the server on every request."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.extensions import db
from feedback.models.org import User
from feedback.models.types import UTCDateTime, new_id, utcnow


class StaffSession(db.Model):
    """One signed-in browser of a staff member.

    The signed session cookie names this row; a cookie is honoured only while
    its row is open. Logging out ends this row, deactivating the user ends all
    of theirs, and since the rows live in the shared database, every worker and
    every host sees the same answer. ``created_at`` and ``last_seen_at`` are
    what absolute and idle time-outs are measured from.
    """

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_user_id", "user_id"),)

    #: Random, and only ever sent inside the signed session cookie.
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Updated at most once a minute, so reading pages does not mean writing rows.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``logout``, ``deactivated``, ``unlock_failures``, ``expired`` …
    end_reason: Mapped[str | None] = mapped_column(String(20))
    #: While the tablet is handed over to a respondent: where the caseworker was
    #: (a path on this site). Kept here, not in the cookie, so every host sees the
    #: lock and an older copy of the cookie cannot get round it.
    handover_back: Mapped[str | None] = mapped_column(String(2000))

    user: Mapped[User] = relationship()
