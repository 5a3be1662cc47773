"""What has been answered at one meeting, by whom, for the live meeting page.

Read-only helpers for the results (two queries, whatever the number of
respondents), a cheap change stamp for polling, and the staff's own rating of
the child ruler (decision 12: a response by the staff user, with no invitation).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from feedback import clock
from feedback.extensions import db
from feedback.instruments.schema import Band, Instrument
from feedback.instruments.scoring import ItemAnswer, ValueRefused, band_for, parse_value
from feedback.models import (
    Answer,
    InstrumentVersion,
    Invitation,
    InvitationItem,
    Meeting,
    Participant,
    ParticipantRole,
    Response,
    ResponseVoid,
    Subject,
    User,
)
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from feedback.services.instruments import by_version_id, ensure_version, pick
from feedback.services.uow import begin_write

#: On a smiley questionnaire without its own threshold, answers of 1–3 are the low ones.
SMILEY_LOW_TENTHS = 30
#: The family the staff rate on the meeting page.
RULER = "ruler"
#: Participants who may give their rating on the caseworker's page (other professionals).
RATES_ON_PAGE = (ParticipantRole.professional,)


@dataclass(frozen=True)
class ItemResult:
    """One item's answer."""

    key: str
    label: dict[str, str]
    value_tenths: int | None
    missing_code: str | None
    #: Below the pack's threshold: worth asking about.
    low: bool


@dataclass(frozen=True)
class Result:
    """One answered questionnaire."""

    response_id: uuid.UUID
    pack: Instrument
    total_tenths: int | None
    items: tuple[ItemResult, ...]
    submitted_at: datetime
    band: Band | None = None

    @property
    def low_items(self) -> tuple[ItemResult, ...]:
        """The items below the pack's threshold."""
        return tuple(i for i in self.items if i.low)

    @property
    def concern(self) -> bool:
        """A total under the pack's concern threshold (the ruler's 5.5)."""
        below = self.pack.concern_below_tenths
        return below is not None and self.total_tenths is not None and self.total_tenths < below

    @property
    def per_item(self) -> bool:
        """Shown item by item (smiley questionnaires, packs without a total)."""
        return self.total_tenths is None or self.pack.family == "meeting-experience"


@dataclass
class Respondent:
    """One person at the meeting with what they have answered and what they still have."""

    key: str
    participant: Participant | None = None
    #: The staff member, for staff ratings.
    staff: User | None = None
    results: list[Result] = field(default_factory=list)
    waiting: list[Instrument] = field(default_factory=list)

    @property
    def done(self) -> bool:
        """Whether everything asked of them has been answered."""
        return not self.waiting


def _low(pack: Instrument, item, value: int | None) -> bool:
    if value is None:
        return False
    if pack.item_prompt_below_tenths is not None:
        return value < pack.item_prompt_below_tenths
    if pack.family == "meeting-experience" and item.response.kind == "smiley":
        return value <= SMILEY_LOW_TENTHS
    return False


def result_of(response: Response) -> Result:
    """A stored response as a result, with its items read through its frozen pack."""
    pack = by_version_id(response.instrument_version_id)
    answers = {a.item_key: a for a in response.answers}
    items = []
    for item in pack.items:
        a = answers.get(item.key)
        value = a.value_tenths if a else None
        items.append(ItemResult(item.key, item.label or item.text, value,
                                a.missing_code if a else "skipped", _low(pack, item, value)))
    return Result(response.id, pack, response.total_tenths, tuple(items),
                  response.submitted_at, band_for(pack, response.total_tenths))


def for_meeting(meeting: Meeting) -> list[Respondent]:
    """Everyone invited to or rating at the meeting, in the case's participant order.

    Voided responses are left out, as everywhere in graphs; staff ratings
    come last.
    """
    invitations = list(db.session.scalars(
        select(Invitation).where(Invitation.meeting_id == meeting.id)
        .options(selectinload(Invitation.items))))
    rows = list(db.session.scalars(
        select(Response).outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
        .where(Response.meeting_id == meeting.id, ResponseVoid.response_id.is_(None))
        .options(selectinload(Response.answers))
        .order_by(Response.submitted_at)))
    order = {p.id: n for n, p in enumerate(meeting.case.participants)}
    people: dict[str, Respondent] = {}
    for inv in invitations:
        who = people.setdefault(str(inv.participant_id),
                                Respondent(str(inv.participant_id), inv.participant))
        who.waiting.extend(by_version_id(item.instrument_version_id)
                           for item in inv.items if item.used_at is None)
    staff_ids = {r.staff_user_id for r in rows if r.participant_id is None}
    staff = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(staff_ids)))} \
        if staff_ids else {}
    for r in rows:
        if r.participant_id is not None:
            who = people.setdefault(str(r.participant_id),
                                    Respondent(str(r.participant_id), r.participant))
        else:
            who = people.setdefault(f"staff:{r.staff_user_id}",
                                    Respondent(f"staff:{r.staff_user_id}",
                                               staff=staff.get(r.staff_user_id)))
        who.results.append(result_of(r))
    return sorted(people.values(), key=lambda p: (
        p.participant is None, order.get(p.participant.id, 0) if p.participant else 0,
        p.staff.display_name if p.staff else ""))


def stamp(meeting: Meeting) -> str:
    """A short marker that changes whenever anything shown in the results changes.

    One aggregate query: answered questionnaires, voids, invitation items.
    """
    answered = select(func.count(Response.id), func.max(Response.submitted_at),
                      func.count(ResponseVoid.response_id)).outerjoin(
        ResponseVoid, ResponseVoid.response_id == Response.id).where(
        Response.meeting_id == meeting.id)
    items = select(func.count(), func.count(InvitationItem.used_at)).select_from(
        InvitationItem).join(Invitation).where(Invitation.meeting_id == meeting.id)
    a = db.session.execute(answered).one()
    b = db.session.execute(items).one()
    raw = f"{a[0]}|{a[1]}|{a[2]}|{b[0]}|{b[1]}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


# --- staff ratings of the child ruler ----------------------------------------------

def ruler_pack() -> Instrument | None:
    """The installed child ruler version staff rate with, if there is one."""
    return pick(RULER, "staff", None)


def raters(meeting: Meeting) -> list[Participant]:
    """The case's other professionals, who may give their rating on the caseworker's page."""
    return [p for p in meeting.case.participants if p.role in RATES_ON_PAGE]


def _rated(meeting: Meeting, participant_id, staff_user_id) -> bool:
    stmt = (select(func.count(Response.id))
            .select_from(Response)
            .outerjoin(ResponseVoid, ResponseVoid.response_id == Response.id)
            .where(Response.meeting_id == meeting.id, ResponseVoid.response_id.is_(None),
                   Response.instrument_version_id.in_(_ruler_versions())))
    if participant_id is not None:
        stmt = stmt.where(Response.participant_id == participant_id)
    else:
        stmt = stmt.where(Response.participant_id.is_(None),
                          Response.staff_user_id == staff_user_id)
    return bool(db.session.scalar(stmt))


def _ruler_versions():
    return select(InstrumentVersion.id).where(InstrumentVersion.family == RULER)


def rate_ruler(actor: Actor, meeting: Meeting, rater: str, raw_value: str,
               submission_id: str) -> Response:
    """Store a staff member's (``rater == "me"``) or a professional's rating of the child.

    One rating per person per meeting; the value is checked against the
    pack's scale like a respondent's; audited.
    """
    access.check(actor, Action.invite, meeting.case, "meeting", meeting.id)
    pack = ruler_pack()
    if pack is None:
        raise Invalid("unknown_instrument", field="value")
    try:
        sid = uuid.UUID(str(submission_id))
    except ValueError:
        raise Invalid("submission_id") from None
    participant = None
    if rater != "me":
        participant = next((p for p in raters(meeting) if str(p.id) == rater), None)
        if participant is None:
            raise Invalid("participant_not_in_case", field="rater")
    (item,) = pack.items
    try:
        answer: ItemAnswer = parse_value(raw_value or "", item.response)
    except ValueRefused:
        raise Invalid("ruler_value", field="value", min=item.response.min,
                      max=item.response.max) from None
    if answer.value_tenths is None:
        raise Invalid("ruler_value", field="value", min=item.response.min,
                      max=item.response.max)
    earlier = db.session.scalar(select(Response).where(Response.submission_id == sid))
    if earlier is not None and earlier.meeting_id == meeting.id:
        return earlier  # the same form sent twice
    begin_write()
    staff_id = None if participant else actor.user_id
    if _rated(meeting, participant.id if participant else None, staff_id):
        db.session.rollback()
        raise Invalid("ruler_already_rated", field="value")
    version = ensure_version(pack)
    response = Response(
        submission_id=sid, meeting_id=meeting.id,
        participant_id=participant.id if participant else None, staff_user_id=staff_id,
        invitation_id=None, instrument_version_id=version.id, subject=Subject.child,
        total_tenths=answer.value_tenths, submitted_at=clock.now(), locale="da")
    response.answers = [Answer(item_key=item.key, position=0, value_tenths=answer.value_tenths)]
    db.session.add(response)
    audit.record(actor, "response.submit", "response", response.id,
                 detail="staff rating" if participant is None
                 else "rating given on the caseworker's page")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Invalid("submission_id") from None
    return response


def get_meeting(actor: Actor, meeting_id) -> Meeting:
    """The meeting for a poll: access checked every time, refusals audited, reads not.

    The page view that started the polling was audited once
    (:func:`feedback.services.cases.get_meeting`); a poll every few seconds
    would otherwise flood the log with the same read.
    """
    return access.meeting_for(actor, Action.view_meeting, meeting_id)
