"""The rows every export reads: answers joined to their response, meeting, case and team.

Rows are Core rows read without type conversion (the ORM is about 4× slower
for bulk export, and converting every UUID, date and enum on every row costs
more than the rest of the export). Everything about a response — pseudonyms,
dates, the age — is formatted once per response, not once per answer, with
precomputed lookups and a bounded pseudonym cache.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, String, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from feedback.models import (
    Answer,
    Case,
    InstrumentVersion,
    Meeting,
    Participant,
    Response,
    Team,
)
from feedback.services import access
from feedback.services.actors import Actor
from feedback.services.exports.dialects import safe_text
from feedback.services.exports.filters import DataFilters, counted_responses
from feedback.services.exports.pseudonyms import Pseudonyms

#: The columns describing one response, shared by the long and the wide format.
RESPONSE_COLUMNS = (
    "response_id", "case_id", "respondent_id", "respondent_role", "subject", "team",
    "case_status", "case_opened", "case_closed", "child_birth_year", "child_age_at_meeting",
    "meeting_id", "meeting_date", "meeting_type", "instrument", "instrument_version", "family",
)
#: The long format (decision 16); export and import share it.
LONG_COLUMNS = (*RESPONSE_COLUMNS, "item", "value", "missing_code", "submitted_at", "locale")

# Positions in an answer row (see answers_query). A response's row
# (responses_query) has the same columns up to TOTAL.
RESPONSE, CASE, PARTICIPANT, STAFF, ROLE, SUBJECT, TEAM, OPENED, CLOSED, BIRTH_YEAR, \
    BIRTH_MONTH, MEETING, HELD, MEETING_TYPE, VERSION_ID, KEY, VERSION, FAMILY, SUBMITTED, \
    LOCALE, TOTAL, ITEM, POSITION, VALUE, MISSING = range(25)
# Positions in an item row (see items_query).
ITEM_SUBMITTED, ITEM_RESPONSE, ITEM_KEY, ITEM_VALUE, ITEM_MISSING = range(5)


class _AsText(ColumnElement):
    """A column as text made by the database (compiled per engine below)."""

    inherit_cache = True
    # The wrapped column is part of the statement's cache key.
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]
    type = String()

    def __init__(self, column):
        self.column = column


@compiles(_AsText)
def _as_text(element, compiler, **kw):
    return f"CAST({compiler.process(element.column, **kw)} AS VARCHAR)"


@compiles(_AsText, "postgresql")
def _as_text_postgresql(element, compiler, **kw):
    column = compiler.process(element.column, **kw)
    kind = type(element.column.type).__name__
    # to_char, not a cast: a cast follows the server's DateStyle.
    if kind == "Date":
        return f"to_char({column}, 'YYYY-MM-DD')"
    if kind in ("DateTime", "UTCDateTime"):
        return f"to_char({column}, 'YYYY-MM-DD HH24:MI:SS.US')"
    return f"CAST({column} AS VARCHAR)"


def raw(column, name: str | None = None):
    """``column`` as text made by the database, with no conversion in Python.

    PostgreSQL's driver would otherwise build a UUID, date or datetime object
    for every column of every row; SQLite stores these as text already. Both
    engines give the same text: UUIDs, ``YYYY-MM-DD`` and
    ``YYYY-MM-DD HH:MM:SS.ffffff``.
    """
    return _AsText(column).label(name or column.key)


def _response_columns():
    return (
        raw(Response.id, "response_id"), raw(Case.id, "case_id"),
        raw(Response.participant_id), raw(Response.staff_user_id),
        raw(Participant.role), raw(Response.subject), Team.name.label("team"),
        raw(Case.opened_on), raw(Case.closed_on), Case.child_birth_year,
        Case.child_birth_month, raw(Meeting.id, "meeting_id"), raw(Meeting.held_on),
        raw(Meeting.type, "meeting_type"), raw(InstrumentVersion.id, "version_id"),
        InstrumentVersion.key, InstrumentVersion.version, InstrumentVersion.family,
        raw(Response.submitted_at), Response.locale, Response.total_tenths,
    )


def _scoped(stmt: Select, actor: Actor, filters: DataFilters, family: str | None) -> Select:
    """``stmt`` (from responses or answers) joined and filtered as every export is."""
    stmt = (
        stmt.join(Meeting, Meeting.id == Response.meeting_id)
        .join(Case, Case.id == Meeting.case_id)
        .join(Team, Team.id == Case.team_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(Participant, Participant.id == Response.participant_id)
        .where(access.data_filter(actor), counted_responses(),
               *filters.conditions(Response.staff_user_id))
    )
    if family is not None:
        stmt = stmt.where(InstrumentVersion.family == family)
    return stmt


def answers_query(actor: Actor, filters: DataFilters, family: str | None = None) -> Select:
    """Every item answer ``actor`` may export under ``filters``, one response after another,
    each row with every column describing its response."""
    stmt = (select(*_response_columns(), Answer.item_key, Answer.position, Answer.value_tenths,
                   Answer.missing_code)
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id))
    return (_scoped(stmt, actor, filters, family)
            .order_by(Response.submitted_at, Response.id, Answer.position))


def responses_query(actor: Actor, filters: DataFilters, family: str | None = None) -> Select:
    """The responses of :func:`answers_query`, one row each, in the same order."""
    stmt = select(*_response_columns()).select_from(Response)
    return _scoped(stmt, actor, filters, family).order_by(Response.submitted_at, Response.id)


def items_query(actor: Actor, filters: DataFilters, family: str | None = None) -> Select:
    """The answers of :func:`answers_query` with only what differs from answer to answer:
    (submitted_at, response_id, item, value, missing code), in the same order.

    The long export reads this beside :func:`responses_query` and pairs the
    two (:func:`paired`) instead of reading
    :func:`answers_query`: a response's twenty columns are then read and sorted
    once, not once per answer, which halves the database's part of a big export.
    """
    stmt = (select(raw(Response.submitted_at), raw(Response.id, "response_id"),
                   Answer.item_key, Answer.value_tenths, Answer.missing_code)
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id))
    return (_scoped(stmt, actor, filters, family)
            .order_by(Response.submitted_at, Response.id, Answer.position))


def paired(responses: Iterable, items: Iterable) -> Iterator[tuple]:
    """(response row, item row) for every item row whose response is among ``responses``.

    Both streams come in the same order (submitted_at, then id), compared here
    as the text :func:`raw` makes of both: fixed-width timestamps and ids, whose
    text sorts as the database sorts the values on either engine. They are two
    statements: PostgreSQL's read committed lets each see its own moment, so a
    response may be committed, voided or erased between them. A response without
    items is passed over, and items whose response the first statement did not
    see are left out: the file is as of the first statement, as one statement
    would have been as of its own.
    """
    responses = iter(responses)
    head = next(responses, None)
    last = None
    matched = False
    for item in items:
        rid = item[ITEM_RESPONSE]
        if rid != last:
            last = rid
            key = (item[ITEM_SUBMITTED], rid)
            while head is not None and (head[SUBMITTED], head[RESPONSE]) < key:
                head = next(responses, None)
            matched = head is not None and head[RESPONSE] == rid
        if matched:
            yield head, item


def responses_scope(actor: Actor, filters: DataFilters) -> Select:
    """Responses ``actor`` may export under ``filters`` (for counting)."""
    return (
        select(Response.id)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .join(Case, Case.id == Meeting.case_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(Participant, Participant.id == Response.participant_id)
        .where(access.data_filter(actor), counted_responses(),
               *filters.conditions(Response.staff_user_id))
    )


def count_answers(actor: Actor, filters: DataFilters) -> Select:
    """How many rows the long file will have."""
    scope = responses_scope(actor, filters).subquery()
    return (select(func.count()).select_from(Answer)
            .where(Answer.response_id.in_(select(scope.c.id))))


def count_responses_by_family(actor: Actor, filters: DataFilters) -> Select:
    """(family, responses) pairs: the rows of each wide file."""
    return (responses_scope(actor, filters)
            .with_only_columns(InstrumentVersion.family, func.count())
            .group_by(InstrumentVersion.family))


def iso_date(value) -> str:
    """A date as ISO text, whether the driver gave text (SQLite) or a date (PostgreSQL)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else value.isoformat()


def timestamp(value) -> str:
    """A stored UTC timestamp as ISO 8601 with ``Z``, the same on both engines.

    SQLite stores ``YYYY-MM-DD HH:MM:SS.ffffff``; PostgreSQL gives a naive
    datetime. Microseconds are shown only when there are any, as
    ``datetime.isoformat`` does.
    """
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat() + "Z"
    text = value[:19].replace(" ", "T")
    fraction = value[20:26]
    if fraction and fraction != "000000":
        text += "." + fraction.ljust(6, "0")
    return text + "Z"


def parse_timestamp(value) -> datetime:
    """A stored UTC timestamp (as the driver gives it) as a naive UTC datetime."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    return datetime.fromisoformat(value)


def age_on(birth_year: int, birth_month: int | None, day) -> int:
    """The child's age in whole years on ``day`` (text or a date); 1 July without a month."""
    if isinstance(day, date):
        year, month, dom = day.year, day.month, day.day
    else:
        year, month, dom = int(day[:4]), int(day[5:7]), int(day[8:10])
    return year - birth_year - (0 if (month, dom) >= (birth_month or 7, 1) else 1)


class ResponseFormatter:
    """Formats the columns that describe a response, once per response."""

    def __init__(self, pseudonyms: Pseudonyms):
        self.pid = pseudonyms

    def head(self, r) -> tuple:
        """The :data:`RESPONSE_COLUMNS` of an answer row, formatted."""
        pid = self.pid
        closed = r[CLOSED]
        respondent = r[PARTICIPANT] if r[PARTICIPANT] is not None else r[STAFF]
        return (
            pid.once(r[RESPONSE]), pid(r[CASE]), pid(respondent),
            r[ROLE] if r[ROLE] is not None else "staff", r[SUBJECT], safe_text(r[TEAM]),
            "open" if closed is None else "closed", iso_date(r[OPENED]), iso_date(closed),
            r[BIRTH_YEAR], age_on(r[BIRTH_YEAR], r[BIRTH_MONTH], r[HELD]),
            pid(r[MEETING]), iso_date(r[HELD]), r[MEETING_TYPE], r[KEY], r[VERSION], r[FAMILY],
        )
