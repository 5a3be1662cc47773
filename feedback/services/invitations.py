"""Invitations to answer, their link tokens, and opening a link."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import select, update

from feedback.extensions import db
from feedback.models import (
    Case,
    Invitation,
    InvitationItem,
    InvitationToken,
    Meeting,
    Participant,
    ParticipantRole,
    Subject,
    TokenKind,
    User,
)
from feedback.models.types import utcnow
from feedback.services import audit, throttle
from feedback.services.cases import visible_cases
from feedback.services.errors import Invalid, LinkUnusable, Throttled
from feedback.services.instruments import current, ensure_version
from feedback.services.uow import begin_write

#: No easily confused characters (no I, L, O, 0, 1): 31 symbols, 8 of them ≈ 40 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
#: Failed code attempts from all addresses together, per 15 minutes: caps
#: distributed guessing of the short codes (about 40 bits each).
CODE_GLOBAL_LIMIT = 1000


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def hash_code(code: str) -> str:
    """HMAC with the server secret: a stolen table cannot be brute-forced offline."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"short-code:{code}".encode(), hashlib.sha256).hexdigest()


def normalise_code(typed: str) -> str:
    """What a person typed, as a code: upper case, without spaces and dashes."""
    return re.sub(r"[\s-]", "", typed or "").upper()[:32]


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class IssuedLink:
    invitation: Invitation
    token: str
    code: str


def _expiry(meeting: Meeting) -> datetime:
    hours = current_app.config["FEEDBACK_LINK_VALID_HOURS"]
    # From the end of the meeting day in UTC: generous by up to a day, never short.
    end_of_day = datetime.combine(meeting.held_on, time.max, tzinfo=utcnow().tzinfo)
    return end_of_day + timedelta(hours=hours)


def default_subject(participant: Participant) -> Subject:
    """Parents and others rate the child's well-being by default (decision 8)."""
    return Subject.self if participant.role == ParticipantRole.child else Subject.child


def invite(user: User, meeting: Meeting, participant: Participant, pack_ids: list[str],
           subject: Subject | str | None = None) -> IssuedLink:
    """Create an invitation for one respondent with an ordered bundle, and its first link."""
    if participant.case_id != meeting.case_id:
        raise Invalid("participant_not_in_case", field="participant")
    if not pack_ids:
        raise Invalid("instrument_required", field="instruments")
    if len(set(pack_ids)) != len(pack_ids):
        raise Invalid("instrument_twice", field="instruments")
    if _expiry(meeting) <= utcnow():
        # The link would be dead on arrival (decision 3): say so instead.
        raise Invalid("meeting_too_old", field="participants")
    instruments = [current(p) for p in pack_ids]
    order = {"before": 0, "during": 1, "after": 2}
    # "When it is given" orders the bundle (decision 5); a stable sort keeps the chosen order.
    instruments.sort(key=lambda i: order[i.timing])
    begin_write()
    invitation = Invitation(
        meeting_id=meeting.id, participant_id=participant.id,
        subject=Subject(subject) if subject else default_subject(participant),
        created_by_id=user.id, expires_at=_expiry(meeting),
    )
    db.session.add(invitation)
    for position, instrument in enumerate(instruments):
        version = ensure_version(instrument)
        db.session.add(InvitationItem(invitation=invitation, position=position,
                                      instrument_version_id=version.id))
    token, code = _new_tokens(invitation)
    db.session.flush()
    audit.record("invitation.create", "invitation", invitation.id)
    db.session.commit()
    return IssuedLink(invitation, token, code)


def reissue(user: User, invitation: Invitation) -> IssuedLink:
    """Show the QR code again: a new link and code; the earlier unopened ones are revoked."""
    begin_write()
    now = utcnow()
    db.session.execute(
        update(InvitationToken)
        .where(InvitationToken.invitation_id == invitation.id,
               InvitationToken.revoked_at.is_(None), InvitationToken.opened_at.is_(None))
        .values(revoked_at=now)
    )
    token, code = _new_tokens(invitation)
    audit.record("invitation.reissue", "invitation", invitation.id)
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
    return list(db.session.scalars(
        select(Invitation).where(Invitation.meeting_id == meeting.id)
        .order_by(Invitation.created_at)
    ))


def open_link(token: str, address: str | None) -> InvitationToken:
    """Exchange a link token for the token row the respondent cookie will carry.

    Unknown, revoked, expired and used-up links all raise the same
    :class:`LinkUnusable`, so a guesser learns nothing; repeated failures from
    one address raise :class:`Throttled`.
    """
    ok = bool(token) and len(token) <= 100
    return _open(hash_token(token) if ok else None, TokenKind.link, address, [])


def open_code(typed: str, address: str | None) -> InvitationToken:
    """Like :func:`open_link`, for the 8-character code typed instead of scanning."""
    code = normalise_code(typed)
    ok = len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)
    if throttle.blocked("code-all", CODE_GLOBAL_LIMIT):
        raise Throttled()
    return _open(hash_code(code) if ok else None, TokenKind.code, address, ["code-all"])


def _open(digest: str | None, kind: TokenKind, address: str | None,
          extra_keys: list[str]) -> InvitationToken:
    address_key = f"link-addr:{address or 'unknown'}"
    if throttle.blocked(address_key, current_app.config["FEEDBACK_LINK_THROTTLE"]):
        audit.record_now("link.open", outcome="refused", actor_kind="respondent",
                         detail="throttled")
        raise Throttled()
    row = None
    if digest is not None:
        row = db.session.scalar(select(InvitationToken).where(
            InvitationToken.token_hash == digest, InvitationToken.kind == kind))
    if row is None or not _usable(row, grace=False):
        throttle.record_failure(address_key, *extra_keys)
        audit.record_now("link.open", "invitation_token", row.id if row else None,
                         outcome="refused", actor_kind="respondent")
        raise LinkUnusable()
    if row.opened_at is None:
        begin_write()
        row.opened_at = utcnow()
        audit.record("link.open", "invitation", row.invitation_id, actor_kind="respondent")
        db.session.commit()
    return row


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
    if utcnow() > limit:
        return False
    return allow_complete or not row.invitation.complete


def get_invitation(user: User, invitation_id: uuid.UUID | str) -> Invitation | None:
    """The invitation if its case is visible to ``user``."""
    try:
        inv_uuid = uuid.UUID(str(invitation_id))
    except ValueError:
        return None
    return db.session.scalar(
        select(Invitation).join(Meeting, Meeting.id == Invitation.meeting_id)
        .where(Invitation.id == inv_uuid,
               Meeting.case_id.in_(visible_cases(user).with_only_columns(Case.id)))
    )
