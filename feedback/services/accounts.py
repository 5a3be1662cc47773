"""Staff accounts: organisations, teams, users, passwords."""

from __future__ import annotations

import enum
import uuid
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from feedback import clock
from feedback.extensions import db
from feedback.models import Organisation, Role, StaffSession, Team, TeamMembership, User
from feedback.services import access, audit, throttle
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid, Throttled
from feedback.services.uow import begin_write

_hasher = PasswordHasher()

#: Failed unlocks on a handed-over tablet before the staff session is ended.
UNLOCK_LIMIT = 5


@cache
def _dummy_hash() -> str:
    # Verified against when the user does not exist, so timing does not reveal
    # usernames. Computed on first use, not at import: argon2 costs memory.
    return _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    """An argon2 hash of ``password``."""
    return _hasher.hash(password)


class UnlockResult(enum.Enum):
    """What a try to unlock a handed-over tablet led to."""

    unlocked = "unlocked"
    wrong = "wrong"
    #: Too many wrong tries: the caller ends the staff session.
    locked_out = "locked_out"


def authenticate(username: str, password: str, actor: Actor) -> User | None:
    """The active user with these credentials, or ``None``; audited either way.

    Repeated failures for one username or from one address raise
    :class:`Throttled` before the password is even checked.
    """
    name = username.strip().lower()
    # The account from this address; the account from anywhere; this address for any
    # account. A caseworker's own office is slowed only by failures from its address,
    # and every block ends with its 15-minute window: nobody is locked out for long.
    keys = (f"login:{name[:60]}@{actor.address}", f"login:{name[:60]}",
            f"login-addr:{actor.address}")
    limit = current_app.config["FEEDBACK_LOGIN_THROTTLE"]
    limits = (limit, 5 * limit, current_app.config["FEEDBACK_LOGIN_ADDRESS_THROTTLE"])
    if any(throttle.blocked(key, n) for key, n in zip(keys, limits, strict=True)):
        audit.record_now(actor, "auth.login", outcome="refused", detail="throttled")
        raise Throttled()
    user = db.session.scalar(select(User).where(User.username == name))
    try:
        _hasher.verify(user.password_hash if user else _dummy_hash(), password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    begin_write()
    if ok and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    who = Actor.staff(user, actor.address) if ok else actor
    audit.record(who, "auth.login", "user", user.id if user else None,
                 outcome="ok" if ok else "refused",
                 detail=None if ok else "bad credentials or inactive")
    db.session.commit()
    if not ok:
        throttle.record_failure(*keys)
        return None
    return user


def unlock(actor: Actor, password: str) -> UnlockResult:
    """Check the caseworker's password to end a hand-over; failures are throttled."""
    user = actor.user
    try:
        ok = _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if ok:
        audit.record_now(actor, "handover.unlock", "user", user.id)
        return UnlockResult.unlocked
    audit.record_now(actor, "handover.unlock", "user", user.id, outcome="refused",
                     detail="wrong password")
    key = f"unlock:{user.id}"
    throttle.record_failure(key)
    if throttle.blocked(key, UNLOCK_LIMIT):
        return UnlockResult.locked_out
    return UnlockResult.wrong


#: ``last_seen_at`` is written at most this often per session.
_SEEN_EVERY = timedelta(minutes=1)


def start_session(user: User) -> StaffSession:
    """Open a server-side session for ``user`` after they signed in."""
    begin_write()
    row = StaffSession(user_id=user.id)
    db.session.add(row)
    db.session.commit()
    return row


def session_user(session_id: str | None, user_id: str | None) -> User | None:
    """The staff member a session cookie speaks for, or ``None`` if it no longer counts.

    It counts while its session row is open, belongs to that user, is younger
    than the staff session lifetime, and the user is active. Checked on every
    request, so logging out or deactivating a user works at once on every host.
    """
    try:
        row = db.session.get(StaffSession, uuid.UUID(str(session_id)))
        owner = uuid.UUID(str(user_id))
    except ValueError:
        return None
    if row is None or row.ended_at is not None or row.user_id != owner:
        return None
    now = clock.now()
    if now - row.created_at > current_app.permanent_session_lifetime:
        end_session(row.id, "expired")
        return None
    idle = timedelta(minutes=current_app.config["FEEDBACK_STAFF_IDLE_MINUTES"])
    if now - row.last_seen_at > idle:
        end_session(row.id, "idle")
        return None
    user = row.user
    if not user.active:
        return None
    if now - row.last_seen_at >= _SEEN_EVERY:
        begin_write()
        row.last_seen_at = now
        db.session.commit()
    return user


def end_session(session_id, reason: str) -> None:
    """End one staff session (logging out, too many unlock failures, expiry)."""
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        return
    begin_write()
    db.session.execute(update(StaffSession).where(
        StaffSession.id == sid, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason))
    db.session.commit()


def _open_session(session_id) -> StaffSession | None:
    try:
        row = db.session.get(StaffSession, uuid.UUID(str(session_id)))
    except ValueError:
        return None
    return row if row is not None and row.ended_at is None else None


def handover_back(session_id) -> str | None:
    """Where the caseworker was, while this staff session is handed over; else ``None``."""
    if not session_id:
        return None
    row = _open_session(session_id)
    return row.handover_back if row is not None else None


def set_handover(session_id, back: str | None) -> None:
    """Lock this staff session to the respondent pages (``back``), or unlock it (``None``)."""
    row = _open_session(session_id)
    if row is None:
        return
    begin_write()
    row.handover_back = back
    db.session.commit()


def get_or_create_organisation(name: str) -> Organisation:
    """The organisation with this name, created on first use."""
    org = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        begin_write()
        org = Organisation(name=name)
        db.session.add(org)
        db.session.commit()
    return org


def create_team(organisation: Organisation, name: str) -> Team:
    """A new team; names are unique within the organisation."""
    name = name.strip()
    if not name:
        raise Invalid("team_name_required", field="name")
    if len(name) > Team.NAME_MAX:
        raise Invalid("too_long", field="name", max=Team.NAME_MAX)
    begin_write()
    exists = db.session.scalar(select(func.count()).select_from(Team).where(
        Team.organisation_id == organisation.id, Team.name == name))
    if exists:
        db.session.rollback()
        raise Invalid("team_exists")
    team = Team(organisation=organisation, name=name)
    db.session.add(team)
    db.session.commit()
    return team


def create_user(organisation: Organisation, username: str, password: str, display_name: str,
                role: Role | str, teams: list[Team] = (), locale: str = "da",
                actor: Actor | None = None) -> User:
    """A new staff user with an argon2-hashed password; usernames are unique."""
    actor = actor or Actor.system()
    username = username.strip().lower()
    display_name = display_name.strip()
    if not username or not display_name or len(password) < 10:
        raise Invalid("user_invalid")
    if len(username) > User.USERNAME_MAX:
        raise Invalid("too_long", field="username", max=User.USERNAME_MAX)
    if len(display_name) > User.DISPLAY_NAME_MAX:
        raise Invalid("too_long", field="display_name", max=User.DISPLAY_NAME_MAX)
    begin_write()
    if db.session.scalar(select(User.id).where(User.username == username)):
        db.session.rollback()
        raise Invalid("user_exists")
    user = User(organisation=organisation, username=username, display_name=display_name,
                password_hash=hash_password(password), role=Role(role), locale=locale)
    db.session.add(user)
    for team in teams:
        db.session.add(TeamMembership(user=user, team=team))
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id)
    db.session.commit()
    return user


def set_active(user: User, active: bool, actor: Actor | None = None) -> None:
    """Deactivating a user ends their sessions at once."""
    actor = actor or Actor.system()
    begin_write()
    user.active = active
    if not active:
        # Every browser the user is signed in on stops working at its next request.
        db.session.execute(update(StaffSession).where(
            StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
            .values(ended_at=clock.now(), end_reason="deactivated"))
    audit.record(actor, "user.activate" if active else "user.deactivate", "user", user.id)
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    """Remember the staff member's interface language."""
    begin_write()
    user.locale = locale
    db.session.commit()


def list_users(actor: Actor) -> list[User]:
    """The organisation's staff, with their teams loaded (administrators only)."""
    access.require_area(actor, Action.admin)
    return list(db.session.scalars(
        select(User).where(User.organisation_id == actor.user.organisation_id)
        .options(selectinload(User.memberships).selectinload(TeamMembership.team))
        .order_by(User.role, User.username)))


def list_teams(actor: Actor) -> list[Team]:
    """The organisation's teams (administrators only)."""
    access.require_area(actor, Action.admin)
    return list(db.session.scalars(
        select(Team).where(Team.organisation_id == actor.user.organisation_id)
        .order_by(Team.name)))
