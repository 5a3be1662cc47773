"""Invitations to answer, and the tokens that open them."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.extensions import db
from feedback.models.cases import Meeting, Participant
from feedback.models.instruments import InstrumentVersion
from feedback.models.types import UTCDateTime, new_id, utcnow


class Subject(enum.StrEnum):
    """Whose well-being a rating is about (decision 8)."""

    child = "child"
    self = "self"


subject_enum = Enum(Subject, native_enum=False, length=10, create_constraint=True, name="subject")


class Invitation(db.Model):
    """One respondent at one meeting, with an ordered bundle of questionnaires.

    Response rates count invitations, not tokens: showing the QR code again
    issues a new token for the same invitation, and a questionnaire added for
    somebody already invited is appended to their bundle.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        # One invitation per person per meeting (decision 44): adding a
        # questionnaire extends it, so response rates never count anyone twice.
        Index("uq_invitations_meeting_id_participant_id", "meeting_id", "participant_id",
              unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    meeting_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("meetings.id"))
    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"))
    subject: Mapped[Subject] = mapped_column(subject_enum)
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: After this (plus a short grace for an open page) the link no longer works.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    meeting: Mapped[Meeting] = relationship()
    participant: Mapped[Participant] = relationship()
    items: Mapped[list[InvitationItem]] = relationship(
        back_populates="invitation", order_by="InvitationItem.position"
    )

    @property
    def complete(self) -> bool:
        """Whether every questionnaire in the bundle has been answered."""
        return all(item.used_at is not None for item in self.items)


class InvitationItem(db.Model):
    """One questionnaire in an invitation's bundle; used once, then spent."""

    __tablename__ = "invitation_items"
    __table_args__ = (UniqueConstraint("invitation_id", "instrument_version_id"),)

    invitation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("invitations.id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    instrument_version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("instrument_versions.id")
    )
    #: Set by a conditional update in the same transaction as the response.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[Invitation] = relationship(back_populates="items")
    instrument_version: Mapped[InstrumentVersion] = relationship()


class TokenKind(enum.StrEnum):
    """A link token (QR code) or a typed short code."""

    link = "link"
    code = "code"


class InvitationToken(db.Model):
    """A secret that opens an invitation: the QR link, or a typed short code.

    Only a hash is stored. A new token for the same invitation revokes the
    earlier unused ones.
    """

    __tablename__ = "invitation_tokens"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_invitation_tokens_invitation_id", "invitation_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    invitation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invitations.id"))
    kind: Mapped[TokenKind] = mapped_column(
        Enum(TokenKind, native_enum=False, length=10, create_constraint=True, name="tokenkind")
    )
    #: SHA-256 of a 128-bit link token, or HMAC-SHA256 of a short code.
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the token was first exchanged for a respondent cookie.
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[Invitation] = relationship()
