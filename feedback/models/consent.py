"""What each participant agreed to: answers collected, their line shown to whom."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.extensions import db
from feedback.models.cases import Participant
from feedback.models.types import UTCDateTime, utcnow


class ConsentGiver(enum.StrEnum):
    """Who decided: the person themself, or the child's custody holders for a child under 15."""

    self = "self"
    guardian = "guardian"


class ParticipantConsent(db.Model):
    """A participant's current consent; every change is in the audit log.

    One row per participant, changed in place: the audit events keep the
    history (who recorded what, when). No row means nothing recorded yet:
    answers may be collected as before, and the line is shown to nobody
    outside the case's staff.
    """

    __tablename__ = "participant_consents"

    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("participants.id"),
                                                      primary_key=True)
    #: Agreed to have answers collected (invitations are refused without it).
    collect: Mapped[bool]
    #: Agreed to have their line shown to the family in the family view.
    show_family: Mapped[bool]
    #: Agreed to have their line shown to the network.
    show_network: Mapped[bool]
    given_by: Mapped[ConsentGiver] = mapped_column(
        Enum(ConsentGiver, native_enum=False, length=10, create_constraint=True,
             name="consentgiver"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))

    participant: Mapped[Participant] = relationship()
