"""Cases, the people taking part in them, and their meetings."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.extensions import db
from feedback.models.imports import Imported
from feedback.models.org import Organisation, Team, User
from feedback.models.types import UTCDateTime, new_id, utcnow


class ParticipantRole(enum.StrEnum):
    """Who a participant is in the case, by role."""

    child = "child"
    mother = "mother"
    father = "father"
    other_carer = "other_carer"
    network = "network"
    professional = "professional"


class MeetingType(enum.StrEnum):
    """The kind of meeting."""

    first = "first"
    follow_up = "follow_up"
    network = "network"
    closing = "closing"


class MeetingMode(enum.StrEnum):
    """How the meeting was held."""

    in_person = "in_person"
    video = "video"
    phone = "phone"


def _enum(cls: type[enum.Enum]) -> Enum:
    # Stored as plain strings with a CHECK, the same on SQLite and PostgreSQL.
    return Enum(cls, native_enum=False, length=20, create_constraint=True,
                name=cls.__name__.lower())


class Case(Imported, db.Model):
    """A child's case, linked to the case system by its reference.

    No names and no national ID numbers: the reference, the team and the
    child's birth year are enough to follow and aggregate the ratings.
    """

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("organisation_id", "reference"),
        CheckConstraint("child_birth_month IS NULL OR child_birth_month BETWEEN 1 AND 12",
                        name="birth_month"),
        CheckConstraint("closed_on IS NULL OR closed_on >= opened_on", name="closed_after_opened"),
        Index("ix_cases_team_id", "team_id"),
        Index("ix_cases_responsible_id", "responsible_id"),
        Index("uq_cases_source", "source", "source_id", unique=True),
        Index("ix_cases_import_id", "import_id"),
    )
    #: The longest case reference, in characters: the form, the service and the column agree.
    REFERENCE_MAX = 100
    #: At most this many tags on one case.
    TAGS_MAX = 20

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    #: The id in the municipality's case system; free text, unique per organisation.
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX))
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"))
    #: The caseworker responsible now; cases move, their history stays. None for an
    #: imported case until a team lead or administrator assigns one.
    responsible_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    child_birth_year: Mapped[int]
    #: Optional; without it the birthday is taken as 1 July (decision 10).
    child_birth_month: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When retention anonymised the case (its answers stay for statistics), if it did.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    team: Mapped[Team] = relationship()
    responsible: Mapped[User | None] = relationship()
    participants: Mapped[list[Participant]] = relationship(
        back_populates="case", order_by="Participant.created_at"
    )
    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="case", order_by="(Meeting.held_on, Meeting.created_at)"
    )
    tags: Mapped[list[CaseTag]] = relationship(
        cascade="all, delete-orphan", order_by="CaseTag.name"
    )

    @property
    def is_open(self) -> bool:
        """Whether the case is still open."""
        return self.closed_on is None

    def child_age_on(self, day: date) -> int:
        """The child's age in whole years on ``day``."""
        month = self.child_birth_month or 7
        birthday_passed = (day.month, day.day) >= (month, 1)
        return day.year - self.child_birth_year - (0 if birthday_passed else 1)


class CaseTag(db.Model):
    """A free label on a case, such as a programme, trial or legal basis."""

    __tablename__ = "case_tags"
    #: The longest tag, in characters.
    NAME_MAX = 100

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)


class Participant(Imported, db.Model):
    """Somebody who may answer in a case: identified by role, not by name."""

    __tablename__ = "participants"
    __table_args__ = (
        Index("uq_participants_source", "source", "source_id", unique=True),
        Index("ix_participants_import_id", "import_id"),
    )
    #: The longest first name or initials, in characters.
    LABEL_MAX = 40

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(_enum(ParticipantRole))
    #: Optional first name or initials, so the caseworker can tell two people apart.
    label: Mapped[str | None] = mapped_column(String(LABEL_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="participants")


class Meeting(Imported, db.Model):
    """A meeting with the child and family on one day."""

    __tablename__ = "meetings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("cases.id"))
    held_on: Mapped[date] = mapped_column(Date)
    type: Mapped[MeetingType] = mapped_column(_enum(MeetingType))
    mode: Mapped[MeetingMode] = mapped_column(_enum(MeetingMode))
    created_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    case: Mapped[Case] = relationship(back_populates="meetings")

    __table_args__ = (
        Index("ix_meetings_case_id_held_on", "case_id", "held_on"),
        Index("uq_meetings_source", "source", "source_id", unique=True),
        Index("ix_meetings_import_id", "import_id"),
    )
