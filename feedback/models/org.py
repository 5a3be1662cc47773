"""Organisation, teams and staff users."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Index, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from feedback.extensions import db
from feedback.models.types import UTCDateTime, new_id, utcnow


class Role(enum.StrEnum):
    """A staff member's role: what areas of the service they use."""

    caseworker = "caseworker"
    team_lead = "team_lead"
    analyst = "analyst"
    admin = "admin"


class Organisation(db.Model):
    """The municipality (or supplier) running the service."""

    __tablename__ = "organisations"
    NAME_MAX = 200

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    #: Shown in the page header; not personal data.
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    #: What respondents' answers are used for and who sees them, shown on their
    #: first page; empty: the service's default text (``services.notices``).
    NOTICE_MAX = 1000
    notice_da: Mapped[str | None] = mapped_column(String(NOTICE_MAX))
    notice_en: Mapped[str | None] = mapped_column(String(NOTICE_MAX))

    teams: Mapped[list[Team]] = relationship(back_populates="organisation")


class Team(db.Model):
    """A team or unit; a supplier's family centre is a team of its own."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)
    #: The longest team name, in characters: the form, the service and the column agree.
    NAME_MAX = 200

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    #: A deactivated team takes no new cases; its cases and members stay as they are.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    organisation: Mapped[Organisation] = relationship(back_populates="teams")
    members: Mapped[list[TeamMembership]] = relationship(back_populates="team")


class User(UserMixin, db.Model):
    """A staff member: with a local password, or signed in through the organisation's provider.

    A provider's user is keyed by (issuer, subject) and never merged with a
    local account by name or e-mail; their role and teams come from the
    provider's claims at every sign-in (see :mod:`feedback.services.identity`).
    """

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_oidc_identity", "oidc_issuer", "oidc_subject",
                            unique=True),)
    #: The longest user name and display name, in characters.
    USERNAME_MAX = 200
    DISPLAY_NAME_MAX = 200
    ISSUER_MAX = 500
    SUBJECT_MAX = 255

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    #: Login name, stored lower-case.
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX))
    #: argon2 hash; never the password. Empty for a provider's user: no local password.
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=20, create_constraint=True, name="role"))
    #: Deactivating a user ends their staff sessions (see :class:`StaffSession`).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The staff member's chosen interface language; respondents choose their own.
    locale: Mapped[str] = mapped_column(String(10), default="da")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The OpenID provider (its issuer URL) and the subject it knows the person by.
    oidc_issuer: Mapped[str | None] = mapped_column(String(ISSUER_MAX))
    oidc_subject: Mapped[str | None] = mapped_column(String(SUBJECT_MAX))
    #: argon2 hash of the PIN the user set to unlock a handed-over tablet, if any.
    pin_hash: Mapped[str | None] = mapped_column(String(255))
    #: Deactivated by an administrator: stays so whatever the provider's claims say.
    suspended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Where the role and teams came from: ``{"source": "local"}`` or the provider's
    #: claims and the mapping rules they matched at the last sign-in (shown to admins).
    role_origin: Mapped[dict | None] = mapped_column(JSON)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    memberships: Mapped[list[TeamMembership]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login
        """Flask-Login: whether the user may sign in."""
        return self.active

    def get_id(self) -> str:  # Flask-Login
        """Flask-Login: the user's id; the staff session row decides whether it still counts."""
        return str(self.id)

    @property
    def has_password(self) -> bool:
        """Whether the user can sign in (and unlock) with a local password."""
        return bool(self.password_hash)

    @property
    def is_federated(self) -> bool:
        """Whether the user signs in through the organisation's OpenID provider."""
        return self.oidc_issuer is not None

    @property
    def team_ids(self) -> list[uuid.UUID]:
        """The ids of the teams the user belongs to."""
        return [m.team_id for m in self.memberships]


class TeamMembership(db.Model):
    """A staff member's membership of a team."""

    __tablename__ = "team_memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"), primary_key=True)

    user: Mapped[User] = relationship(back_populates="memberships")
    team: Mapped[Team] = relationship(back_populates="members")
