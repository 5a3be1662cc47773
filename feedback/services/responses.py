"""Storing a respondent's answers: exactly once, and only when durably committed."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import selectinload

from feedback import clock
from feedback.extensions import db
from feedback.instruments.schema import Instrument
from feedback.instruments.scoring import ItemAnswer, total_tenths
from feedback.models import (
    Answer,
    InvitationItem,
    InvitationToken,
    Meeting,
    Response,
    ResponseVoid,
)
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import (
    AlreadyAnswered,
    Invalid,
    NotFound,
    SubmissionConflict,
    Unavailable,
)
from feedback.services.instruments import definition
from feedback.services.uow import begin_write


@dataclass(frozen=True)
class Receipt:
    """What the respondent's page is told once the answers are durably stored."""

    response_id: uuid.UUID
    submitted_at: datetime
    #: False when this was a repeat of an earlier, identical submission.
    created: bool


def bundle_item(token: InvitationToken, position: int) -> tuple[InvitationItem, Instrument]:
    """The questionnaire at ``position`` in the token's invitation, with its definition."""
    for item in token.invitation.items:
        if item.position == position:
            return item, definition(item.instrument_version)
    raise NotFound()


def next_position(token: InvitationToken) -> int | None:
    """The first unanswered questionnaire in the bundle, or ``None`` when all are done."""
    for item in token.invitation.items:
        if item.used_at is None:
            return item.position
    return None


def submit(actor: Actor, token: InvitationToken, position: int, submission_id: str,
           answers: dict[str, ItemAnswer], locale: str) -> Receipt:
    """Store one questionnaire's answers from a respondent link.

    Using up the questionnaire and inserting the response happen in one
    transaction; a repeat of the same submission returns the first receipt,
    and the same id with other answers is refused. When the database cannot
    store it now (locked past the busy timeout, disk full, connection lost)
    the transaction is rolled back whole and :class:`Unavailable` is raised:
    never a receipt for answers that were not stored.
    """
    try:
        sid = uuid.UUID(submission_id)
    except (TypeError, ValueError):
        raise Invalid("submission_id") from None
    item, instrument = bundle_item(token, position)
    if set(answers) != {i.key for i in instrument.items}:
        raise Invalid("items_incomplete")
    try:
        return _store(actor, token, item, instrument, position, sid, answers, locale)
    except IntegrityError:
        raise
    except DBAPIError:
        db.session.rollback()
        raise Unavailable() from None


def _store(actor: Actor, token: InvitationToken, item: InvitationItem, instrument: Instrument,
           position: int, sid: uuid.UUID, answers: dict[str, ItemAnswer],
           locale: str) -> Receipt:
    """:func:`submit`'s transaction: use up the questionnaire and store the response."""
    earlier = _by_submission(sid)
    if earlier is not None:
        return _repeat(earlier, token, item, answers)

    invitation = token.invitation
    begin_write()
    now = clock.now()
    used = db.session.execute(
        update(InvitationItem)
        .where(InvitationItem.invitation_id == item.invitation_id,
               InvitationItem.position == position, InvitationItem.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        db.session.rollback()
        # A parallel copy of this very submission may have won the race.
        earlier = _by_submission(sid)
        if earlier is not None:
            return _repeat(earlier, token, item, answers)
        raise AlreadyAnswered()
    response = Response(
        submission_id=sid, meeting_id=invitation.meeting_id,
        participant_id=invitation.participant_id, invitation_id=invitation.id,
        instrument_version_id=item.instrument_version_id, subject=invitation.subject,
        total_tenths=total_tenths(instrument, answers), submitted_at=now, locale=locale,
    )
    response.answers = [
        Answer(item_key=it.key, position=n, value_tenths=answers[it.key].value_tenths,
               missing_code=answers[it.key].missing_code)
        for n, it in enumerate(instrument.items)
    ]
    db.session.add(response)
    audit.record(actor, "response.submit", "response", response.id)
    try:
        db.session.commit()
    except IntegrityError:
        # The submission id was already used for another questionnaire.
        db.session.rollback()
        raise SubmissionConflict() from None
    db.session.expire(item)
    return Receipt(response.id, now, created=True)


def _by_submission(sid: uuid.UUID) -> Response | None:
    return db.session.scalar(select(Response).where(Response.submission_id == sid))


def _repeat(earlier: Response, token: InvitationToken, item: InvitationItem,
            answers: dict[str, ItemAnswer]) -> Receipt:
    stored = {a.item_key: ItemAnswer(a.value_tenths, a.missing_code) for a in earlier.answers}
    same_place = (earlier.invitation_id == token.invitation_id
                  and earlier.instrument_version_id == item.instrument_version_id)
    if not same_place or stored != answers:
        raise SubmissionConflict()
    return Receipt(earlier.id, earlier.submitted_at, created=False)


def get_response(actor: Actor, response_id: uuid.UUID | str) -> Response:
    """A response in a case ``actor`` may void answers in; else :class:`NotFound`, audited."""
    try:
        rid = uuid.UUID(str(response_id))
    except ValueError:
        rid = None
    response = db.session.get(Response, rid) if rid else None
    if response is None or not access.may(actor, Action.void_response, response.meeting.case):
        audit.record_now(actor, str(Action.void_response), "response",
                         rid or str(response_id)[:64], outcome="refused",
                         detail="not found or not permitted")
        raise NotFound()
    return response


def void(actor: Actor, response: Response, reason: str) -> ResponseVoid:
    """Void a response given by the wrong person (decision 46).

    The response and its answers are kept, for the record; graphs, reports and
    exports leave it out from now on. The reason is required and audited.
    """
    access.check(actor, Action.void_response, response.meeting.case, "response", response.id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("required", field="reason")
    if any(unicodedata.category(ch) == "Cc" for ch in reason):
        raise Invalid("control_characters", field="reason")
    if len(reason) > ResponseVoid.REASON_MAX:
        raise Invalid("too_long", field="reason", max=ResponseVoid.REASON_MAX)
    if response.void is not None:
        raise Invalid("already_voided", field="reason")
    begin_write()
    row = ResponseVoid(response_id=response.id, voided_by_id=actor.user_id, reason=reason)
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Invalid("already_voided", field="reason") from None
    audit.record(actor, "response.void", "response", response.id, detail=reason)
    db.session.commit()
    return row


def voided_responses(case) -> list[Response]:
    """The case's voided responses, latest meeting first, with who voided them and why."""
    return list(db.session.scalars(
        select(Response).join(ResponseVoid).join(Meeting, Meeting.id == Response.meeting_id)
        .where(Meeting.case_id == case.id)
        .order_by(Meeting.held_on.desc(), Response.submitted_at.desc())))


def meeting_responses(meeting) -> dict[tuple, Response]:
    """The meeting's responses by (invitation id, instrument version id), voids loaded."""
    rows = db.session.scalars(select(Response).where(Response.meeting_id == meeting.id)
                              .options(selectinload(Response.void)))
    return {(r.invitation_id, r.instrument_version_id): r for r in rows}
