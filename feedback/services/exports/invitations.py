"""Invitations as their own file: one row per questionnaire in an invitation's bundle.

So response rates can be computed outside the service: when each was issued,
first opened, answered and when it expires, with the same pseudonyms as the
answers (decision 15). ``status`` is ``answered``, ``expired`` or ``pending``
at the time of the export (written in the codebook).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import Select, and_, func, select

from feedback.models import (
    Case,
    InstrumentVersion,
    Invitation,
    InvitationItem,
    InvitationToken,
    Meeting,
    Participant,
    Response,
    Team,
)
from feedback.services import access
from feedback.services.actors import Actor
from feedback.services.exports.dialects import safe_text
from feedback.services.exports.filters import DataFilters, counted_responses
from feedback.services.exports.pseudonyms import Pseudonyms
from feedback.services.exports.rows import iso_date, parse_timestamp, raw, timestamp

INVITATION_COLUMNS = (
    "invitation_id", "case_id", "respondent_id", "respondent_role", "subject", "team",
    "case_status", "meeting_id", "meeting_date", "meeting_type", "instrument",
    "instrument_version", "family", "position", "issued_at", "opened_at", "answered_at",
    "expires_at", "status", "response_id",
)


def invitations_query(actor: Actor, filters: DataFilters) -> Select:
    """Every questionnaire of every invitation ``actor`` may export under ``filters``."""
    opened = (select(InvitationToken.invitation_id,
                     func.min(InvitationToken.opened_at).label("opened_at"))
              .group_by(InvitationToken.invitation_id).subquery())
    answered = (select(Response.id, Response.invitation_id, Response.instrument_version_id)
                .where(Response.invitation_id.is_not(None), counted_responses()).subquery())
    return (
        select(
            raw(Invitation.id, "invitation_id"), raw(Case.id, "case_id"),
            raw(Invitation.participant_id), raw(Participant.role), raw(Invitation.subject),
            Team.name, raw(Case.closed_on), raw(Meeting.id, "meeting_id"),
            raw(Meeting.held_on), raw(Meeting.type, "meeting_type"), InstrumentVersion.key,
            InstrumentVersion.version, InstrumentVersion.family, InvitationItem.position,
            raw(Invitation.created_at), raw(opened.c.opened_at, "opened_at"),
            raw(InvitationItem.used_at), raw(Invitation.expires_at),
            raw(answered.c.id, "response_id"),
        )
        .select_from(InvitationItem)
        .join(Invitation, Invitation.id == InvitationItem.invitation_id)
        .join(Meeting, Meeting.id == Invitation.meeting_id)
        .join(Case, Case.id == Meeting.case_id)
        .join(Team, Team.id == Case.team_id)
        .join(InstrumentVersion, InstrumentVersion.id == InvitationItem.instrument_version_id)
        .join(Participant, Participant.id == Invitation.participant_id)
        .outerjoin(opened, opened.c.invitation_id == Invitation.id)
        .outerjoin(answered, and_(
            answered.c.invitation_id == InvitationItem.invitation_id,
            answered.c.instrument_version_id == InvitationItem.instrument_version_id))
        .where(access.data_filter(actor), *filters.conditions())
        .order_by(Invitation.created_at, Invitation.id, InvitationItem.position)
    )


def count_query(actor: Actor, filters: DataFilters) -> Select:
    """How many rows the invitations file will have."""
    return select(func.count()).select_from(invitations_query(actor, filters).subquery())


def invitation_rows(result: Iterable, pseudonyms: Pseudonyms, now: datetime) -> Iterator[tuple]:
    """Formatted rows of the invitations file; ``now`` (naive UTC) decides what expired."""
    pid = pseudonyms
    for (invitation, case, participant, role, subject, team, closed, meeting, held, mtype,
         key, version, family, position, issued, opened, used, expires, response) in result:
        if used is not None:
            status = "answered"
        elif parse_timestamp(expires) < now:
            status = "expired"
        else:
            status = "pending"
        yield (
            pid(invitation), pid(case), pid(participant), role, subject, safe_text(team),
            "open" if closed is None else "closed", pid(meeting), iso_date(held), mtype, key,
            version, family, position + 1, timestamp(issued), timestamp(opened),
            timestamp(used), timestamp(expires), status, pid(response),
        )
