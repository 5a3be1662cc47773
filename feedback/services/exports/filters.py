"""What an export (and, later, a report) is limited to: one small dataclass, validated once.

The same :class:`DataFilters` comes from the export page's form, from
``flask export``'s options and from the reports; :func:`parse` checks every
value against what exists (:func:`choices_for`), so an unknown team, tag or
instrument is a clear error, never an empty file. Lists may be of any length
(the page sends them by POST).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, exists, false, or_, select

from feedback.extensions import db
from feedback.models import (
    Case,
    CaseTag,
    InstrumentVersion,
    Meeting,
    Participant,
    ParticipantRole,
    Response,
    ResponseVoid,
    Team,
)
from feedback.services import access
from feedback.services.actors import Actor
from feedback.services.errors import Invalid

#: Respondent roles an export can be limited to; ``staff`` is a staff member's own rating.
ROLES = (*(r.value for r in ParticipantRole), "staff")
STATUSES = ("open", "closed")
#: The names filters have in forms, on the command line and in the codebook.
LIST_FIELDS = ("team", "instrument", "family", "role", "tag")
DATE_FIELDS = ("meeting_from", "meeting_to", "opened_from", "opened_to")
FIELDS = (*DATE_FIELDS, *LIST_FIELDS, "case_status")


@dataclass(frozen=True)
class DataFilters:
    """Limits on the data; an empty field limits nothing.

    Within a list any value matches (teams A or B); between fields all must
    match (team A and closed), except instruments and families, which together
    name the questionnaires to include.
    """

    meeting_from: date | None = None
    meeting_to: date | None = None
    teams: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    case_status: str | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    tags: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """Whether nothing is limited."""
        return self == DataFilters()

    def as_dict(self) -> dict:
        """Plain data for the codebook and the audit log (dates as ISO text)."""
        return {k: (v.isoformat() if isinstance(v, date) else list(v) if isinstance(v, tuple)
                    else v) for k, v in asdict(self).items()}

    def summary(self, limit: int = 400) -> str:
        """The filters as compact JSON for the audit log; long lists are counted, not listed."""
        data = {k: v for k, v in self.as_dict().items() if v not in (None, [])}
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(text) > limit:
            data = {k: (f"{len(v)} values" if isinstance(v, list) else v)
                    for k, v in data.items()}
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return text[:limit]

    # --- SQL -----------------------------------------------------------------------

    def case_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on :class:`Case`: team, status, opened period, tags."""
        where: list[ColumnElement[bool]] = []
        if self.teams:
            where.append(Case.team_id.in_(select(Team.id).where(Team.name.in_(self.teams))))
        if self.case_status == "open":
            where.append(Case.closed_on.is_(None))
        elif self.case_status == "closed":
            where.append(Case.closed_on.is_not(None))
        if self.opened_from:
            where.append(Case.opened_on >= self.opened_from)
        if self.opened_to:
            where.append(Case.opened_on <= self.opened_to)
        if self.tags:
            where.append(Case.id.in_(select(CaseTag.case_id).where(CaseTag.name.in_(self.tags))))
        return where

    def meeting_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on :class:`Meeting`: the meeting-date period."""
        where: list[ColumnElement[bool]] = []
        if self.meeting_from:
            where.append(Meeting.held_on >= self.meeting_from)
        if self.meeting_to:
            where.append(Meeting.held_on <= self.meeting_to)
        return where

    def instrument_conditions(self) -> list[ColumnElement[bool]]:
        """Conditions on :class:`InstrumentVersion`: the chosen instruments and families."""
        picked = []
        if self.instruments:
            picked.append(InstrumentVersion.key.in_(self.instruments))
        if self.families:
            picked.append(InstrumentVersion.family.in_(self.families))
        return [or_(*picked)] if picked else []

    def role_conditions(self, staff_rated: ColumnElement | None = None
                        ) -> list[ColumnElement[bool]]:
        """Conditions on the respondent's role (:class:`Participant`, outer-joined).

        ``staff_rated`` is the column that is set for a staff member's own rating
        (``Response.staff_user_id``); without it ``staff`` matches nothing.
        """
        if not self.roles:
            return []
        people = [r for r in self.roles if r != "staff"]
        either = [Participant.role.in_(people)] if people else []
        if "staff" in self.roles and staff_rated is not None:
            either.append(staff_rated.is_not(None))
        return [or_(*either)] if either else [false()]

    def conditions(self, staff_rated: ColumnElement | None = None
                   ) -> list[ColumnElement[bool]]:
        """Every condition, for a query joining cases, meetings, versions and participants."""
        return (self.case_conditions() + self.meeting_conditions()
                + self.instrument_conditions() + self.role_conditions(staff_rated))


def counted_responses() -> ColumnElement[bool]:
    """Responses that count: the one place exports leave voided responses out (decision 46)."""
    return ~exists().where(ResponseVoid.response_id == Response.id)


# --- the values that exist, and parsing -------------------------------------------

@dataclass(frozen=True)
class FilterChoices:
    """The values an actor may filter on: what exists within their scope."""

    teams: tuple[str, ...]
    instruments: tuple[str, ...]
    families: tuple[str, ...]
    roles: tuple[str, ...] = ROLES
    statuses: tuple[str, ...] = STATUSES
    tags: tuple[str, ...] = ()


def choices_for(actor: Actor) -> FilterChoices:
    """Teams and tags within the actor's scope, and every stored or installed questionnaire."""
    from feedback.services.instruments import installed

    scope = access.data_filter(actor)
    teams = db.session.scalars(
        select(Team.name).where(Team.id.in_(_team_ids(actor))).order_by(Team.name)).all()
    tags = db.session.scalars(
        select(CaseTag.name).distinct().join(Case, Case.id == CaseTag.case_id).where(scope)
        .order_by(CaseTag.name)).all()
    stored = db.session.execute(select(InstrumentVersion.key, InstrumentVersion.family)).all()
    packs = {(p.id, p.family) for p in installed()} | {tuple(row) for row in stored}
    return FilterChoices(
        teams=tuple(teams),
        instruments=tuple(sorted({k for k, _ in packs})),
        families=tuple(sorted({f for _, f in packs})),
        tags=tuple(tags),
    )


def _team_ids(actor: Actor):
    """The teams whose data the actor may export: all for an analyst, their own for a lead."""
    from feedback.models import Role, TeamMembership

    if actor.is_staff and actor.user.role == Role.analyst:
        return select(Team.id).where(Team.organisation_id == actor.user.organisation_id)
    return select(TeamMembership.team_id).where(TeamMembership.user_id == actor.user_id)


def _values(data: Mapping, name: str) -> list[str]:
    getlist = getattr(data, "getlist", None)
    raw = getlist(name) if getlist is not None else data.get(name, ())
    if isinstance(raw, str):
        raw = [raw]
    seen: dict[str, None] = {}
    for value in raw or ():
        value = str(value).strip()
        if value:
            seen.setdefault(value, None)
    return list(seen)


def _date(data: Mapping, name: str) -> date | None:
    values = _values(data, name)
    if not values:
        return None
    if len(values) > 1:
        raise Invalid("filter_date", field=name, value=values[0])
    try:
        return date.fromisoformat(values[0])
    except ValueError:
        raise Invalid("filter_date", field=name, value=values[0][:40]) from None


def _known(values: Sequence[str], allowed: Iterable[str], name: str) -> tuple[str, ...]:
    allowed = set(allowed)
    for value in values:
        if value not in allowed:
            raise Invalid("filter_unknown", field=name, value=value[:80])
    return tuple(values)


def parse(data: Mapping, choices: FilterChoices) -> DataFilters:
    """Filters from form fields or command-line options; :class:`Invalid` names the field.

    ``data`` maps the names in :data:`FIELDS` to a value or a list of values
    (a ``MultiDict`` from a form works as it is). Unknown values and
    impossible periods are refused; other keys are ignored.
    """
    found = {name: _date(data, name) for name in DATE_FIELDS}
    for start, end in (("meeting_from", "meeting_to"), ("opened_from", "opened_to")):
        if found[start] and found[end] and found[start] > found[end]:
            raise Invalid("filter_period", field=end, value=found[end].isoformat())
    status = _values(data, "case_status")
    if len(status) > 1:
        raise Invalid("filter_unknown", field="case_status", value=status[1][:80])
    return DataFilters(
        meeting_from=found["meeting_from"], meeting_to=found["meeting_to"],
        teams=_known(_values(data, "team"), choices.teams, "team"),
        instruments=_known(_values(data, "instrument"), choices.instruments, "instrument"),
        families=_known(_values(data, "family"), choices.families, "family"),
        roles=_known(_values(data, "role"), choices.roles, "role"),
        case_status=_known(status, choices.statuses, "case_status")[0] if status else None,
        opened_from=found["opened_from"], opened_to=found["opened_to"],
        tags=_known(_values(data, "tag"), choices.tags, "tag"),
    )
