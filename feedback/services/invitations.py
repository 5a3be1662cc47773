"""Invitations to answer, their link tokens, and opening a link."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from feedback import clock
from feedback.extensions import db
from feedback.models import (
    Invitation,
    InvitationItem,
    InvitationToken,
    Meeting,
    Participant,
    ParticipantRole,
    Subject,
    TokenKind,
)
from feedback.services import access, audit, cases, consent, throttle
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid, LinkUnusable, NotFound, Throttled
from feedback.services.instruments import bundle_for, current, ensure_version
from feedback.services.uow import begin_write

#: No easily confused characters (no I, L, O, 0, 1): 31 symbols, 8 of them ≈ 40 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
#: Failed code attempts from all addresses together, per 15 minutes: caps
#: distributed guessing of the short codes (about 40 bits each).
CODE_GLOBAL_LIMIT = 1000


def hash_token(token: str) -> str:
    """SHA-256 of a link token: 128 random bits need no key."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_code(code: str) -> str:
    """HMAC with the server secret: a stolen table cannot be brute-forced offline."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"short-code:{code}".encode(), hashlib.sha256).hexdigest()


def normalise_code(typed: str) -> str:
    """What a person typed, as a code: upper case, without spaces and dashes."""
    return re.sub(r"[\s-]", "", typed or "").upper()[:32]


def format_code(code: str) -> str:
    """A code as shown to people: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class IssuedLink:
    """A new link and code for an invitation; the only time they exist in clear."""

    invitation: Invitation
    token: str
    code: str


def expiry(meeting: Meeting) -> datetime:
    """When links for ``meeting`` stop working: hours after the end of the local meeting day."""
    hours = current_app.config["FEEDBACK_LINK_VALID_HOURS"]
    return clock.end_of_day(meeting.held_on) + timedelta(hours=hours)


def answering_open(meeting: Meeting) -> bool:
    """Whether links issued now for ``meeting`` would still work."""
    return expiry(meeting) > clock.now()


def default_subject(participant: Participant) -> Subject:
    """Parents and others rate the child's well-being by default (decision 8)."""
    return Subject.self if participant.role == ParticipantRole.child else Subject.child


def refusal(meeting: Meeting) -> str | None:
    """Why no links can be issued for ``meeting`` now, as an error code; ``None`` if they can.

    A closed case takes no questionnaires until it is reopened; a meeting whose
    answering window has passed, or that lies outside the case's life, gets no
    link that would be dead on arrival (decision 3).
    """
    case = meeting.case
    if not case.is_open:
        return "case_closed"
    first, last = cases.meeting_window(case, clock.today())
    if not first <= meeting.held_on <= last:
        return "meeting_outside_case"
    if not answering_open(meeting):
        return "meeting_too_old"
    return None


def _require_open(meeting: Meeting) -> None:
    reason = refusal(meeting)
    if reason is not None:
        raise Invalid(reason, field="participants")


def invitation_of(meeting: Meeting, participant: Participant) -> Invitation | None:
    """The person's invitation to the meeting, if they have one (there is at most one)."""
    return db.session.scalar(select(Invitation).where(
        Invitation.meeting_id == meeting.id, Invitation.participant_id == participant.id))


def _new_packs(invitation: Invitation | None, pack_ids: list[str]) -> list[str]:
    """The packs of ``pack_ids`` the invitation does not hold yet (in any version)."""
    if invitation is None:
        return list(pack_ids)
    have = {item.instrument_version.key for item in invitation.items}
    return [p for p in pack_ids if p not in have]


def invite(actor: Actor, meeting: Meeting, participant: Participant, pack_ids: list[str],
           subject: Subject | str | None = None, *, _retry: bool = True) -> IssuedLink:
    """Invite one respondent with an ordered bundle, and issue a link and code.

    A person has at most one invitation per meeting (decision 44): inviting
    somebody already invited appends the questionnaires they do not have yet
    to their bundle, and the links they hold keep working.
    """
    access.check(actor, Action.invite, meeting.case, "meeting", meeting.id)
    if participant.case_id != meeting.case_id:
        raise Invalid("participant_not_in_case", field="participant")
    if not consent.may_collect(participant):
        raise Invalid("consent_no_collect", field="participants", participant=participant)
    if not pack_ids:
        raise Invalid("instrument_required", field="instruments")
    if len(set(pack_ids)) != len(pack_ids):
        raise Invalid("instrument_twice", field="instruments")
    _require_open(meeting)
    instruments = [current(p) for p in pack_ids]
    order = {"before": 0, "during": 1, "after": 2}
    # "When it is given" orders the bundle (decision 5); a stable sort keeps the chosen order.
    instruments.sort(key=lambda i: order[i.timing])
    begin_write()
    invitation = invitation_of(meeting, participant)
    adding = [i for i in instruments if i.id in _new_packs(invitation, pack_ids)]
    if not adding:
        db.session.rollback()
        raise Invalid("already_invited", field="participants", participant=participant)
    action = "invitation.extend"
    if invitation is None:
        action = "invitation.create"
        invitation = Invitation(
            meeting_id=meeting.id, participant_id=participant.id,
            subject=Subject(subject) if subject else default_subject(participant),
            created_by_id=actor.user_id, expires_at=expiry(meeting),
        )
        db.session.add(invitation)
    # Appended after what is there: answered questionnaires keep their places.
    start = max((item.position for item in invitation.items), default=-1) + 1
    for position, instrument in enumerate(adding, start):
        version = ensure_version(instrument)
        db.session.add(InvitationItem(invitation=invitation, position=position,
                                      instrument_version_id=version.id))
    token, code = _new_tokens(invitation)
    try:
        db.session.flush()
    except IntegrityError:
        # Somebody invited the same person at the same moment: extend theirs instead.
        db.session.rollback()
        if not _retry:
            raise
        return invite(actor, meeting, participant, pack_ids, subject, _retry=False)
    audit.record(actor, action, "invitation", invitation.id, detail=_behalf(actor, meeting))
    db.session.commit()
    db.session.expire(invitation, ["items"])
    return IssuedLink(invitation, token, code)


def _behalf(actor: Actor, meeting: Meeting) -> str | None:
    return "not the responsible caseworker" if access.on_behalf(actor, meeting.case) else None


def _participants(meeting: Meeting, participant_ids: list[str]) -> list[Participant]:
    by_id = {str(p.id): p for p in meeting.case.participants}
    chosen = [by_id.get(str(pid)) for pid in participant_ids]
    if not chosen or None in chosen:
        raise Invalid("participant_not_in_case", field="participants")
    return chosen


def _bundles(meeting: Meeting, participant_ids: list[str],
             choices: list[str]) -> list[tuple[Participant, list[str]]]:
    bundles = []
    for participant in _participants(meeting, participant_ids):
        packs = bundle_for(participant, meeting, choices)
        if not packs:
            raise Invalid("nothing_fits", field="participants", participant=participant)
        bundles.append((participant, packs))
    return bundles


def _subject_for(participant: Participant, subject: str | None) -> str | None:
    """What the caseworker chose for the adults; a child always rates themself."""
    return None if participant.role == ParticipantRole.child else subject


def invite_many(actor: Actor, meeting: Meeting, participant_ids: list[str],
                choices: list[str], subject: str | None = None) -> list[IssuedLink]:
    """Invite each chosen person with the versions of the ticked packs that fit them.

    Nothing is issued unless every person gets at least one questionnaire they
    do not already have at this meeting. ``subject`` is what the adults rate
    (``child``, the default, or ``self``); a child always rates themself.
    """
    access.check(actor, Action.invite, meeting.case, "meeting", meeting.id)
    _require_open(meeting)
    bundles = _bundles(meeting, participant_ids, choices)
    for participant, packs in bundles:
        if not _new_packs(invitation_of(meeting, participant), packs):
            raise Invalid("already_invited", field="participants", participant=participant)
    return [invite(actor, meeting, participant, packs, _subject_for(participant, subject))
            for participant, packs in bundles]


def hand_over(actor: Actor, meeting: Meeting, participant_ids: list[str],
              choices: list[str], subject: str | None = None) -> InvitationToken:
    """Open one person's questionnaires on the caseworker's own tablet.

    Someone already invited keeps their invitation: new questionnaires are
    appended, and with nothing new their unanswered ones are opened. Returns
    the opened token the respondent cookie will carry.
    """
    access.check(actor, Action.hand_over, meeting.case, "meeting", meeting.id)
    _require_open(meeting)
    if len(participant_ids) != 1:
        raise Invalid("handover_one", field="participants")
    [(participant, packs)] = _bundles(meeting, participant_ids, choices)
    invitation = invitation_of(meeting, participant)
    if _new_packs(invitation, packs):
        invitation = invite(actor, meeting, participant, packs,
                            _subject_for(participant, subject)).invitation
    return continue_here(actor, invitation)


def continue_here(actor: Actor, invitation: Invitation) -> InvitationToken:
    """Open an invitation's unanswered questionnaires on this tablet ("continue on this tablet").

    A new link token, already opened, for the respondent cookie; the person's
    other links keep working.
    """
    meeting = invitation.meeting
    access.check(actor, Action.hand_over, meeting.case, "invitation", invitation.id)
    _require_open(meeting)
    if invitation.complete:
        raise Invalid("already_answered", field="participants",
                      participant=invitation.participant)
    begin_write()
    row = InvitationToken(invitation=invitation, kind=TokenKind.link,
                          token_hash=hash_token(secrets.token_urlsafe(16)),
                          opened_at=clock.now())
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "handover.start", "invitation", invitation.id,
                 detail=_behalf(actor, meeting))
    db.session.commit()
    return row


def reissue(actor: Actor, invitation: Invitation) -> IssuedLink:
    """Show the QR code again: a new link and code; the earlier unopened ones are revoked."""
    access.check(actor, Action.invite, invitation.meeting.case, "invitation", invitation.id)
    _require_open(invitation.meeting)
    begin_write()
    now = clock.now()
    db.session.execute(
        update(InvitationToken)
        .where(InvitationToken.invitation_id == invitation.id,
               InvitationToken.revoked_at.is_(None), InvitationToken.opened_at.is_(None))
        .values(revoked_at=now)
    )
    token, code = _new_tokens(invitation)
    audit.record(actor, "invitation.reissue", "invitation", invitation.id)
    db.session.commit()
    return IssuedLink(invitation, token, code)


def _new_tokens(invitation: Invitation) -> tuple[str, str]:
    token = secrets.token_urlsafe(16)  # 128 bits
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.session.add(InvitationToken(invitation=invitation, kind=TokenKind.link,
                                   token_hash=hash_token(token)))
    db.session.add(InvitationToken(invitation=invitation, kind=TokenKind.code,
                                   token_hash=hash_code(code)))
    return token, code


def meeting_invitations(meeting: Meeting) -> list[Invitation]:
    """The meeting's invitations, oldest first."""
    return list(db.session.scalars(
        select(Invitation).where(Invitation.meeting_id == meeting.id)
        .order_by(Invitation.created_at)
    ))


def open_link(token: str, actor: Actor) -> InvitationToken:
    """Exchange a link token for the token row the respondent cookie will carry.

    Unknown, revoked, expired and used-up links all raise the same
    :class:`LinkUnusable`, so a guesser learns nothing; repeated failures from
    one address raise :class:`Throttled`.
    """
    ok = bool(token) and len(token) <= 100
    return _open(hash_token(token) if ok else None, TokenKind.link, actor, [])


def open_code(typed: str, actor: Actor) -> InvitationToken:
    """Like :func:`open_link`, for the 8-character code typed instead of scanning."""
    code = normalise_code(typed)
    ok = len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)
    if throttle.blocked("code-all", CODE_GLOBAL_LIMIT):
        raise Throttled()
    return _open(hash_code(code) if ok else None, TokenKind.code, actor, ["code-all"])


def _open(digest: str | None, kind: TokenKind, actor: Actor,
          extra_keys: list[str]) -> InvitationToken:
    address_key = f"link-addr:{actor.address or 'unknown'}"
    if throttle.blocked(address_key, current_app.config["FEEDBACK_LINK_THROTTLE"]):
        audit.record_now(actor, "link.open", outcome="refused", detail="throttled")
        raise Throttled()
    row = None
    if digest is not None:
        row = db.session.scalar(select(InvitationToken).where(
            InvitationToken.token_hash == digest, InvitationToken.kind == kind))
    if row is None:
        # Only what matches nothing counts towards the limit (decision 33): reopening
        # a genuine link that was used, cancelled or expired is no guessing.
        throttle.record_failure(address_key, *extra_keys)
        audit.record_now(actor, "link.open", outcome="refused", detail="unknown")
        raise LinkUnusable()
    if not _usable(row, grace=False):
        audit.record_now(actor, "link.open", "invitation_token", row.id, outcome="refused",
                         detail="used, cancelled or expired")
        raise LinkUnusable()
    if row.opened_at is None:
        begin_write()
        row.opened_at = clock.now()
        audit.record(actor, "link.open", "invitation", row.invitation_id)
        db.session.commit()
    return row


@dataclass(frozen=True)
class BundleItem:
    """One questionnaire of a respondent's bundle, as the respondent pages need it."""

    position: int
    instrument_version_id: uuid.UUID
    used_at: datetime | None


@dataclass(frozen=True)
class RespondentLink:
    """What a respondent cookie's token opens, read in one query (no ORM objects).

    The respondent pages need nothing else: submitting a questionnaire reads
    this before its write transaction begins and never reloads it.
    """

    id: uuid.UUID  # the token's id
    invitation_id: uuid.UUID
    meeting_id: uuid.UUID
    participant_id: uuid.UUID
    #: The participant's role: with the subject it picks the wording they read.
    role: ParticipantRole
    subject: Subject
    expires_at: datetime
    items: tuple[BundleItem, ...]

    @property
    def complete(self) -> bool:
        """Whether every questionnaire in the bundle has been answered."""
        return all(item.used_at is not None for item in self.items)


def _link_query():
    tokens, invs, items, people = (InvitationToken.__table__, Invitation.__table__,
                                   InvitationItem.__table__, Participant.__table__)
    return (select(tokens.c.revoked_at, invs.c.id, invs.c.meeting_id, invs.c.participant_id,
                   people.c.role, invs.c.subject, invs.c.expires_at, items.c.position,
                   items.c.instrument_version_id, items.c.used_at)
            .select_from(tokens.join(invs, invs.c.id == tokens.c.invitation_id)
                         .join(people, people.c.id == invs.c.participant_id)
                         .outerjoin(items, items.c.invitation_id == invs.c.id))
            .where(tokens.c.id == bindparam("token_id", type_=tokens.c.id.type))
            .order_by(items.c.position))


#: Built once: the statement's compiled form is cached by SQLAlchemy.
_LINK_QUERY = _link_query()


def respondent_link(token_id: uuid.UUID | str, *, grace: bool) -> RespondentLink:
    """The bundle behind a respondent cookie, if its token still opens it; one statement.

    The same judgement as :func:`respondent_token` (revoked, expired past the
    grace, a complete bundle still opens its thank-you page).
    """
    try:
        tid = uuid.UUID(str(token_id))
    except ValueError:
        raise LinkUnusable() from None
    # On the session's connection, not through the ORM: plain rows, less work per request.
    rows = db.session.connection().execute(_LINK_QUERY, {"token_id": tid}).all()
    if not rows or rows[0].revoked_at is not None:
        raise LinkUnusable()
    first = rows[0]
    limit = first.expires_at
    if grace:
        limit += timedelta(minutes=current_app.config["FEEDBACK_LINK_GRACE_MINUTES"])
    if clock.now() > limit:
        raise LinkUnusable()
    return RespondentLink(
        id=tid, invitation_id=first.id, meeting_id=first.meeting_id,
        participant_id=first.participant_id, role=first.role, subject=first.subject,
        expires_at=first.expires_at,
        items=tuple(BundleItem(r.position, r.instrument_version_id, r.used_at)
                    for r in rows if r.position is not None))


def link_of(token: InvitationToken) -> RespondentLink:
    """The same view of an ORM token (for callers that hold one)."""
    inv = token.invitation
    return RespondentLink(
        id=token.id, invitation_id=inv.id, meeting_id=inv.meeting_id,
        participant_id=inv.participant_id, role=inv.participant.role, subject=inv.subject,
        expires_at=inv.expires_at,
        items=tuple(BundleItem(i.position, i.instrument_version_id, i.used_at)
                    for i in inv.items))


def respondent_token(token_id: uuid.UUID | str, *, grace: bool) -> InvitationToken:
    """The token behind a respondent cookie, if it still opens its invitation."""
    try:
        row = db.session.get(InvitationToken, uuid.UUID(str(token_id)))
    except ValueError:
        row = None
    if row is None or not _usable(row, grace=grace, allow_complete=True):
        raise LinkUnusable()
    return row


def _usable(row: InvitationToken, *, grace: bool, allow_complete: bool = False) -> bool:
    if row.revoked_at is not None:
        return False
    limit = row.invitation.expires_at
    if grace:
        limit += timedelta(minutes=current_app.config["FEEDBACK_LINK_GRACE_MINUTES"])
    if clock.now() > limit:
        return False
    return allow_complete or not row.invitation.complete


def get_invitation(actor: Actor, invitation_id: uuid.UUID | str) -> Invitation:
    """The invitation if ``actor`` may invite in its case; else :class:`NotFound`, audited."""
    try:
        inv_uuid = uuid.UUID(str(invitation_id))
    except ValueError:
        inv_uuid = None
    invitation = inv_uuid and db.session.get(Invitation, inv_uuid)
    if not invitation or not access.may(actor, Action.invite, invitation.meeting.case):
        audit.record_now(actor, "invitation.create", "invitation", inv_uuid,
                         outcome="refused", detail="not found or not permitted")
        raise NotFound()
    return invitation
