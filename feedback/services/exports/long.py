"""The long format: one row per item answer, pseudonymised, streamed row by row."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterator
from datetime import date

from flask import current_app
from sqlalchemy import Select, select

from feedback.extensions import db
from feedback.instruments.scoring import format_tenths
from feedback.models import (
    Answer,
    Case,
    InstrumentVersion,
    Meeting,
    Participant,
    Response,
    ResponseVoid,
    Team,
)
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor

#: The long format (decision 16); export and import share it.
LONG_COLUMNS = (
    "response_id", "case_id", "respondent_id", "respondent_role", "subject", "team",
    "case_status", "case_opened", "case_closed", "child_birth_year", "child_age_at_meeting",
    "meeting_id", "meeting_date", "meeting_type", "instrument", "instrument_version", "family",
    "item", "value", "missing_code", "submitted_at", "locale",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def pseudonym(key: bytes, internal_id) -> str:
    """First 16 hex characters of HMAC-SHA256(key, internal UUID) (decision 15)."""
    return hmac.new(key, str(internal_id).encode(), hashlib.sha256).hexdigest()[:16]


def safe_text(value: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _age_on(birth_year: int, birth_month: int | None, day: date) -> int:
    month = birth_month or 7
    return day.year - birth_year - (0 if (day.month, day.day) >= (month, 1) else 1)


def long_rows_query(actor: Actor) -> Select:
    """All item answers ``actor`` may export, in a stable order."""
    return (
        select(
            Response.id.label("response_id"), Case.id.label("case_id"),
            Response.participant_id, Response.staff_user_id, Participant.role,
            Response.subject, Team.name.label("team"), Case.opened_on, Case.closed_on,
            Case.child_birth_year, Case.child_birth_month, Meeting.id.label("meeting_id"),
            Meeting.held_on, Meeting.type.label("meeting_type"),
            InstrumentVersion.key, InstrumentVersion.version, InstrumentVersion.family,
            Answer.item_key, Answer.value_tenths, Answer.missing_code,
            Response.submitted_at, Response.locale,
        )
        .select_from(Answer)
        .join(Response, Response.id == Answer.response_id)
        .join(Meeting, Meeting.id == Response.meeting_id)
        .join(Case, Case.id == Meeting.case_id)
        .join(Team, Team.id == Case.team_id)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(Participant, Participant.id == Response.participant_id)
        # Voided responses (given by the wrong person) are kept but never exported.
        .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
        .where(access.data_filter(actor), ResponseVoid.response_id.is_(None))
        .order_by(Response.submitted_at, Response.id, Answer.position)
    )


def export_long_csv(actor: Actor) -> Iterator[str]:
    """Audit the export, then yield the CSV (RFC 4180, UTF-8) a chunk at a time."""
    # Refuses actors who may not export, before anything is sent.
    access.require_area(actor, Action.export)
    stmt = long_rows_query(actor)
    audit.record_now(actor, "export.long_csv", detail=f"role={actor.user.role.value}")
    key = current_app.config["FEEDBACK_PSEUDONYM_KEY"].encode()
    return _stream(stmt, key)


def _stream(stmt: Select, key: bytes) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LONG_COLUMNS)
    ids: dict = {}

    def pid(value) -> str:
        # Cached: the same case or meeting recurs on many consecutive rows.
        if value is None:
            return ""
        found = ids.get(value)
        if found is None:
            found = ids[value] = pseudonym(key, value)
            if len(ids) > 100_000:
                ids.clear()
        return found

    result = db.session.execute(stmt.execution_options(yield_per=2000))
    for n, r in enumerate(result, 1):
        respondent = r.participant_id or r.staff_user_id
        writer.writerow((
            pid(r.response_id), pid(r.case_id), pid(respondent),
            r.role.value if r.role is not None else "staff", r.subject.value,
            safe_text(r.team), "open" if r.closed_on is None else "closed",
            r.opened_on.isoformat(), r.closed_on.isoformat() if r.closed_on else "",
            r.child_birth_year, _age_on(r.child_birth_year, r.child_birth_month, r.held_on),
            pid(r.meeting_id), r.held_on.isoformat(), r.meeting_type.value, r.key, r.version,
            r.family, r.item_key, format_tenths(r.value_tenths), r.missing_code or "",
            r.submitted_at.isoformat().replace("+00:00", "Z"), r.locale,
        ))
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
