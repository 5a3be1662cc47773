"""Data for the benchmarks, created through the app's own services where it can be.

Links are issued with ``invitations.invite`` and opened the way a respondent
opens them (``GET /r/<token>``, then the page), so the cookies and CSRF tokens
the load client sends are the ones a browser would send. History that the
services cannot create (meetings in the past with answers) is written with the
app's models; the million-answer export data with plain SQL.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from feedback import clock

ROLES = ("child", "mother", "father", "network")


CASEWORKER = "bench-caseworker"
ANALYST = "bench-analyst"


@dataclass(frozen=True)
class Staff:
    organisation_id: uuid.UUID
    team_id: uuid.UUID
    caseworker_id: uuid.UUID
    analyst_id: uuid.UUID


def staff(password: str) -> Staff:
    """An organisation, a team, a caseworker and an analyst (call inside an app context)."""
    from feedback.services import accounts

    org = accounts.get_or_create_organisation("Bench Kommune")
    team = accounts.create_team(org, "Team Bench")
    worker = accounts.create_user(org, CASEWORKER, password, "Bench Caseworker", "caseworker",
                                  [team])
    analyst = accounts.create_user(org, ANALYST, password, "Bench Analyst", "analyst")
    return Staff(org.id, team.id, worker.id, analyst.id)


def login(base_url: str, username: str, password: str) -> str:
    """Sign in through the login form; returns the Cookie header of the staff session."""
    from urllib.parse import urlencode

    from bench.common import cookie_value, http_request

    status, headers, body = http_request(base_url, "GET", "/login")
    session = cookie_value(headers, "feedback_staff")
    csrf = hidden_inputs(body.decode("utf-8")).get("csrf_token", "")
    form = urlencode({"csrf_token": csrf, "username": username, "password": password})
    status, headers, _ = http_request(
        base_url, "POST", "/login", body=form.encode(),
        headers={"Cookie": f"feedback_staff={session}",
                 "Content-Type": "application/x-www-form-urlencoded"})
    signed_in = cookie_value(headers, "feedback_staff")
    if status != 302 or not signed_in:
        raise RuntimeError(f"signing in as {username} answered {status}")
    return f"feedback_staff={signed_in}"


def _user(username: str):
    from sqlalchemy import select

    from feedback.extensions import db
    from feedback.models import User

    return db.session.scalar(select(User).where(User.username == username))


@dataclass(frozen=True)
class IssuedLink:
    token: str  # the secret in the QR code's URL
    token_id: str  # the token row's id, which the respondent cookie carries


@dataclass(frozen=True)
class OpenedLink:
    """A link opened by a respondent: what their browser holds before it sends the answers."""

    token_id: str
    path: str  # where the form posts to, such as /r/q/0
    cookie: str  # the Cookie header value the app set
    csrf_token: str


def issue_links(owner: str, count: int, meetings_per_case: int = 10) -> list[IssuedLink]:
    """``count`` ORS links issued by ``owner`` through the services (inside an app context).

    Each case has a child of 14, a mother, a father and a network person, and
    ``meetings_per_case`` meetings today, so every person has one invitation
    per meeting (decision 44).
    """
    from sqlalchemy import select

    from feedback import clock
    from feedback.extensions import db
    from feedback.models import InvitationToken, TokenKind
    from feedback.services import cases, invitations
    from feedback.services.actors import Actor

    user = Actor.staff(_user(owner), "127.0.0.1")
    team_id = cases.teams_for(user)[0].id
    today = clock.today()
    issued = []
    n_case = 0
    while len(issued) < count:
        n_case += 1
        case = cases.create_case(user, reference=f"BENCH-{n_case:06d}", team_id=team_id,
                                 child_birth_year=today.year - 14, opened_on=today)
        people = [next(p for p in case.participants if p.role.value == "child")]
        people += [cases.add_participant(user, case, role) for role in ROLES[1:]]
        for _ in range(meetings_per_case):
            meeting = cases.create_meeting(user, case, held_on=today, type="follow_up",
                                           mode="in_person")
            for person in people:
                if len(issued) < count:
                    link = invitations.invite(user, meeting, person, ["ors"])
                    token_id = db.session.scalar(select(InvitationToken.id).where(
                        InvitationToken.invitation_id == link.invitation.id,
                        InvitationToken.kind == TokenKind.link))
                    issued.append(IssuedLink(link.token, str(token_id)))
    db.session.remove()
    return issued


def open_links(base_url: str, links: list[IssuedLink], threads: int = 8) -> list[OpenedLink]:
    """Open each link over HTTP as a browser does: ``GET /r/<token>``, then the page."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda link: open_link(base_url, link), links))


def open_link(base_url: str, link: IssuedLink) -> OpenedLink:
    from bench.common import cookie_value, http_request

    status, headers, _ = http_request(base_url, "GET", f"/r/{link.token}")
    cookie = cookie_value(headers, "feedback_respondent")
    if status != 303 or not cookie:
        raise RuntimeError(f"opening a fresh link answered {status}")
    cookie = f"feedback_respondent={cookie}"
    status, _, body = http_request(base_url, "GET", headers["Location"],
                                   headers={"Cookie": cookie})
    page = body.decode("utf-8")
    action = re.search(r'<form method="post" action="(/r/q/\d+)"', page)
    hidden = hidden_inputs(page)
    if status != 200 or not action or "csrf_token" not in hidden:
        raise RuntimeError("the questionnaire page has no form with a CSRF token")
    return OpenedLink(link.token_id, action.group(1), cookie, hidden["csrf_token"])


def hidden_inputs(html: str) -> dict[str, str]:
    """The hidden inputs of a page, as a browser would send them back."""
    fields = {}
    for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def case_with_history(owner: str, meetings: int, reference: str,
                      roles: tuple[str, ...] = ("child", "mother", "father")) -> uuid.UUID:
    """A case with ``meetings`` past meetings, each answered (ORS) by every role in ``roles``.

    Written with the app's models, as the demo loader does: the services only
    issue links for meetings whose links have not yet expired.
    """
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
        Subject,
    )
    from feedback.services.instruments import current, ensure_version
    from feedback.services.uow import begin_write

    user = _user(owner)
    ors = current("ors")
    begin_write()
    version = ensure_version(ors)
    start = clock.today() - timedelta(days=7 * meetings + 7)
    case = Case(organisation_id=user.organisation_id, reference=reference,
                team_id=user.memberships[0].team_id, responsible_id=user.id, opened_on=start,
                child_birth_year=start.year - 14)
    db.session.add(case)
    people = [Participant(case=case, role=ParticipantRole(role)) for role in roles]
    db.session.add_all(people)
    for n in range(meetings):
        day = start + timedelta(days=7 * (n + 1))
        meeting = Meeting(case=case, held_on=day, created_by_id=user.id,
                          type=MeetingType.first if n == 0 else MeetingType.follow_up,
                          mode=MeetingMode.in_person)
        db.session.add(meeting)
        stamp = datetime.combine(day, time(10), tzinfo=UTC)
        for k, person in enumerate(people):
            subject = Subject.self if person.role == ParticipantRole.child else Subject.child
            invitation = Invitation(meeting=meeting, participant=person, subject=subject,
                                    created_by_id=user.id, created_at=stamp,
                                    expires_at=stamp + timedelta(hours=72))
            db.session.add(invitation)
            db.session.add(InvitationItem(invitation=invitation, position=0,
                                          instrument_version=version, used_at=stamp))
            values = {item.key: ItemAnswer(10 * ((n * 7 + k * 13 + i * 5) % 100 // 10) + i)
                      for i, item in enumerate(ors.items)}
            response = Response(
                submission_id=uuid.uuid4(), meeting=meeting, participant=person,
                invitation=invitation, instrument_version=version, subject=subject,
                total_tenths=total_tenths(ors, values),
                submitted_at=stamp + timedelta(minutes=k), locale="da")
            response.answers = [Answer(item_key=key, position=i, value_tenths=a.value_tenths)
                                for i, (key, a) in enumerate(values.items())]
            db.session.add(response)
    db.session.commit()
    return case.id


# --------------------------------------------------------------------------- export data

#: Answers per response (ORS has four items) and responses per meeting (four people).
ITEMS = ("individually", "interpersonally", "socially", "overall")
PEOPLE = 4
MEETINGS_PER_CASE = 25
ANSWERS_PER_CASE = len(ITEMS) * PEOPLE * MEETINGS_PER_CASE  # 400


def export_rows(kind: str, first_case: int, cases: int, ids: dict) -> list[str]:
    """SQL that adds ``cases`` cases, numbered from ``first_case``, with 400 answers each.

    Ids are derived from numbers (``<table tag><number>``, 32 hex digits), so
    the statements are plain ``INSERT ... SELECT`` over a number series: about
    a second per 10⁵ answers. ``ids`` holds the organisation, team, user and
    instrument version the services created.
    """
    last = first_case + cases - 1
    if kind == "sqlite":
        def uid(tag: str, expr: str) -> str:
            return f"printf('{tag}%0{32 - len(tag)}x', {expr})"

        def series(name: str, stop: str) -> str:
            return (f"WITH RECURSIVE {name}(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM {name} "
                    f"WHERE n + 1 < {stop})")

        def day(base: str, days: str) -> str:
            return f"date({base}, '+' || ({days}) || ' days')"

        def stamp(day_expr: str, minutes: str) -> str:
            return (f"strftime('%Y-%m-%d %H:%M:%S.000000', {day_expr}, "
                    f"'+' || (600 + ({minutes})) || ' minutes')")

        def lit(value) -> str:
            return f"'{value.hex}'"

        cases_from = f"{series('c', str(cases))} SELECT {first_case} + n AS n FROM c"
        now = "strftime('%Y-%m-%d %H:%M:%S.000000', 'now')"
    else:
        def uid(tag: str, expr: str) -> str:
            return f"('{tag}' || lpad(to_hex({expr}), {32 - len(tag)}, '0'))::uuid"

        def day(base: str, days: str) -> str:
            return f"(({base})::date + ({days})::int)"

        def stamp(day_expr: str, minutes: str) -> str:
            return f"(({day_expr})::timestamp + make_interval(mins => 600 + ({minutes})))"

        def lit(value) -> str:
            return f"'{value}'::uuid"

        cases_from = f"SELECT n FROM generate_series({first_case}, {last}) AS n"
        now = "(now() AT TIME ZONE 'UTC')"

    org, team, user, version = (lit(ids[k]) for k in ("org", "team", "user", "version"))
    opened = "'2020-01-06'"
    statements = [
        f"""INSERT INTO cases (id, organisation_id, reference, team_id, responsible_id,
                opened_on, closed_on, child_birth_year, child_birth_month, created_at)
            SELECT {uid('c1', 'n')}, {org}, 'EXPORT-' || n, {team}, {user},
                   {day(opened, 'n % 365')},
                   CASE WHEN n % 3 = 0 THEN {day(opened, '(n % 365) + 400')} END,
                   2006 + n % 12, CASE WHEN n % 2 = 0 THEN 1 + n % 12 END, {now}
            FROM ({cases_from}) AS numbers""",
        f"""INSERT INTO participants (id, case_id, role, label, created_at)
            SELECT {uid('a2', 'n * 4 + k')}, {uid('c1', 'n')},
                   CASE k WHEN 0 THEN 'child' WHEN 1 THEN 'mother' WHEN 2 THEN 'father'
                          ELSE 'network' END,
                   NULL, {now}
            FROM ({cases_from}) AS numbers CROSS JOIN (SELECT 0 AS k UNION ALL SELECT 1
                 UNION ALL SELECT 2 UNION ALL SELECT 3) AS people""",
        f"""INSERT INTO meetings (id, case_id, held_on, type, mode, created_by_id, created_at)
            SELECT {uid('d3', f'n * {MEETINGS_PER_CASE} + m')}, {uid('c1', 'n')},
                   {day(opened, '(n % 365) + 14 * (m + 1)')},
                   CASE WHEN m = 0 THEN 'first' ELSE 'follow_up' END, 'in_person', {user}, {now}
            FROM ({cases_from}) AS numbers
                 CROSS JOIN ({_small_series(kind, MEETINGS_PER_CASE, 'm')}) AS meetings""",
        f"""INSERT INTO responses (id, submission_id, meeting_id, participant_id, staff_user_id,
                invitation_id, instrument_version_id, subject, total_tenths, submitted_at,
                locale)
            SELECT {uid('e4', f'(n * {MEETINGS_PER_CASE} + m) * 4 + k')},
                   {uid('f5', f'(n * {MEETINGS_PER_CASE} + m) * 4 + k')},
                   {uid('d3', f'n * {MEETINGS_PER_CASE} + m')}, {uid('a2', 'n * 4 + k')}, NULL,
                   NULL, {version}, CASE WHEN k = 0 THEN 'self' ELSE 'child' END,
                   {_total_expr()},
                   {stamp(day(opened, '(n % 365) + 14 * (m + 1)'), 'k')}, 'da'
            FROM ({cases_from}) AS numbers
                 CROSS JOIN ({_small_series(kind, MEETINGS_PER_CASE, 'm')}) AS meetings
                 CROSS JOIN ({_small_series(kind, PEOPLE, 'k')}) AS people""",
        f"""INSERT INTO answers (response_id, item_key, position, value_tenths, missing_code)
            SELECT {uid('e4', f'(n * {MEETINGS_PER_CASE} + m) * 4 + k')},
                   CASE i WHEN 0 THEN '{ITEMS[0]}' WHEN 1 THEN '{ITEMS[1]}'
                          WHEN 2 THEN '{ITEMS[2]}' ELSE '{ITEMS[3]}' END,
                   i, {_value_expr()}, NULL
            FROM ({cases_from}) AS numbers
                 CROSS JOIN ({_small_series(kind, MEETINGS_PER_CASE, 'm')}) AS meetings
                 CROSS JOIN ({_small_series(kind, PEOPLE, 'k')}) AS people
                 CROSS JOIN ({_small_series(kind, len(ITEMS), 'i')}) AS items""",
    ]
    return statements


def _small_series(kind: str, count: int, name: str) -> str:
    if kind == "sqlite":
        return " UNION ALL ".join(f"SELECT {v} AS {name}" for v in range(count))
    return f"SELECT generate_series(0, {count - 1}) AS {name}"


def _value_expr() -> str:
    # A value in tenths (0–100) that varies with case, meeting, person and item.
    return "((n * 37 + m * 11 + k * 7 + i * 3) % 101)"


def _total_expr() -> str:
    return " + ".join(f"((n * 37 + m * 11 + k * 7 + {i} * 3) % 101)" for i in range(len(ITEMS)))
