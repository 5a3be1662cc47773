"""What every report shares: its shape, its options, periods, the rows it may read, its CSV.

A report is a :class:`Report`: a title, the formulas it used (shown on the
page), the filters and options it ran with, what it left out and why (with
counts), and tables of figures. The page, the CSV in both dialects and
``flask report`` all show the same object, built once by the report's module.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, case, select

from feedback.extensions import db
from feedback.models import Case, InstrumentVersion, Meeting, Participant, Response, Team
from feedback.services import access
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from feedback.services.exports.dialects import Dialect, safe_text
from feedback.services.exports.filters import DataFilters, counted_responses
from feedback.services.instruments import definition

#: Kinds of column: how a value is written on the page.
TEXT, COUNT, NUMBER, SHARE, STAT = "text", "count", "number", "share", "stat"
#: A respondent role: its code in the CSV (child, mother, staff), its name on the page.
ROLE = "role"
PERIOD_MONTHS = {"month": 1, "quarter": 3, "half": 6, "year": 12}
PERIOD_LABELS = {"month": _l("Months"), "quarter": _l("Quarters"), "half": _l("Half-years"),
                 "year": _l("Years")}
#: More periods than this is a mistake (months over decades), not a report.
MAX_PERIODS = 240


@dataclass(frozen=True)
class Column:
    """A column of a table: a stable key (the CSV header), a label and a kind."""

    key: str
    label: object
    kind: str = TEXT


@dataclass
class Table:
    """Rows of figures under a heading; ``rows`` hold plain values (None = no figure)."""

    key: str
    title: object
    columns: tuple[Column, ...]
    rows: list[tuple] = field(default_factory=list)
    note: object | None = None
    #: Children each row rests on: a number for the whole row, or column keys → number.
    children: list = field(default_factory=list)
    #: Per row, the group a total row sums (None: not in one); indexes of total rows.
    groups: list = field(default_factory=list)
    totals: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class LeftOut:
    """Something the report did not use, why, and how many."""

    key: str
    reason: object
    count: int


@dataclass
class Report:
    """One report, ready for the page, the CSV and the command line."""

    name: str
    title: object
    formulas: list[object]
    filters: DataFilters
    options: dict
    option_labels: list[tuple[object, str]]
    left_out: list[LeftOut]
    tables: list[Table]
    #: The main figure as bars: (label, value 0–1 or points, scale max) for the SVG.
    chart: list[tuple[str, float | None]] = field(default_factory=list)
    chart_max: float = 1.0
    chart_title: object = ""
    #: Children behind each chart entry (entries on too few children are not drawn).
    chart_children: list[int] = field(default_factory=list)
    #: Rows with a small cell hidden, and the threshold (0: nothing hidden).
    suppressed: int = 0
    threshold: int = 0


# --- options --------------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """A report's own setting (beyond the shared filters), parsed strictly."""

    name: str
    label: object
    kind: str  # choice | date | anchor | int | text
    default: object = None
    choices: tuple[str, ...] = ()
    minimum: int = 0
    maximum: int = 0
    hint: object = ""


def _one(data: Mapping, name: str) -> str | None:
    getlist = getattr(data, "getlist", None)
    values = getlist(name) if getlist is not None else data.get(name)
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    values = [str(v).strip() for v in values if str(v).strip()]
    if len(values) > 1:
        raise Invalid("report_option", field=name, value=values[1][:80])
    return values[0] if values else None


def parse_options(options: tuple[Option, ...], data: Mapping,
                  choices: Mapping[str, tuple[str, ...]] | None = None) -> dict:
    """The report's options from a form, query string or command line; Invalid names the field.

    ``choices`` gives the allowed values of options whose choices depend on
    the data (such as the questionnaires installed).
    """
    result = {}
    for option in options:
        raw = _one(data, option.name)
        if raw is None:
            result[option.name] = option.default
            continue
        allowed = (choices or {}).get(option.name, option.choices)
        try:
            if option.kind == "choice":
                if raw not in allowed:
                    raise ValueError
                value = raw
            elif option.kind == "date":
                value = date.fromisoformat(raw)
            elif option.kind == "anchor":
                month, day = (int(p) for p in raw.split("-"))
                if not (1 <= month <= 12 and 1 <= day <= 28) or len(raw) != 5:
                    raise ValueError
                value = raw
            elif option.kind == "int":
                if not raw.isdigit():
                    raise ValueError
                value = int(raw)
                if not option.minimum <= value <= option.maximum:
                    raise ValueError
            else:
                if len(raw) > 2000:
                    raise ValueError
                value = raw
        except ValueError:
            raise Invalid("report_option", field=option.name, value=raw[:80]) from None
        result[option.name] = value
    return result


# --- periods --------------------------------------------------------------------------

def _add_months(day: date, months: int) -> date:
    years, month = divmod(day.month - 1 + months, 12)
    return date(day.year + years, month + 1, day.day)


@dataclass(frozen=True)
class Periods:
    """Consecutive periods of equal length, starting on an anchor day (``MM-DD``)."""

    kind: str = "half"
    anchor: str = "01-01"

    @property
    def months(self) -> int:
        """The length of a period in months."""
        return PERIOD_MONTHS[self.kind]

    def start_of(self, day: date) -> date:
        """The first day of the period ``day`` falls in."""
        month, dom = (int(p) for p in self.anchor.split("-"))
        start = date(day.year, month, dom)
        while start > day:
            start = _add_months(start, -self.months)
        while _add_months(start, self.months) <= day:
            start = _add_months(start, self.months)
        return start

    def between(self, first: date | None, last: date | None) -> list[tuple[date, date]]:
        """(start, end-exclusive) of every period from the one holding ``first`` to ``last``."""
        if first is None or last is None:
            return []
        result = []
        start = self.start_of(first)
        while start <= last:
            end = _add_months(start, self.months)
            result.append((start, end))
            start = end
            if len(result) > MAX_PERIODS:
                raise Invalid("report_too_many_periods", field="period", value=str(MAX_PERIODS))
        return result

    def bucket(self, column, periods: list[tuple[date, date]]) -> ColumnElement:
        """A SQL expression numbering the period ``column`` falls in (0, 1, …)."""
        if not periods:
            return case((column.is_(None), -1), else_=-1)
        whens = [(column < end, n) for n, (_, end) in enumerate(periods)]
        return case(*whens, else_=len(periods))


def period_label(period: tuple[date, date]) -> str:
    """A period as its first and last day."""
    from datetime import timedelta

    return f"{period[0].isoformat()}–{(period[1] - timedelta(days=1)).isoformat()}"


# --- the rows a report may read ---------------------------------------------------------

def responses(actor: Actor, filters: DataFilters, *columns) -> Select:
    """``columns`` over every counted response the actor may report on, under ``filters``.

    Voided responses are left out (decision 46); the joins are the export's.
    """
    return (
        select(*columns)
        .select_from(Response)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .join(Case, Case.id == Meeting.case_id)
        .join(Team, Team.id == Case.team_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(Participant, Participant.id == Response.participant_id)
        .where(access.data_filter(actor), counted_responses(),
               *filters.conditions(Response.staff_user_id))
    )


def role_name(role: str) -> str:
    """A role's name in the reader's language; a staff member's own rating has its own."""
    from feedback.labels import role_label

    return str(_l("Staff (own rating)")) if role == "staff" else role_label(role)


def role_of(value) -> str:
    """A respondent role from a row: a participant's role, or ``staff`` for a staff rating."""
    if value is None:
        return "staff"
    return getattr(value, "value", value)


def versions(**where) -> dict:
    """Stored instrument versions (id → frozen definition), optionally of one family or key."""
    stmt = select(InstrumentVersion)
    for name, value in where.items():
        stmt = stmt.where(getattr(InstrumentVersion, name) == value)
    return {row.id: definition(row) for row in db.session.scalars(stmt)}


def meeting_range(actor: Actor, filters: DataFilters, *where) -> tuple[date | None, date | None]:
    """The first and last meeting date among the responses the report reads."""
    from sqlalchemy import func

    stmt = responses(actor, filters, func.min(Meeting.held_on), func.max(Meeting.held_on))
    first, last = db.session.execute(stmt.where(*where)).one()
    first = max(first, filters.meeting_from) if first and filters.meeting_from else first
    last = min(last, filters.meeting_to) if last and filters.meeting_to else last
    return first, last


# --- CSV --------------------------------------------------------------------------------

def _cell(value, dialect: Dialect) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return text.replace(".", dialect.decimal)
    return safe_text(str(value))


def csv_bytes(report: Report, dialect: Dialect) -> bytes:
    """The report's tables and what it left out as one CSV: a ``table`` column names each.

    The header is every table's columns in order of first appearance; a row
    fills the columns of its own table and leaves the others empty.
    """
    keys: list[str] = []
    for table in report.tables:
        for column in table.columns:
            if column.key not in keys:
                keys.append(column.key)
    for key in ("reason", "excluded"):
        if key not in keys:
            keys.append(key)
    buffer = io.StringIO()
    writer = dialect.writer(buffer)
    writer.writerow(["table", *keys])
    for table in report.tables:
        where = [next((i for i, c in enumerate(table.columns) if c.key == k), None)
                 for k in keys]
        for row in table.rows:
            writer.writerow([table.key] + [_cell(row[i], dialect) if i is not None else ""
                                           for i in where])
    for item in report.left_out:
        writer.writerow(["left_out"] + [item.key if k == "reason" else
                                        str(item.count) if k == "excluded" else "" for k in keys])
    data = buffer.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if dialect.bom else data
