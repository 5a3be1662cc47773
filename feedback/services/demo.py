"""Demo data: two teams, staff in every role, about 30 cases with realistic histories.

Deterministic (a fixed seed), so screenshots and walkthroughs look the same on
every machine. Loaded once; running it again changes nothing.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import select

from feedback import clock
from feedback.extensions import db
from feedback.instruments.scoring import ItemAnswer, total_tenths
from feedback.models import (
    Answer,
    Case,
    Invitation,
    InvitationItem,
    Meeting,
    MeetingMode,
    MeetingType,
    Participant,
    ParticipantRole,
    Response,
    Role,
    Team,
    TeamMembership,
    User,
)
from feedback.services.accounts import get_or_create_organisation, hash_password
from feedback.services.instruments import ensure_version, pick
from feedback.services.invitations import default_subject
from feedback.services.uow import begin_write

DEMO_PASSWORD = "demo-feedback"  # noqa: S105 - printed for the demo, documented
DEMO_USERS = [
    # username, display name, role, team names
    ("anna", "Anna Rådgiver", Role.caseworker, ["Team Nord"]),
    ("bo", "Bo Rådgiver", Role.caseworker, ["Team Nord"]),
    ("carla", "Carla Rådgiver", Role.caseworker, ["Team Syd"]),
    ("dorte", "Dorte Rådgiver", Role.caseworker, ["Team Syd"]),
    ("lene", "Lene Leder", Role.team_lead, ["Team Nord"]),
    ("analytiker", "Ali Analytiker", Role.analyst, []),
    ("admin", "Administrator", Role.admin, []),
]


def load_demo(today: date | None = None, cases: int = 30, seed: int = 42) -> bool:
    """Load the demo set; returns False (and changes nothing) if it is already there."""
    if db.session.scalar(select(User.id).where(User.username == "anna")):
        return False
    today = today or clock.today()
    rng = random.Random(seed)
    org = get_or_create_organisation(current_app.config["FEEDBACK_ORGANISATION"])
    begin_write()
    teams = {name: Team(organisation=org, name=name) for name in ("Team Nord", "Team Syd")}
    db.session.add_all(teams.values())
    password_hash = hash_password(DEMO_PASSWORD)
    users = {}
    for username, name, role, team_names in DEMO_USERS:
        user = User(organisation=org, username=username, display_name=name, role=role,
                    password_hash=password_hash, locale="da")
        users[username] = user
        db.session.add(user)
        for team_name in team_names:
            db.session.add(TeamMembership(user=user, team=teams[team_name]))
    db.session.flush()  # users get their ids; meetings refer to them
    versions: dict = {}  # pack id → frozen version, looked up once
    caseworkers = [users[u] for u in ("anna", "bo", "carla", "dorte")]
    for n in range(cases):
        worker = caseworkers[n % len(caseworkers)]
        team = teams["Team Nord"] if worker.username in ("anna", "bo") else teams["Team Syd"]
        _demo_case(rng, n, org, team, worker, today, versions)
    db.session.commit()
    return True


def _demo_case(rng, n, org, team, worker, today, versions):
    opened = today - timedelta(days=rng.randint(30, 540))
    birth_year = opened.year - rng.randint(4, 17)
    closed = None
    if rng.random() < 0.3 and (today - opened).days > 200:
        closed = opened + timedelta(days=rng.randint(150, (today - opened).days))
    case = Case(organisation=org, reference=f"DEMO-{opened.year}-{n + 1:04d}", team=team,
                responsible=worker, opened_on=opened, closed_on=closed,
                child_birth_year=birth_year, child_birth_month=rng.choice([None, *range(1, 13)]))
    db.session.add(case)
    people = [Participant(case=case, role=ParticipantRole.child)]
    people.append(Participant(case=case, role=ParticipantRole.mother))
    if rng.random() < 0.6:
        people.append(Participant(case=case, role=ParticipantRole.father))
    if rng.random() < 0.3:
        people.append(Participant(case=case, role=ParticipantRole.network, label="Lærer"))
    db.session.add_all(people)

    end = closed or today
    day = opened + timedelta(days=rng.randint(7, 28))
    meeting_no = 0
    # Each respondent starts somewhere and drifts, mostly upwards.
    level = {id(p): rng.uniform(3.5, 7.0) for p in people}
    trend = {id(p): rng.uniform(-0.2, 0.6) for p in people}
    while day <= end and meeting_no < 12:
        kind = MeetingType.first if meeting_no == 0 else (
            MeetingType.closing if closed and day + timedelta(days=42) > closed
            else rng.choice([MeetingType.follow_up, MeetingType.follow_up, MeetingType.network]))
        meeting = Meeting(case=case, held_on=day, type=kind, created_by_id=worker.id,
                          mode=rng.choice([MeetingMode.in_person] * 4 + [MeetingMode.video]))
        db.session.add(meeting)
        for person in people:
            if person.role == ParticipantRole.network and kind != MeetingType.network:
                continue
            level[id(person)] = min(9.5, max(0.5, level[id(person)] + trend[id(person)]
                                             + rng.uniform(-0.8, 0.8)))
            _demo_invitation(rng, case, meeting, person, worker, level[id(person)], versions)
        meeting_no += 1
        day += timedelta(days=rng.choice([14, 21, 28, 35, 42]))


def _demo_invitation(rng, case, meeting, person, worker, level, versions):
    """One respondent's bundle at one meeting, in the versions that fit, mostly answered."""
    age = case.child_age_on(meeting.held_on) if person.role == ParticipantRole.child else None
    families = ["outcome", "session"]
    if person.role == ParticipantRole.child:
        families.append("meeting-experience")
    packs = [p for f in families if (p := pick(f, person.role.value, age)) is not None]
    stamp = datetime.combine(meeting.held_on, time(9 + rng.randint(0, 6), rng.randint(0, 59)),
                             tzinfo=UTC)
    invitation = Invitation(meeting=meeting, participant=person,
                            subject=default_subject(person), created_by_id=worker.id,
                            created_at=stamp, expires_at=stamp + timedelta(hours=72))
    db.session.add(invitation)
    answered = rng.random() < 0.85  # some invitations are never answered
    for position, pack in enumerate(packs):
        version = versions.get(pack.id) or versions.setdefault(pack.id, ensure_version(pack))
        db.session.add(InvitationItem(invitation=invitation, position=position,
                                      instrument_version=version,
                                      used_at=stamp if answered else None))
        if not answered:
            continue
        # Session and meeting ratings sit high, as they do in the reports.
        centre = level if pack.family == "outcome" else rng.uniform(7.5, 9.8)
        answers = {item.key: ItemAnswer(_demo_value(rng, item.response, centre))
                   for item in pack.items}
        response = Response(
            submission_id=uuid.uuid4(), meeting=meeting, participant=person,
            invitation=invitation, instrument_version=version, subject=invitation.subject,
            total_tenths=total_tenths(pack, answers), submitted_at=stamp, locale="da",
        )
        response.answers = [Answer(item_key=k, position=i, value_tenths=a.value_tenths)
                            for i, (k, a) in enumerate(answers.items())]
        db.session.add(response)


def _demo_value(rng, spec, centre: float) -> int:
    """A plausible value near ``centre`` (on 0–10), in tenths, allowed by the item's scale."""
    raw = min(10.0, max(0.0, centre + rng.uniform(-1.2, 1.2)))
    allowed = spec.allowed_tenths()
    if allowed is None:
        return round(raw * 10)
    target = spec.min * 10 + raw / 10 * (spec.max - spec.min) * 10
    return min(allowed, key=lambda v: abs(v - target))
