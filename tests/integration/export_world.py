"""A year of answers for export and import tests, made through the service's own code.

Three cases in three teams — one called ``=Formel`` (a formula to a
spreadsheet), one ``Syd; Vest`` (a separator in the Danish dialect) — with
birth months whose birthdays fall between meetings, a closed case, tags,
every installed questionnaire, skipped and "don't know" items, and
invitations that were never answered. Every answer is given on its meeting
day by moving the frozen clock there, and every response has its own
``submitted_at``, so exports from two databases list rows in the same order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from feedback import clock
from feedback.extensions import db
from feedback.instruments.scoring import ItemAnswer
from feedback.models import Organisation, Role, Team
from feedback.services import accounts, cases, invitations, responses
from feedback.services.actors import Actor
from feedback.services.instruments import current
from tests import factories as f

TEAMS = ("Nord", "=Formel", "Syd; Vest")
HERE = ZoneInfo("Europe/Copenhagen")


@dataclass
class Built:
    """Who and what was made."""

    org: Organisation
    teams: dict[str, Team]
    caseworker: object
    analyst: object
    admin: object
    lead: object
    responses: int = 0
    answers: int = 0
    unanswered: int = 0
    cases: list = field(default_factory=list)


def _value(spec, n: int) -> ItemAnswer:
    allowed = spec.allowed_tenths()
    if allowed is None:  # the 0–10 line, one decimal
        return ItemAnswer(10 + (n * 37) % 90)
    return ItemAnswer(allowed[n % len(allowed)])


def answer(pack_id: str, n: int, skip: str | None = None,
           dont_know: str | None = None) -> dict[str, ItemAnswer]:
    """Answers for every item of a pack; ``skip``/``dont_know`` name an item to leave out."""
    pack = current(pack_id)
    result = {}
    for i, item in enumerate(pack.items):
        if item.key == skip:
            result[item.key] = ItemAnswer(None, "skipped")
        elif item.key == dont_know:
            result[item.key] = ItemAnswer(None, "dont_know")
        else:
            result[item.key] = _value(item.response, n + i)
    return result


def people(built: Built, case, *roles):
    found = {"child": f.child_of(case)}
    for role in roles:
        found[role] = cases.add_participant(f.actor(built.caseworker), case, role)
    return found


def meet(built: Built, case, day: date, plan: dict, kind="follow_up", unanswered=()):
    """A meeting on ``day``: each person in ``plan`` answers their packs (with skips)."""
    worker = f.actor(built.caseworker)
    with clock.frozen(datetime.combine(day, datetime.min.time(), HERE) + timedelta(hours=9)):
        meeting = cases.create_meeting(worker, case, held_on=day, type=kind, mode="in_person")
        for person, packs in plan.items():
            link = invitations.invite(worker, meeting, person, [p for p, *_ in packs])
            if person in unanswered:
                built.unanswered += len(packs)
                continue
            respondent = Actor.respondent(link.invitation.id, "192.0.2.50")
            token = invitations.open_link(link.token, respondent)
            for pack_id, *extra in packs:
                clock.advance(timedelta(minutes=3))
                item = next(i for i in token.invitation.items
                            if i.instrument_version.key == pack_id)
                skip = extra[0] if extra else None
                dont_know = extra[1] if len(extra) > 1 else None
                values = answer(pack_id, built.responses, skip, dont_know)
                responses.submit(respondent, token, item.position, str(uuid.uuid4()), values,
                                 "da" if built.responses % 3 else "en")
                built.responses += 1
                built.answers += len(values)
    return meeting


def build() -> Built:
    """The world: call inside an app context with real commits (or the test transaction)."""
    org = Organisation(name="Eksportkommune")
    db.session.add(org)
    db.session.commit()
    teams = {name: accounts.create_team(org, name) for name in TEAMS}
    worker = f.user(org, "anna", Role.caseworker, teams.values())
    lead = f.user(org, "lene", Role.team_lead, [teams["Nord"]])
    analyst = f.user(org, "ali", Role.analyst)
    admin = f.user(org, "admin", Role.admin)
    db.session.commit()
    built = Built(org, teams, worker, analyst, admin, lead)
    actor = f.actor(worker)

    # A 9-year-old born in March: the birthday falls between the February and March meetings.
    one = cases.create_case(actor, reference="SAG-1", team_id=teams["Nord"].id,
                            child_birth_year=2016, child_birth_month=3,
                            opened_on=date(2025, 1, 6), tags=["forsøg", "§52"])
    p1 = people(built, one, "mother", "father")
    meet(built, one, date(2025, 2, 10), {
        p1["child"]: [("cors",), ("csrs",), ("child-meeting", "listened"), ("child-ruler",)],
        p1["mother"]: [("ors",), ("parent-coordination", "trust_1", "entry_2")],
        p1["father"]: [("srs", "goals")],
    }, kind="first")
    meet(built, one, date(2025, 3, 10), {
        p1["child"]: [("cors",), ("child-ruler",)],
        p1["mother"]: [("ors",), ("child-ruler",)],
        p1["father"]: [("ors",)],
    }, unanswered=(p1["father"],))
    meet(built, one, date(2025, 9, 1), {
        p1["child"]: [("cors", "school"), ("csrs",)],
        p1["mother"]: [("parent-coordination",)],
    })

    # A 3-year-old born in November, in the team whose name is a formula; closed.
    two = cases.create_case(actor, reference="SAG-2", team_id=teams["=Formel"].id,
                            child_birth_year=2021, child_birth_month=11,
                            opened_on=date(2025, 2, 3))
    p2 = people(built, two, "mother")
    meet(built, two, date(2025, 4, 7), {p2["child"]: [("ycors",), ("ycsrs",)],
                                        p2["mother"]: [("ors",)]}, kind="first")
    meet(built, two, date(2025, 11, 24), {p2["child"]: [("ycors",), ("ycsrs", "listening")],
                                          p2["mother"]: [("ors", "overall")]},
         kind="closing")
    begin = datetime(2025, 12, 15, 9, 0, tzinfo=HERE)
    with clock.frozen(begin):
        two.closed_on = date(2025, 12, 15)
        db.session.commit()

    # A 15-year-old without a birth month, in a team with a semicolon; a network member.
    three = cases.create_case(actor, reference="SAG-3", team_id=teams["Syd; Vest"].id,
                              child_birth_year=2010, opened_on=date(2025, 3, 3))
    p3 = people(built, three, "network")
    meet(built, three, date(2025, 6, 30), {p3["child"]: [("ors",), ("srs",), ("child-ruler",)],
                                           p3["network"]: [("child-ruler",)]},
         kind="network")
    meet(built, three, date(2025, 7, 1), {p3["child"]: [("ors",), ("srs",)]})
    built.cases = [one, two, three]
    return built
