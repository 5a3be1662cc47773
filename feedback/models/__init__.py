"""Typed SQLAlchemy models; import from here."""

from feedback.models.audit import AuditEvent
from feedback.models.cases import (
    Case,
    CaseTag,
    Meeting,
    MeetingMode,
    MeetingType,
    Participant,
    ParticipantRole,
)
from feedback.models.consent import ConsentGiver, ParticipantConsent
from feedback.models.expected import ExpectedRange, ExpectedRangeBase
from feedback.models.imports import ImportBatch
from feedback.models.instruments import InstrumentVersion
from feedback.models.invitations import (
    Invitation,
    InvitationItem,
    InvitationToken,
    Subject,
    TokenKind,
)
from feedback.models.org import Organisation, Role, Team, TeamMembership, User
from feedback.models.responses import Answer, Response, ResponseVoid
from feedback.models.retention import RetentionGrant, Tombstone
from feedback.models.sessions import StaffSession
from feedback.models.throttle import ThrottleCount

__all__ = [
    "Answer", "AuditEvent", "Case", "CaseTag", "ConsentGiver", "ExpectedRange",
    "ExpectedRangeBase", "ImportBatch", "InstrumentVersion", "Invitation", "InvitationItem",
    "InvitationToken", "Meeting", "MeetingMode", "MeetingType", "Organisation", "Participant",
    "ParticipantConsent", "ParticipantRole", "Response", "ResponseVoid", "RetentionGrant", "Role",
    "StaffSession", "Subject", "Team", "TeamMembership", "ThrottleCount", "Tombstone",
    "TokenKind", "User",
]
