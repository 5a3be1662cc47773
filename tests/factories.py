"""Test data built through the same models and services the app uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from feedback import clock
from feedback.extensions import db
from feedback.models import Organisation, Participant, Role, Team, TeamMembership, User
from feedback.services import cases, invitations
from feedback.services.accounts import hash_password
from feedback.services.actors import Actor

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for all test users


@dataclass
class World:
    org: Organisation
    north: Team
    south: Team
    anna: User  # caseworker, north
    bo: User  # caseworker, north
    carla: User  # caseworker, south
    lene: User  # team lead, north
    ali: User  # analyst
    admin: User


def user(org, username, role, teams=(), **kw) -> User:
    u = User(organisation=org, username=username, display_name=username.title(),
             password_hash=_HASH, role=role, **kw)
    db.session.add(u)
    for team in teams:
        db.session.add(TeamMembership(user=u, team=team))
    return u


def world() -> World:
    org = Organisation(name="Testkommune")
    north, south = Team(organisation=org, name="Nord"), Team(organisation=org, name="Syd")
    db.session.add_all([org, north, south])
    w = World(
        org, north, south,
        anna=user(org, "anna", Role.caseworker, [north]),
        bo=user(org, "bo", Role.caseworker, [north]),
        carla=user(org, "carla", Role.caseworker, [south]),
        lene=user(org, "lene", Role.team_lead, [north]),
        ali=user(org, "ali", Role.analyst),
        admin=user(org, "admin", Role.admin),
    )
    db.session.commit()
    return w


def actor(u: User) -> Actor:
    """A staff member as the actor services are told about."""
    return Actor.staff(u, "192.0.2.10")


def case(owner: User, team: Team, reference="SAG-1", birth_year=2012, opened=date(2026, 1, 5),
         **kw):
    return cases.create_case(actor(owner), reference=reference, team_id=team.id,
                             child_birth_year=birth_year, opened_on=opened, **kw)


def meeting(owner: User, the_case, held_on=None, type="follow_up", mode="in_person"):
    return cases.create_meeting(actor(owner), the_case, held_on=held_on or clock.today(),
                                type=type, mode=mode)


def child_of(the_case) -> Participant:
    return next(p for p in the_case.participants if p.role.value == "child")


def invite(owner: User, the_meeting, participant, packs=("ors",)):
    return invitations.invite(actor(owner), the_meeting, participant, list(packs))


def login(client, u: User, password: str = PASSWORD):
    response = client.post("/login", data={"username": u.username, "password": password})
    assert response.status_code == 302, response.status_code
    return response
