"""Checking one line of a long CSV file: every column parsed strictly, or one clear problem.

A line is checked on its own here (the same function runs when the file is
validated and when the report is written); what must agree across lines —
a case's details, a response's items — is checked in :mod:`.plan`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from feedback.instruments.schema import Instrument
from feedback.models import InstrumentVersion, MeetingType, ParticipantRole, Subject, Team
from feedback.services.exports.dialects import restore_text
from feedback.services.instruments import definition, installed

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$")
_VALUE = re.compile(r"^(\d{1,2})(?:[.,](\d))?$")
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_INTEGER = re.compile(r"^\d{1,4}$")
#: Source ids longer than this are refused (the case reference import:<source>:<id> must fit).
MAX_ID = 60
ROLES = tuple(r.value for r in ParticipantRole)
SUBJECTS = tuple(s.value for s in Subject)
MEETING_TYPES = tuple(t.value for t in MeetingType)
MISSING = ("skipped", "dont_know")


class Problem(Exception):
    """A line's problem: the column, a message code and its details."""

    def __init__(self, column: str, code: str, **details):
        super().__init__(code)
        self.column = column
        self.code = code
        self.details = details


@dataclass(frozen=True)
class VersionRef:
    """A questionnaire version lines can refer to: stored already, or installed and frozen later."""

    key: str
    version: str
    instrument: Instrument
    #: The stored version's id; None until an installed pack is frozen by the first write.
    stored_id: uuid.UUID | None
    positions: dict[str, int]


class Lookups:
    """Teams and questionnaire versions, looked up once per import."""

    def __init__(self, session, organisation_id: uuid.UUID, now: datetime):
        self.now = now
        self.teams = {name: team_id for name, team_id in session.execute(
            select(Team.name, Team.id).where(Team.organisation_id == organisation_id))}
        self._session = session
        self._versions: dict[tuple[str, str], VersionRef | None] = {}
        self._stored_keys = set(session.scalars(select(InstrumentVersion.key).distinct()))
        self._installed = {p.id: p for p in installed()}

    def version(self, key: str, version: str) -> VersionRef | None:
        """The version, or None if neither stored nor installed."""
        found = self._versions.get((key, version), ...)
        if found is not ...:
            return found
        row = self._session.scalar(select(InstrumentVersion).where(
            InstrumentVersion.key == key, InstrumentVersion.version == version))
        ref = None
        if row is not None:
            ref = _ref(definition(row), row.id)
        elif key in self._installed and self._installed[key].version == version:
            ref = _ref(self._installed[key], None)
        self._versions[(key, version)] = ref
        return ref

    def known_instrument(self, key: str) -> bool:
        """Whether any version of ``key`` is stored or installed."""
        return key in self._stored_keys or key in self._installed


def _ref(instrument: Instrument, stored_id) -> VersionRef:
    return VersionRef(instrument.id, instrument.version, instrument, stored_id,
                      {item.key: n for n, item in enumerate(instrument.items)})


@dataclass(frozen=True)
class Line:
    """One line of the long format, parsed."""

    response: str
    case: str
    respondent: str
    role: str
    subject: str
    team_id: uuid.UUID
    opened: date
    closed: date | None
    birth_year: int
    age: int
    meeting: str
    held_on: date
    meeting_type: str
    version: VersionRef
    item: str
    position: int
    value_tenths: int | None
    missing_code: str | None
    submitted_at: datetime
    locale: str


def _text(fields: dict[str, str], column: str, required: bool = True, max_len: int = 200) -> str:
    value = fields[column]
    if value[:1] == "'":
        value = restore_text(value)
    if "\x00" in value:
        raise Problem(column, "nul")
    if column != "team":
        value = value.strip()
    if not value:
        if required:
            raise Problem(column, "required")
        return value
    if len(value) > max_len:
        raise Problem(column, "too_long", max=max_len)
    return value


def _id(fields, column) -> str:
    value = _text(fields, column, max_len=MAX_ID)
    if not _ID.match(value):
        raise Problem(column, "bad_id")
    return value


def _code(fields, column, allowed) -> str:
    value = _text(fields, column, max_len=40)
    if value not in allowed:
        raise Problem(column, "unknown_code", value=value, allowed=", ".join(allowed))
    return value


_DATES: dict[str, date] = {}


def _date(fields, column, required=True) -> date | None:
    value = _text(fields, column, required=required, max_len=40)
    if not value:
        return None
    found = _DATES.get(value)
    if found is not None:
        return found
    try:
        if not _DATE.match(value):
            raise ValueError
        found = date.fromisoformat(value)
    except ValueError:
        raise Problem(column, "bad_date", value=value) from None
    if len(_DATES) > 50_000:  # a bounded cache: dates repeat on many lines
        _DATES.clear()
    _DATES[value] = found
    return found


def _integer(fields, column) -> int:
    value = _text(fields, column, max_len=10)
    if not _INTEGER.match(value):
        raise Problem(column, "bad_integer", value=value)
    return int(value)


def _timestamp(fields, column, now: datetime) -> datetime:
    value = _text(fields, column, max_len=40)
    try:
        if not _TIMESTAMP.match(value):
            raise ValueError
        stamp = datetime.fromisoformat(value).astimezone(UTC)
    except ValueError:
        raise Problem(column, "bad_timestamp", value=value) from None
    if stamp > now:
        raise Problem(column, "future")
    return stamp


def _value(fields, ref: VersionRef, position: int) -> tuple[int | None, str | None]:
    raw_value = _text(fields, "value", required=False, max_len=10)
    missing = _text(fields, "missing_code", required=False, max_len=20)
    if raw_value and missing:
        raise Problem("value", "value_and_missing")
    if not raw_value and not missing:
        raise Problem("value", "value_missing")
    spec = ref.instrument.items[position].response
    if missing:
        if missing not in MISSING:
            raise Problem("missing_code", "unknown_code", value=missing,
                          allowed=", ".join(MISSING))
        if missing == "dont_know" and not spec.dont_know:
            raise Problem("missing_code", "dont_know_not_allowed")
        return None, missing
    match = _VALUE.match(raw_value)
    tenths = None
    if match:
        tenths = int(match.group(1)) * 10 + int(match.group(2) or 0)
        allowed = spec.allowed_tenths()
        if not spec.min * 10 <= tenths <= spec.max * 10 or (
                allowed is not None and tenths not in allowed):
            tenths = None
    if tenths is None:
        raise Problem("value", "bad_value", value=raw_value, min=spec.min, max=spec.max)
    return tenths, None


def parse_line(fields: dict[str, str], lookups: Lookups) -> Line:
    """Parse and check one line; :class:`Problem` names the first column that is wrong."""
    response = _id(fields, "response_id")
    case = _id(fields, "case_id")
    respondent = _id(fields, "respondent_id")
    role = _text(fields, "respondent_role", max_len=40)
    if role == "staff":
        raise Problem("respondent_role", "staff_rating")
    if role not in ROLES:
        raise Problem("respondent_role", "unknown_code", value=role, allowed=", ".join(ROLES))
    subject = _code(fields, "subject", SUBJECTS)
    team = _text(fields, "team")
    team_id = lookups.teams.get(team)
    if team_id is None:
        raise Problem("team", "unknown_team", value=team)
    status = _code(fields, "case_status", ("open", "closed"))
    opened = _date(fields, "case_opened")
    closed = _date(fields, "case_closed", required=False)
    if status == "closed" and closed is None:
        raise Problem("case_closed", "closed_without_date")
    if status == "open" and closed is not None:
        raise Problem("case_closed", "open_with_date")
    if closed is not None and closed < opened:
        raise Problem("case_closed", "closed_before_opened")
    birth_year = _integer(fields, "child_birth_year")
    if not opened.year - 25 <= birth_year <= opened.year:
        raise Problem("child_birth_year", "birth_year_window")
    age = _integer(fields, "child_age_at_meeting")
    if age > 30:
        raise Problem("child_age_at_meeting", "age_range", value=age)
    meeting = _id(fields, "meeting_id")
    held_on = _date(fields, "meeting_date")
    if held_on < opened or (closed is not None and held_on > closed):
        raise Problem("meeting_date", "meeting_outside_case")
    meeting_type = _code(fields, "meeting_type", MEETING_TYPES)
    key = _text(fields, "instrument", max_len=64)
    version = _text(fields, "instrument_version", max_len=32)
    ref = lookups.version(key, version)
    if ref is None:
        if lookups.known_instrument(key):
            raise Problem("instrument_version", "unknown_version", instrument=key, value=version)
        raise Problem("instrument", "unknown_instrument", value=key)
    family = _text(fields, "family", max_len=64)
    if family != ref.instrument.family:
        raise Problem("family", "family_mismatch", expected=ref.instrument.family)
    item = _text(fields, "item", max_len=64)
    position = ref.positions.get(item)
    if position is None:
        raise Problem("item", "unknown_item", instrument=key, value=item)
    value, missing = _value(fields, ref, position)
    submitted_at = _timestamp(fields, "submitted_at", lookups.now)
    locale = _text(fields, "locale", max_len=10)
    if not _LOCALE.match(locale):
        raise Problem("locale", "bad_locale", value=locale)
    return Line(response, case, respondent, role, subject, team_id, opened, closed, birth_year,
                age, meeting, held_on, meeting_type, ref, item, position, value, missing,
                submitted_at, locale)
