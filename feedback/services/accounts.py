"""Staff accounts: organisations, teams, users, passwords."""

from __future__ import annotations

import enum
import re
import uuid
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload

from feedback import clock
from feedback.extensions import db
from feedback.models import Organisation, Role, StaffSession, Team, TeamMembership, User
from feedback.services import access, audit, throttle
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid, NotFound, Throttled
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


def _verifies(hashed: str | None, secret: str) -> bool:
    if not hashed:
        return False
    try:
        return _hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def unlock(actor: Actor, password: str) -> UnlockResult:
    """Check the caseworker's password or PIN to end a hand-over; failures are throttled."""
    user = actor.user
    ok = _verifies(user.password_hash, password) or _verifies(user.pin_hash, password)
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
#: A staff session row is read with its user: every request needs both.
_WITH_USER = (joinedload(StaffSession.user),)


def start_session(user: User) -> StaffSession:
    """Open a server-side session for ``user`` after they signed in."""
    begin_write()
    row = StaffSession(user_id=user.id)
    db.session.add(row)
    db.session.commit()
    return row


def session_user(session_id: str | None, user_id: str | None, *,
                 touch: bool = True) -> User | None:
    """The staff member a session cookie speaks for, or ``None`` if it no longer counts.

    It counts while its session row is open, belongs to that user, is younger
    than the staff session lifetime, and the user is active. Checked on every
    request, so logging out or deactivating a user works at once on every host.
    ``touch=False`` (a page polling in the background) leaves ``last_seen_at``
    alone, so an open page does not keep an idle session alive.
    """
    try:
        row = db.session.get(StaffSession, uuid.UUID(str(session_id)), options=_WITH_USER)
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
    if touch and now - row.last_seen_at >= _SEEN_EVERY:
        begin_write()
        row.last_seen_at = now
        db.session.commit()
    return user


def end_session(session_id, reason: str, actor: Actor | None = None) -> None:
    """End one staff session (logging out, too many unlock failures, expiry); audited."""
    try:
        sid = uuid.UUID(str(session_id))
    except ValueError:
        return
    begin_write()
    ended = db.session.execute(update(StaffSession).where(
        StaffSession.id == sid, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason)).rowcount
    if ended:
        audit.record(actor or Actor.system("sessions"), "auth.logout", "staff_session", sid,
                     detail=reason)
    db.session.commit()


def _open_session(session_id) -> StaffSession | None:
    try:
        row = db.session.get(StaffSession, uuid.UUID(str(session_id)), options=_WITH_USER)
    except ValueError:
        return None
    return row if row is not None and row.ended_at is None else None


def open_session(session_id) -> StaffSession | None:
    """This staff session's row (with its user loaded) while it is open; else ``None``."""
    if not session_id:
        return None
    return _open_session(session_id)


def handover_back(session_id) -> str | None:
    """Where the caseworker was, while this staff session is handed over; else ``None``."""
    row = open_session(session_id)
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


#: A PIN is 6 to 12 digits: short enough to type on a tablet, throttled like a password.
PIN_PATTERN = re.compile(r"[0-9]{6,12}")


def set_pin(actor: Actor, pin: str) -> None:
    """Set the signed-in staff member's PIN for unlocking a handed-over tablet."""
    if not PIN_PATTERN.fullmatch(pin or ""):
        raise Invalid("pin_format", field="pin")
    if len(set(pin)) == 1 or pin in "01234567890123" or pin in "98765432109876":
        raise Invalid("pin_too_simple", field="pin")
    begin_write()
    user = db.session.get(User, actor.user_id)
    user.pin_hash = hash_password(pin)
    audit.record(actor, "user.pin", "user", user.id)
    db.session.commit()


# --- administrators' pages ----------------------------------------------------------

def user_for_admin(actor: Actor, user_id) -> User:
    """A user of the administrator's organisation; :class:`NotFound` otherwise."""
    access.require_area(actor, Action.admin)
    try:
        uid = uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound() from None
    user = db.session.scalar(
        select(User).where(User.id == uid, User.organisation_id == actor.user.organisation_id)
        .options(selectinload(User.memberships).selectinload(TeamMembership.team)))
    if user is None:
        raise NotFound()
    return user


def teams_by_ids(actor: Actor, ids) -> list[Team]:
    """The administrator's organisation's teams with these ids (others are ignored)."""
    wanted = set()
    for value in ids or ():
        try:
            wanted.add(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not wanted:
        return []
    return list(db.session.scalars(select(Team).where(
        Team.id.in_(wanted), Team.organisation_id == actor.user.organisation_id)))


def admin_create_user(actor: Actor, username: str, display_name: str, role: str,
                      password: str, team_ids=()) -> User:
    """An administrator creates a local user in their organisation; audited."""
    access.require_area(actor, Action.admin)
    if len(password or "") < 10:
        raise Invalid("password_too_short", field="password")
    try:
        role = Role(role)
    except ValueError:
        raise Invalid("required", field="role") from None
    user = create_user(actor.user.organisation, username, password, display_name, role,
                       teams_by_ids(actor, team_ids), actor=actor)
    begin_write()
    user.role_origin = _local_origin(actor)
    db.session.commit()
    return user


def _local_origin(actor: Actor) -> dict:
    return {"source": "local", "by": actor.user.display_name, "by_id": str(actor.user_id),
            "at": clock.now().isoformat(timespec="seconds")}


def admin_set_role(actor: Actor, user_id, role: str, team_ids=()) -> User:
    """An administrator sets a local user's role and teams (at once, for every session).

    A provider's user gets role and teams from the provider's claims at every
    sign-in, so they are not set here; an administrator cannot take away their
    own administrator role (nobody would be left to give it back).
    """
    user = user_for_admin(actor, user_id)
    if user.is_federated:
        raise Invalid("federated_role")
    try:
        role = Role(role)
    except ValueError:
        raise Invalid("required", field="role") from None
    if user.id == actor.user_id and role != Role.admin:
        raise Invalid("not_yourself_role")
    teams = teams_by_ids(actor, team_ids)
    begin_write()
    user.role = role
    wanted = {t.id for t in teams}
    for membership in list(user.memberships):
        if membership.team_id not in wanted:
            db.session.delete(membership)
    for team in teams:
        if team.id not in user.team_ids:
            db.session.add(TeamMembership(user=user, team=team))
    user.role_origin = _local_origin(actor)
    names = ", ".join(sorted(t.name for t in teams)) or "-"
    audit.record(actor, "user.roles", "user", user.id, detail=f"role {role.value}; teams {names}")
    db.session.commit()
    db.session.refresh(user)
    return user


def admin_set_active(actor: Actor, user_id, active: bool) -> User:
    """Deactivate (ending every session at once) or reactivate a user; audited.

    A deactivated provider's user stays deactivated whatever the provider says.
    """
    user = user_for_admin(actor, user_id)
    if user.id == actor.user_id and not active:
        raise Invalid("not_yourself")
    set_active(user, active, actor)
    begin_write()
    user.suspended = not active
    db.session.commit()
    return user


def admin_reset(actor: Actor, user_id, password: str | None) -> User:
    """Reset a user: a new local password (for local users), the PIN cleared, sessions ended.

    The user signs in again everywhere; a provider's user keeps signing in there.
    """
    user = user_for_admin(actor, user_id)
    if user.has_password or password:
        if user.is_federated:
            raise Invalid("federated_password")
        if len(password or "") < 10:
            raise Invalid("password_too_short", field="password")
    begin_write()
    if password:
        user.password_hash = hash_password(password)
    user.pin_hash = None
    db.session.execute(update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason="reset"))
    audit.record(actor, "user.reset", "user", user.id)
    db.session.commit()
    return user


def team_for_admin(actor: Actor, team_id) -> Team:
    """A team of the administrator's organisation; :class:`NotFound` otherwise."""
    access.require_area(actor, Action.admin)
    try:
        tid = uuid.UUID(str(team_id))
    except ValueError:
        raise NotFound() from None
    team = db.session.scalar(select(Team).where(
        Team.id == tid, Team.organisation_id == actor.user.organisation_id))
    if team is None:
        raise NotFound()
    return team


def team_members(actor: Actor, team: Team) -> list[User]:
    """The team's members, by name (administrators only)."""
    access.require_area(actor, Action.admin)
    return list(db.session.scalars(
        select(User).join(TeamMembership).where(TeamMembership.team_id == team.id)
        .order_by(User.display_name)))


def admin_rename_team(actor: Actor, team_id, name: str) -> Team:
    """Rename a team; names stay unique in the organisation. Audited.

    A role mapping that names the old name creates a new team at the next sign-in,
    so rename the team in the mapping too.
    """
    team = team_for_admin(actor, team_id)
    name = (name or "").strip()
    if not name:
        raise Invalid("team_name_required", field="name")
    if len(name) > Team.NAME_MAX:
        raise Invalid("too_long", field="name", max=Team.NAME_MAX)
    begin_write()
    taken = db.session.scalar(select(func.count()).select_from(Team).where(
        Team.organisation_id == team.organisation_id, Team.name == name, Team.id != team.id))
    if taken:
        db.session.rollback()
        raise Invalid("team_exists")
    old = team.name
    team.name = name
    audit.record(actor, "team.rename", "team", team.id, detail=f"{old} -> {name}"[:500])
    db.session.commit()
    return team


def admin_set_team_active(actor: Actor, team_id, active: bool) -> Team:
    """Deactivate a team (no new cases in it) or reactivate it. Audited.

    Its cases, and its members' memberships, stay as they are: team leads go
    on seeing its cases, which can be moved to an active team.
    """
    team = team_for_admin(actor, team_id)
    begin_write()
    team.active = active
    audit.record(actor, "team.activate" if active else "team.deactivate", "team", team.id)
    db.session.commit()
    return team


def admin_create_team(actor: Actor, name: str) -> Team:
    """An administrator creates a team in their organisation; audited."""
    access.require_area(actor, Action.admin)
    team = create_team(actor.user.organisation, name)
    audit.record_now(actor, "team.create", "team", team.id)
    return team


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
