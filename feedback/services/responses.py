"""Storing a respondent's answers: exactly once, and only when durably committed."""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from feedback import clock
from feedback.extensions import db
from feedback.instruments import wording
from feedback.instruments.schema import Instrument
from feedback.instruments.scoring import ItemAnswer, total_tenths
from feedback.models import (
    Answer,
    InvitationItem,
    InvitationToken,
    Meeting,
    ParticipantRole,
    Response,
    ResponseVoid,
    Subject,
)
from feedback.models.types import new_id
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
from feedback.services.instruments import by_version_id
from feedback.services.invitations import BundleItem, RespondentLink, link_of
from feedback.services.prepared import Prepared
from feedback.services.uow import begin_write


@dataclass(frozen=True)
class Receipt:
    """What the respondent's page is told once the answers are durably stored."""

    response_id: uuid.UUID
    submitted_at: datetime
    #: False when this was a repeat of an earlier, identical submission.
    created: bool


def bundle_item(token: InvitationToken | RespondentLink,
                position: int) -> tuple[BundleItem, Instrument]:
    """The questionnaire at ``position`` in the token's invitation, with its definition.

    The definition comes from the per-process cache of frozen versions: it is
    read from the database and parsed once per process, not per request.
    """
    for item in _link(token).items:
        if item.position == position:
            return item, by_version_id(item.instrument_version_id)
    raise NotFound()


def worded(token: InvitationToken | RespondentLink,
           instrument: Instrument) -> tuple[Instrument, str | None]:
    """The questionnaire in the words meant for this respondent, and whom it is about.

    The role and the subject come from the invitation (decision 32): a parent
    rating the child reads about "your child", a child reads the child's words.
    The second value is a code from :func:`wording.about`.
    """
    link = _link(token)
    role, subject = ParticipantRole(link.role).value, Subject(link.subject).value
    return (instrument.for_respondent(wording.respondent_kind(role, subject)),
            wording.about(instrument.family, role, subject))


def next_position(token: InvitationToken | RespondentLink) -> int | None:
    """The first unanswered questionnaire in the bundle, or ``None`` when all are done."""
    for item in _link(token).items:
        if item.used_at is None:
            return item.position
    return None


def _link(token: InvitationToken | RespondentLink) -> RespondentLink:
    return token if isinstance(token, RespondentLink) else link_of(token)


_RESPONSES = Response.__table__
_ANSWERS = Answer.__table__
_ITEMS = InvitationItem.__table__
#: The statements of a submission, built once.
_SPEND = (update(_ITEMS)
          .where(_ITEMS.c.invitation_id == bindparam("b_invitation_id"),
                 _ITEMS.c.position == bindparam("item_position"),
                 _ITEMS.c.used_at.is_(None))
          .values(used_at=bindparam("now", type_=_ITEMS.c.used_at.type)))
#: A submission's statements on the driver's cursor (services/prepared.py): the
#: write lock is held for as short a time as possible.
_WRITE_SPEND = Prepared(_SPEND)
_WRITE_RESPONSE = Prepared(insert(_RESPONSES))
_WRITE_ANSWERS = Prepared(insert(_ANSWERS))
_WRITE_AUDIT = Prepared(audit.INSERT)
_EARLIER = select(_RESPONSES.c.id, _RESPONSES.c.invitation_id,
                  _RESPONSES.c.instrument_version_id, _RESPONSES.c.submitted_at).where(
    _RESPONSES.c.submission_id == bindparam("sid", type_=_RESPONSES.c.submission_id.type))
_EARLIER_ANSWERS = select(_ANSWERS.c.item_key, _ANSWERS.c.value_tenths,
                          _ANSWERS.c.missing_code).where(
    _ANSWERS.c.response_id == bindparam("rid", type_=_ANSWERS.c.response_id.type))


def submit(actor: Actor, token: InvitationToken | RespondentLink, position: int,
           submission_id: str, answers: dict[str, ItemAnswer], locale: str) -> Receipt:
    """Store one questionnaire's answers from a respondent link.

    Using up the questionnaire and inserting the response happen in one
    transaction; a repeat of the same submission returns the first receipt,
    and the same id with other answers is refused.

    Everything that can be done without the write lock is done before the
    write transaction begins (the bundle, the rows to insert); the
    transaction itself is the conditional ``used_at`` update and three
    inserts (response, its answers in one executemany, the audit row).
    Nothing is reloaded after the commit. When the database cannot store it
    now (locked past the busy timeout, disk full, connection lost) the
    transaction is rolled back whole and :class:`Unavailable` is raised:
    never a receipt for answers that were not stored.
    """
    try:
        sid = uuid.UUID(submission_id)
    except (TypeError, ValueError):
        raise Invalid("submission_id") from None
    link = _link(token)
    item, instrument = bundle_item(link, position)
    if set(answers) != {i.key for i in instrument.items}:
        raise Invalid("items_incomplete")

    # No idempotency check before the write: a repeat finds its questionnaire
    # spent (the conditional update below changes nothing) and is answered
    # from the first submission; an id used for another questionnaire breaks
    # the unique submission id. The common case is one statement shorter.
    now = clock.now()
    response_id = new_id()
    response_row = {
        "id": response_id, "submission_id": sid, "meeting_id": link.meeting_id,
        "participant_id": link.participant_id, "invitation_id": link.invitation_id,
        "instrument_version_id": item.instrument_version_id, "subject": link.subject,
        "total_tenths": total_tenths(instrument, answers), "submitted_at": now,
        "locale": locale,
    }
    answer_rows = [
        {"response_id": response_id, "item_key": it.key, "position": n,
         "value_tenths": answers[it.key].value_tenths,
         "missing_code": answers[it.key].missing_code}
        for n, it in enumerate(instrument.items)
    ]
    audit_row = audit.values(actor, "response.submit", "response", response_id)
    audit_row["at"] = now
    spend = {"b_invitation_id": link.invitation_id, "item_position": position, "now": now}
    try:
        return _store(actor, link, item, answers, sid, now, spend, response_row, answer_rows,
                      audit_row)
    except IntegrityError:
        raise
    except DBAPIError:
        db.session.rollback()
        raise Unavailable() from None


def _store(actor: Actor, link: RespondentLink, item: BundleItem, answers, sid, now, spend,
           response_row, answer_rows, audit_row) -> Receipt:
    """:func:`submit`'s transaction: use up the questionnaire and store the prepared rows."""
    response_id = response_row["id"]
    begin_write(keep_reads=True)
    conn = db.session.connection()
    if _WRITE_SPEND.execute(conn, spend) != 1:
        db.session.rollback()
        # A parallel copy of this very submission may have won the race.
        earlier = _by_submission(sid)
        if earlier is not None:
            return _repeat(earlier, link, item, answers)
        raise AlreadyAnswered()
    try:
        _WRITE_RESPONSE.execute(conn, response_row)
    except IntegrityError:
        # The submission id was already used for another questionnaire.
        db.session.rollback()
        raise SubmissionConflict() from None
    _WRITE_ANSWERS.executemany(conn, answer_rows)
    _WRITE_AUDIT.execute(conn, audit_row)
    db.session.commit()
    return Receipt(response_id, now, created=True)


def _by_submission(sid: uuid.UUID):
    return db.session.connection().execute(_EARLIER, {"sid": sid}).first()


def _repeat(earlier, link: RespondentLink, item: BundleItem,
            answers: dict[str, ItemAnswer]) -> Receipt:
    stored = {row.item_key: ItemAnswer(row.value_tenths, row.missing_code)
              for row in db.session.connection().execute(_EARLIER_ANSWERS,
                                                         {"rid": earlier.id})}
    same_place = (earlier.invitation_id == link.invitation_id
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


#: A case's voided responses, with what the case page shows of each read in the same
#: statement; built once (the case is a bound parameter).
_VOIDED = (
    select(Response).join(ResponseVoid).join(Meeting, Meeting.id == Response.meeting_id)
    .where(Meeting.case_id == bindparam("case_id"))
    .order_by(Meeting.held_on.desc(), Response.submitted_at.desc())
    .options(contains_eager(Response.void).joinedload(ResponseVoid.voided_by),
             contains_eager(Response.meeting), joinedload(Response.participant),
             joinedload(Response.instrument_version)))


def voided_responses(case) -> list[Response]:
    """The case's voided responses, latest meeting first, with who voided them and why."""
    return list(db.session.scalars(_VOIDED, {"case_id": case.id}))


def meeting_responses(meeting) -> dict[tuple, Response]:
    """The meeting's responses by (invitation id, instrument version id), voids loaded."""
    rows = db.session.scalars(select(Response).where(Response.meeting_id == meeting.id)
                              .options(selectinload(Response.void)))
    return {(r.invitation_id, r.instrument_version_id): r for r in rows}
