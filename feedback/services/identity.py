"""Signing in through the organisation's OpenID provider: who the person is, and what they may do.

The protocol (redirects, state, nonce, PKCE, the provider's keys) is handled
by Authlib in :mod:`feedback.auth.oidc`; this module is handed the claims of
an ID token that has already been checked, and

* finds the user by (issuer, subject) — never by name or e-mail, so a
  provider's user is never merged with a local account;
* creates or updates them at every sign-in, with role and team memberships
  derived from the claims through the configured mapping (removing a group at
  the provider takes effect at the next sign-in);
* deactivates them when the claims give no role;
* remembers where the role came from, for the administrator.
"""

from __future__ import annotations

import enum
import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select, update

from feedback import clock
from feedback.extensions import db
from feedback.models import Organisation, Role, StaffSession, Team, TeamMembership, User
from feedback.services import audit
from feedback.services.actors import Actor
from feedback.services.uow import begin_write

#: The claim a rule looks in when it names a ``group``.
DEFAULT_GROUPS_CLAIM = "groups"
#: How far the provider's clock may be behind ours when it says when the person signed in.
AUTH_TIME_SKEW_SECONDS = 30


class MappingError(ValueError):
    """The role mapping file is missing or wrong; the message says where."""


@dataclass(frozen=True)
class Rule:
    """One line of the mapping: a claim value that grants a role and/or team memberships."""

    claim: str
    value: str
    role: Role | None
    teams: tuple[str, ...] = ()

    def matches(self, claims: dict) -> bool:
        """Whether the claim holds the value (a claim may be one string or a list)."""
        held = claims.get(self.claim)
        if isinstance(held, str):
            return held == self.value
        if isinstance(held, list | tuple):
            return self.value in [v for v in held if isinstance(v, str)]
        return False

    def describe(self) -> dict:
        """The rule as stored in a user's role origin."""
        return {"claim": self.claim, "value": self.value,
                "role": self.role.value if self.role else None, "teams": list(self.teams)}


@dataclass(frozen=True)
class RoleMapping:
    """The organisation's rules from claims to roles and teams, in the file's order."""

    rules: tuple[Rule, ...] = ()

    def resolve(self, claims: dict) -> Grant:
        """The role and teams these claims give.

        The role is that of the first matching rule that names one (put the
        strongest first); the teams are those of every matching rule.
        """
        matched = [r for r in self.rules if r.matches(claims)]
        role = next((r.role for r in matched if r.role is not None), None)
        teams: list[str] = []
        for rule in matched:
            teams += [t for t in rule.teams if t not in teams]
        return Grant(role=role, teams=tuple(teams), rules=tuple(matched))

    @property
    def claims(self) -> set[str]:
        """The claims the rules look at (only these are kept in a user's role origin)."""
        return {r.claim for r in self.rules}


@dataclass(frozen=True)
class Grant:
    """What a set of claims grants, and which rules granted it."""

    role: Role | None
    teams: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = field(default_factory=tuple)


def parse_mapping(text: str, source: str = "role mapping") -> RoleMapping:
    """Read the TOML role mapping; :class:`MappingError` says what is wrong and where.

    ::

        [[rule]]
        group = "fb-nord-leads"          # shorthand for claim = "groups", value = …
        role = "team_lead"
        teams = ["Team Nord"]

        [[rule]]
        claim = "roles"
        value = "feedback-analyst"
        role = "analyst"
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{source}: not valid TOML: {exc}") from exc
    groups_claim = data.get("groups_claim", DEFAULT_GROUPS_CLAIM)
    if not isinstance(groups_claim, str) or not groups_claim:
        raise MappingError(f"{source}: groups_claim must be a claim name")
    unknown = set(data) - {"groups_claim", "rule"}
    if unknown:
        raise MappingError(f"{source}: unknown keys {sorted(unknown)} (expected [[rule]])")
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list):
        raise MappingError(f"{source}: rules are written as [[rule]] tables")
    rules = []
    for n, raw in enumerate(raw_rules, start=1):
        where = f"{source}: rule {n}"
        unknown = set(raw) - {"group", "claim", "value", "role", "teams"}
        if unknown:
            raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
        if "group" in raw:
            if "claim" in raw or "value" in raw:
                raise MappingError(f"{where}: give either group, or claim and value")
            claim, value = groups_claim, raw["group"]
        else:
            claim, value = raw.get("claim"), raw.get("value")
        if not isinstance(claim, str) or not claim or not isinstance(value, str) or not value:
            raise MappingError(f"{where}: needs group = \"…\", or claim = \"…\" and value = \"…\"")
        role = raw.get("role")
        if role is not None:
            try:
                role = Role(role)
            except ValueError:
                raise MappingError(
                    f"{where}: role {role!r} is not one of "
                    f"{', '.join(r.value for r in Role)}") from None
        teams = raw.get("teams", [])
        if not isinstance(teams, list) or not all(
                isinstance(t, str) and t.strip() and len(t.strip()) <= Team.NAME_MAX
                for t in teams):
            raise MappingError(f"{where}: teams must be a list of team names")
        if role is None and not teams:
            raise MappingError(f"{where}: grants neither a role nor a team")
        rules.append(Rule(claim=claim, value=value, role=role,
                          teams=tuple(t.strip() for t in teams)))
    return RoleMapping(tuple(rules))


def load_mapping(path: str | Path) -> RoleMapping:
    """The role mapping from its file (``FEEDBACK_OIDC_ROLE_MAPPING``)."""
    if not path:
        raise MappingError("FEEDBACK_OIDC_ROLE_MAPPING is not set: no claim would give a role")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise MappingError(f"cannot read the role mapping {path}: {exc.strerror}") from exc
    return parse_mapping(text, str(path))


def configured_mapping() -> RoleMapping:
    """The role mapping of the running app, read once per app."""
    cache = current_app.extensions.setdefault("feedback.role_mapping", {})
    path = current_app.config.get("FEEDBACK_OIDC_ROLE_MAPPING", "")
    if path not in cache:
        cache[path] = load_mapping(path)
    return cache[path]


# --- signing in ---------------------------------------------------------------------

class Outcome(enum.Enum):
    """How a sign-in at the provider ended here."""

    signed_in = "signed_in"
    #: The claims give no role: the account is deactivated, the person has no access.
    no_role = "no_role"
    #: An administrator deactivated the account; the provider cannot undo that.
    suspended = "suspended"


def _username(issuer: str, subject: str) -> str:
    # Unique per (issuer, subject) and never a name a person types at the local
    # login, so a provider's user can never be taken for a local account.
    digest = hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()[:20]
    return f"oidc-{digest}"


def _display_name(claims: dict) -> str:
    for key in ("name", "preferred_username", "email"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:User.DISPLAY_NAME_MAX]
    return str(claims["sub"])[:User.DISPLAY_NAME_MAX]


def _team(organisation: Organisation, name: str) -> Team:
    team = db.session.scalar(select(Team).where(Team.organisation_id == organisation.id,
                                                Team.name == name))
    if team is None:
        # A team named in the mapping is created at the first sign-in that needs it.
        team = Team(organisation=organisation, name=name)
        db.session.add(team)
        db.session.flush()
    return team


def _origin(issuer: str, claims: dict, mapping: RoleMapping, grant: Grant) -> dict:
    looked_at = {c: claims[c] for c in sorted(mapping.claims) if c in claims}
    return {
        "source": "oidc",
        "issuer": issuer,
        "at": clock.now().isoformat(timespec="seconds"),
        "claims": looked_at,
        "rules": [r.describe() for r in grant.rules],
        "role": grant.role.value if grant.role else None,
        "teams": list(grant.teams),
    }


def user_for(issuer: str, subject: str) -> User | None:
    """The user the provider knows by ``subject``, if they signed in before."""
    return db.session.scalar(select(User).where(User.oidc_issuer == issuer,
                                                User.oidc_subject == subject))


def sign_in(issuer: str, claims: dict, actor: Actor,
            mapping: RoleMapping | None = None) -> tuple[Outcome, User]:
    """Create or update the user these (already verified) ID token claims describe.

    Role and teams are derived from the claims at every sign-in. Claims that
    give no role deactivate the account and end its sessions. Audited either way.
    """
    mapping = mapping if mapping is not None else configured_mapping()
    subject = str(claims["sub"])
    if len(subject) > User.SUBJECT_MAX or len(issuer) > User.ISSUER_MAX:
        raise ValueError("issuer or subject longer than any provider uses")
    begin_write()
    user = user_for(issuer, subject)
    organisation = get_or_create_organisation_in_transaction()
    if user is None:
        user = User(organisation=organisation, username=_username(issuer, subject),
                    display_name=_display_name(claims), password_hash="",
                    role=Role.caseworker, active=False, oidc_issuer=issuer,
                    oidc_subject=subject)
        db.session.add(user)
        db.session.flush()
        audit.record(actor, "user.create", "user", user.id, detail="oidc")
    else:
        user.display_name = _display_name(claims)
    who = Actor.staff(user, actor.address)
    if user.suspended:
        audit.record(who, "auth.login", "user", user.id, outcome="refused",
                     detail="oidc: deactivated by an administrator")
        db.session.commit()
        return Outcome.suspended, user

    grant = mapping.resolve(claims)
    before = (user.active, user.role, sorted(m.team.name for m in user.memberships))
    user.role_origin = _origin(issuer, claims, mapping, grant)
    user.last_sign_in_at = clock.now()
    if grant.role is None:
        user.active = False
        db.session.execute(delete(TeamMembership).where(TeamMembership.user_id == user.id))
        _end_sessions(user, "no_role")
        outcome = Outcome.no_role
    else:
        user.active = True
        user.role = grant.role
        _set_teams(user, [_team(organisation, name) for name in grant.teams])
        outcome = Outcome.signed_in
    db.session.flush()
    db.session.expire(user, ["memberships"])
    after = (user.active, user.role, sorted(m.team.name for m in user.memberships))
    if after != before:
        audit.record(actor if outcome == Outcome.no_role else who, "user.roles", "user",
                     user.id, detail=_change_text(after))
    if outcome == Outcome.no_role:
        audit.record(actor, "auth.login", "user", user.id, outcome="refused",
                     detail="oidc: no role from the claims")
    else:
        audit.record(who, "auth.login", "user", user.id, detail="oidc")
    db.session.commit()
    return outcome, user


def refuse(actor: Actor, reason: str) -> None:
    """Audit a sign-in at the provider that was refused before anyone was known."""
    audit.record_now(actor, "auth.login", outcome="refused", detail=f"oidc: {reason}")


def get_or_create_organisation_in_transaction() -> Organisation:
    """The configured organisation, inside the caller's write transaction."""
    name = current_app.config["FEEDBACK_ORGANISATION"]
    org = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = Organisation(name=name)
        db.session.add(org)
        db.session.flush()
    return org


def _change_text(state) -> str:
    active, role, teams = state
    if not active:
        return "deactivated: no role"
    return f"role {role.value}; teams {', '.join(teams) or '-'}"


def _set_teams(user: User, teams: Iterable[Team]) -> None:
    wanted = {t.id for t in teams}
    db.session.execute(delete(TeamMembership).where(TeamMembership.user_id == user.id,
                                                    TeamMembership.team_id.not_in(wanted)))
    have = set(db.session.scalars(select(TeamMembership.team_id)
                                  .where(TeamMembership.user_id == user.id)))
    for team_id in wanted - have:
        db.session.add(TeamMembership(user_id=user.id, team_id=team_id))


def _end_sessions(user: User, reason: str) -> None:
    db.session.execute(update(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
        .values(ended_at=clock.now(), end_reason=reason))


# --- unlocking a handed-over tablet at the provider -----------------------------------

def reauthenticated(actor: Actor, issuer: str, claims: dict, asked_at: int) -> bool:
    """Whether the provider just re-authenticated the signed-in staff member; audited.

    It must be the same issuer and subject as the signed-in user, and the
    ``auth_time`` claim must be no earlier than when we asked (``asked_at``,
    seconds since the epoch on the wall clock, as the provider's timestamps
    are), give or take a little clock skew.
    """
    user = actor.user
    auth_time = claims.get("auth_time")
    same = user.oidc_issuer == issuer and user.oidc_subject == str(claims.get("sub"))
    fresh = isinstance(auth_time, int | float) and auth_time >= asked_at - AUTH_TIME_SKEW_SECONDS
    if same and fresh:
        audit.record_now(actor, "handover.unlock", "user", user.id, detail="oidc")
        return True
    audit.record_now(actor, "handover.unlock", "user", user.id, outcome="refused",
                     detail="oidc: another person" if not same else "oidc: no fresh sign-in")
    return False


__all__ = ["Grant", "MappingError", "Outcome", "RoleMapping", "Rule", "configured_mapping",
           "load_mapping", "parse_mapping", "reauthenticated", "refuse",
           "sign_in", "user_for"]
