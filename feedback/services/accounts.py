"""Staff accounts: organisations, teams, users, passwords."""

from __future__ import annotations

import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from feedback.extensions import db
from feedback.models import Organisation, Role, Team, TeamMembership, User
from feedback.services import audit
from feedback.services.errors import Invalid
from feedback.services.uow import begin_write

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(username: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``; audited either way."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    begin_write()
    if ok and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    audit.record("auth.login", "user", user.id if user else None,
                 outcome="ok" if ok else "refused", actor=user if ok else None,
                 actor_kind="staff", detail=None if ok else "bad credentials or inactive")
    db.session.commit()
    return user if ok else None


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s; audited when it is not."""
    try:
        ok = _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        audit.record_now("auth.unlock", "user", user.id, outcome="refused", actor=user)
    return ok


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id must match the user's current session version."""
    try:
        raw_id, version = session_id.split(":")
        user = db.session.get(User, uuid.UUID(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user


def get_or_create_organisation(name: str) -> Organisation:
    org = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        begin_write()
        org = Organisation(name=name)
        db.session.add(org)
        db.session.commit()
    return org


def create_team(organisation: Organisation, name: str) -> Team:
    name = name.strip()
    if not name:
        raise Invalid("team_name_required")
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
                role: Role | str, teams: list[Team] = (), locale: str = "da") -> User:
    username = username.strip().lower()
    if not username or len(password) < 10:
        raise Invalid("user_invalid")
    begin_write()
    if db.session.scalar(select(User.id).where(User.username == username)):
        db.session.rollback()
        raise Invalid("user_exists")
    user = User(organisation=organisation, username=username, display_name=display_name,
                password_hash=hash_password(password), role=Role(role), locale=locale)
    db.session.add(user)
    for team in teams:
        db.session.add(TeamMembership(user=user, team=team))
    audit.record("user.create", "user", user.id, actor_kind="system")
    db.session.commit()
    return user


def set_active(user: User, active: bool) -> None:
    """Deactivating a user ends their sessions at once."""
    begin_write()
    user.active = active
    user.session_version += 1
    audit.record("user.activate" if active else "user.deactivate", "user", user.id,
                 actor_kind="system")
    db.session.commit()


def set_locale(user: User, locale: str) -> None:
    begin_write()
    user.locale = locale
    db.session.commit()


def list_users(admin: User) -> list[User]:
    """The organisation's staff, with their teams loaded."""
    return list(db.session.scalars(
        select(User).where(User.organisation_id == admin.organisation_id)
        .options(selectinload(User.memberships).selectinload(TeamMembership.team))
        .order_by(User.role, User.username)))


def list_teams(admin: User) -> list[Team]:
    return list(db.session.scalars(
        select(Team).where(Team.organisation_id == admin.organisation_id).order_by(Team.name)))
