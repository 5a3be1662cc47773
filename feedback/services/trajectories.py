"""A case's series: each respondent's ratings per instrument family over the meetings.

This is the data behind the graphs, the signals and the journal summary; it
draws nothing. The unit is the episode (decision 19): one respondent's series
in one family within one case, never merged with anyone else's. Staff ratings
(decision 12) are episodes of their own, keyed by the staff user.

Three queries whatever the number of meetings: the meetings, the responses
(voided ones included, for the timeline) and their item values. Definitions
come from the per-process cache of frozen versions, not from each row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import String, bindparam, cast, func, literal_column, select, type_coerce

from feedback.extensions import db
from feedback.instruments import signals
from feedback.instruments.schema import Instrument
from feedback.models import (
    Answer,
    Case,
    InstrumentVersion,
    Meeting,
    MeetingType,
    Participant,
    Response,
    ResponseVoid,
    User,
)
from feedback.services.instruments import by_version_id

#: The role of a staff member's own rating (the child ruler, decision 12).
STAFF_ROLE = "staff"


class MeetingPoint(NamedTuple):
    """A meeting on the time axis: its date and its number in the case (1, 2, …)."""

    id: uuid.UUID
    held_on: date
    number: int
    type: str = "follow_up"


class ItemValue(NamedTuple):
    """One item's answer: a value in tenths, or a missing code ("skipped", "dont_know")."""

    key: str
    value_tenths: int | None
    missing_code: str | None = None


class Rating:
    """One answered questionnaire as a point of a series (``total_tenths`` may be None).

    ``items`` may be given as the database's text (``key=73,key2=!skipped``,
    ``raw_items``) and is then parsed when first asked for: a long case's page
    asks for few of them.
    """

    __slots__ = ("meeting", "total_tenths", "instrument", "_items", "raw_items", "subject",
                 "response_id", "psychometric")

    def __init__(self, meeting: MeetingPoint, total_tenths: int | None,
                 instrument: Instrument, items: tuple[ItemValue, ...] | None = (),
                 subject: str = "child", response_id: uuid.UUID | None = None,
                 raw_items: str | None = None):
        self.meeting = meeting
        self.total_tenths = total_tenths
        self.instrument = instrument
        #: False for the faces versions: drawn and marked, never used in figures
        #: (the version's, kept here: graphs ask for it several times per point).
        self.psychometric = instrument.psychometric
        self._items = items if raw_items is None else None
        self.raw_items = raw_items
        self.subject = subject
        self.response_id = response_id

    def __repr__(self) -> str:
        return (f"Rating(meeting={self.meeting.number}, total_tenths={self.total_tenths}, "
                f"instrument={self.instrument.id} {self.instrument.version})")

    @property
    def items(self) -> tuple[ItemValue, ...]:
        """Every item's answer, in the order the database returned them."""
        found = self._items
        if found is None:
            found = self._items = _parse(self.raw_items)
        return found

    def value(self, key: str) -> int | None:
        """One item's value in tenths (None when skipped or not in this version)."""
        for item in self.items:
            if item.key == key:
                return item.value_tenths
        return None


@dataclass
class Trajectory:
    """One respondent's ratings in one family within one case (an episode)."""

    participant_id: uuid.UUID | None
    role: str
    label: str | None
    family: str
    #: The cut-off (tenths) for whom the latest rating is about, if there is one.
    cutoff_tenths: int | None = None
    #: Ratings with a total, in meeting order (what lines and signals use).
    ratings: list[Rating] = field(default_factory=list)
    #: Every response in the family, with or without a total (what item graphs use).
    answered: list[Rating] = field(default_factory=list)
    #: The staff member who rated, for staff episodes.
    staff_user_id: uuid.UUID | None = None

    @property
    def key(self) -> str:
        """A stable id of the respondent within the case."""
        return str(self.participant_id) if self.participant_id else f"staff-{self.staff_user_id}"


class Answered(NamedTuple):
    """A response as the timeline shows it: who, what, and whether it was voided."""

    meeting_id: uuid.UUID
    respondent_key: str
    role: str
    label: str | None
    instrument: Instrument
    total_tenths: int | None
    missing: int
    voided: bool


@dataclass
class CaseTrajectories:
    """Every meeting of a case, its trajectories by family, and who answered what when."""

    meetings: list[MeetingPoint]
    families: dict[str, list[Trajectory]]
    #: Every response (voided ones too) by meeting id, in the order they came.
    timeline: dict[uuid.UUID, list[Answered]] = field(default_factory=dict)
    #: How many of them were voided.
    voided: int = 0

    def family(self, name: str) -> list[Trajectory]:
        """The trajectories of one family (empty when nobody answered it)."""
        return self.families.get(name, [])


def _cut(meetings: list[MeetingPoint], until) -> list[MeetingPoint]:
    if until is None:
        return meetings
    until = until if isinstance(until, uuid.UUID) else uuid.UUID(str(getattr(until, "id", until)))
    for n, m in enumerate(meetings):
        if m.id == until:
            return meetings[:n + 1]
    return meetings


def _items(dialect: str):
    """A response's answers in one text, ``key=73,key2=!skipped``: one row per response.

    Aggregated by the database with the answers' primary-key index, so a case
    page reads one row per questionnaire rather than one per item.
    """
    value = func.coalesce(cast(Answer.value_tenths, String), "!" + Answer.missing_code)
    pair = Answer.item_key + "=" + value
    joined = (func.string_agg(pair, literal_column("','")) if dialect == "postgresql"
              else func.group_concat(pair, ","))
    return select(joined).where(Answer.response_id == Response.id).scalar_subquery()


#: Named tuples made without the keyword handling of their constructors: a long
#: case has thousands of answers.
_new = tuple.__new__


def _parse(text: str | None) -> tuple[ItemValue, ...]:
    if not text:
        return ()
    out = []
    for pair in text.split(","):
        key, _, value = pair.partition("=")
        if value[:1] == "!":
            out.append(_new(ItemValue, (key, None, value[1:])))
        else:
            out.append(_new(ItemValue, (key, int(value), None)))
    return tuple(out)


def _raw(column):
    """A uuid column as the database returns it, without parsing each row into a UUID."""
    return type_coerce(column, String)


_statements: dict[str, tuple] = {}
#: A meeting's kind as stored (the enum's name) → its value.
_KINDS = {kind.name: kind.value for kind in MeetingType}


def _queries(dialect: str):
    """The meetings and the responses of a case (``:case_id``), built once per process.

    Building a statement of this size costs more than running it on a small
    case, so the two are built once and reused (SQLAlchemy then also reuses
    their compiled form); filters are added to the copy a call needs.
    """
    found = _statements.get(dialect)
    if found is None:
        case_id = bindparam("case_id", type_=Meeting.case_id.type)
        meetings = (select(Meeting.id, _raw(Meeting.id).label("raw"),
                           _raw(Meeting.held_on).label("held_on"),
                           _raw(Meeting.type).label("type"))
                    .where(Meeting.case_id == case_id)
                    .order_by(Meeting.held_on, Meeting.created_at))
        responses = (
            select(_raw(Response.id).label("id"),
                   _raw(Response.participant_id).label("participant"),
                   Response.staff_user_id, _raw(Participant.role).label("role"),
                   Participant.label, User.display_name,
                   _raw(Response.meeting_id).label("meeting"),
                   Response.total_tenths, _raw(Response.subject).label("subject"),
                   _raw(Response.instrument_version_id).label("version"),
                   InstrumentVersion.family, _raw(ResponseVoid.response_id).label("void_id"),
                   _items(dialect).label("items"))
            .join(Meeting, Meeting.id == Response.meeting_id)
            .outerjoin(Participant, Participant.id == Response.participant_id)
            .outerjoin(User, User.id == Response.staff_user_id)
            .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
            .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
            .where(Meeting.case_id == case_id)
            .order_by(Meeting.held_on, Meeting.created_at, Response.submitted_at)
        )
        found = _statements[dialect] = (meetings, responses)
    return found


def for_case(case: Case, families: tuple[str, ...] | None = None, *,
             participants=None, until=None, include_staff: bool = True) -> CaseTrajectories:
    """The case's meetings, every respondent's series by family, and the timeline.

    ``participants`` (ids) limits the series to those people (the family view,
    the meeting page); ``until`` (a meeting or its id) leaves out later
    meetings. Voided responses appear in the timeline only, never in a series.
    Ids are kept as the database returns them and parsed once per meeting and
    respondent, not once per row (a case with 200 meetings has thousands).
    """
    conn = db.session.connection()
    meetings_query, stmt = _queries(conn.dialect.name)
    params = {"case_id": case.id}
    rows = conn.execute(meetings_query, params).all()
    # The date as the driver gives it: text on SQLite, a date on PostgreSQL.
    meetings = _cut([_new(MeetingPoint, (meeting_id, day if type(day) is date
                                         else date.fromisoformat(day), n, _KINDS[kind]))
                     for n, (meeting_id, _raw_id, day, kind) in enumerate(rows, 1)], until)
    by_raw = {row.raw: m for row, m in zip(rows, meetings, strict=False)}
    if families is not None:
        stmt = stmt.where(InstrumentVersion.family.in_(families))
    if participants is not None:
        ids = [p if isinstance(p, uuid.UUID) else uuid.UUID(str(getattr(p, "id", p)))
               for p in participants]
        wanted = Response.participant_id.in_(ids)
        if include_staff:
            wanted = wanted | Response.staff_user_id.is_not(None)
        stmt = stmt.where(wanted)

    versions: dict = {}
    ids: dict = {}
    found: dict[tuple, Trajectory] = {}
    result: dict[str, list[Trajectory]] = {}
    timeline: dict[uuid.UUID, list[Answered]] = {}
    voided_count = 0
    for (response_id, participant, staff_user_id, role, label, display_name, meeting_raw,
         total, subject, version, family, void_id, raw_items) in conn.execute(stmt, params).all():
        meeting = by_raw.get(meeting_raw)
        if meeting is None:  # after ``until``
            continue
        if participant is not None:
            key = participant
        else:
            key, role, label = f"staff-{staff_user_id}", STAFF_ROLE, display_name
        instrument = versions.get(version)
        if instrument is None:
            instrument = versions[version] = by_version_id(uuid.UUID(str(version)))
        missing = raw_items.count("=!") if raw_items else 0
        voided = void_id is not None
        key = str(key)
        entries = timeline.get(meeting.id)
        if entries is None:
            entries = timeline[meeting.id] = []
        entries.append(_new(Answered, (meeting.id, key, role, label, instrument, total, missing,
                                       voided)))
        if voided:  # kept for the record, never drawn (decision 46)
            voided_count += 1
            continue
        series = found.get((family, key))
        if series is None:
            participant_id = None
            if participant is not None:
                participant_id = ids.get(participant)
                if participant_id is None:
                    participant_id = ids[participant] = uuid.UUID(str(participant))
            series = found[(family, key)] = Trajectory(
                participant_id, role, label, family, staff_user_id=staff_user_id)
            result.setdefault(family, []).append(series)
        rating = Rating(meeting, total, instrument, None, subject, response_id, raw_items or "")
        series.answered.append(rating)
        if total is not None:
            series.ratings.append(rating)
    for family in result.values():
        for series in family:
            if series.ratings:
                # The cut-off for whom the latest rating is about, at that meeting.
                last = series.ratings[-1]
                series.cutoff_tenths = signals.cutoff_tenths(
                    last.instrument, subject=last.subject, role=series.role,
                    child_age=case.child_age_on(last.meeting.held_on))
        family.sort(key=lambda t: (ROLE_ORDER.get(t.role, 9), t.label or ""))
    return CaseTrajectories(meetings, result, timeline, voided_count)


#: Series are listed child first, then the carers, the network and staff.
ROLE_ORDER = {"child": 0, "mother": 1, "father": 2, "other_carer": 3, "network": 4,
              "professional": 5, STAFF_ROLE: 6}
