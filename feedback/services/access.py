"""Who may do what to which object: the one access policy (decision 30).

Everything else asks here: views through the guard in :mod:`feedback.sessions`,
services before they read or change a case, exports and reports for their
scope, and later the REST API.

* A caseworker works on the cases they are responsible for; with
  ``FEEDBACK_CASEWORKER_SCOPE = team`` also on every case of their teams
  (colleagues cover for each other), except transferring and closing.
* A team lead works on every case of their teams (and their own).
* An analyst exports and reads reports for all teams, and opens no case.
* An administrator administers (users, teams, packs, audit, retention) and
  opens no case.

Refusals are audited. An object refused is "not found" (404), so nobody learns
that it exists; an area refused is "forbidden" (403).
"""

from __future__ import annotations

import enum
import uuid

from flask import current_app
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from feedback.extensions import db
from feedback.models import Case, Meeting, Role, TeamMembership
from feedback.services import audit
from feedback.services.actors import Actor
from feedback.services.errors import Forbidden, NotFound


class Action(enum.StrEnum):
    """Everything the policy decides. Case actions need a case; the rest are areas."""

    list_cases = "cases.list"
    create_case = "case.create"
    view_case = "case.view"
    edit_case = "case.edit"
    transfer_case = "case.transfer"
    close_case = "case.close"
    view_meeting = "meeting.view"
    invite = "invitation.create"
    hand_over = "handover.start"
    void_response = "response.void"
    export = "export"
    report = "report"
    import_data = "import"
    admin = "admin"
    audit_log = "audit.read"
    #: A family's access export: what is stored about a case and who looked at it.
    access_export = "case.access_export"
    #: What retention will delete or anonymise, and when.
    retention = "retention"


#: Actions on one case: refused as "not found".
CASE_ACTIONS = frozenset({
    Action.view_case, Action.edit_case, Action.transfer_case, Action.close_case,
    Action.view_meeting, Action.invite, Action.hand_over, Action.void_response,
})
#: Case actions a caseworker may not take on a colleague's case even with team scope.
RESPONSIBLE_ONLY = frozenset({Action.transfer_case, Action.close_case})

#: Areas each role may enter.
AREAS: dict[Role, frozenset[Action]] = {
    Role.caseworker: frozenset({Action.list_cases, Action.create_case}),
    Role.team_lead: frozenset({Action.list_cases, Action.create_case, Action.export,
                               Action.report}),
    Role.analyst: frozenset({Action.export, Action.report}),
    Role.admin: frozenset({Action.admin, Action.audit_log, Action.import_data,
                           Action.access_export, Action.retention}),
}


def team_scope() -> bool:
    """Whether caseworkers see every case of their teams (the organisation's setting)."""
    return current_app.config.get("FEEDBACK_CASEWORKER_SCOPE", "own") == "team"


def _team_ids(user_id: uuid.UUID):
    return select(TeamMembership.team_id).where(TeamMembership.user_id == user_id)


def case_filter(actor: Actor, action: Action = Action.view_case) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Case` selecting the cases ``actor`` may ``action``."""
    if not actor.is_staff:
        return false()
    user = actor.user
    # An anonymised case is statistics only: nobody opens it as a case again.
    current = Case.anonymised_at.is_(None)
    if user.role == Role.team_lead:
        return current & or_(Case.responsible_id == user.id,
                             Case.team_id.in_(_team_ids(user.id)))
    if user.role == Role.caseworker:
        if team_scope() and action not in RESPONSIBLE_ONLY:
            return current & or_(Case.responsible_id == user.id,
                                 Case.team_id.in_(_team_ids(user.id)))
        return current & (Case.responsible_id == user.id)
    return false()


def data_filter(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Case` for pseudonymised exports and reports.

    Analysts see all teams (decision 18); a team lead sees their teams.
    """
    if not actor.is_staff:
        return false()
    if actor.user.role == Role.analyst:
        return true()
    if actor.user.role == Role.team_lead:
        return Case.team_id.in_(_team_ids(actor.user.id))
    return false()


def visible_cases(actor: Actor) -> Select:
    """The cases ``actor`` may list and open."""
    return select(Case).where(case_filter(actor))


def may_enter(actor: Actor, action: Action) -> bool:
    """Whether ``actor`` may use an area (a page or command that is not about one case)."""
    if not actor.is_staff:
        return False
    allowed = AREAS.get(actor.user.role, frozenset())
    if action == Action.import_data and actor.user.role == Role.analyst:
        return bool(current_app.config.get("FEEDBACK_ANALYST_IMPORT"))
    return action in allowed


def may(actor: Actor, action: Action, case: Case) -> bool:
    """Whether ``actor`` may take ``action`` on ``case``."""
    if action not in CASE_ACTIONS:
        raise ValueError(f"{action} is not a case action")
    if not actor.is_staff or case.anonymised_at is not None:
        return False
    user = actor.user
    if user.role == Role.team_lead:
        return case.responsible_id == user.id or case.team_id in user.team_ids
    if user.role == Role.caseworker:
        if case.responsible_id == user.id:
            return True
        return (team_scope() and action not in RESPONSIBLE_ONLY
                and case.team_id in user.team_ids)
    return False


def on_behalf(actor: Actor, case: Case) -> bool:
    """Whether ``actor`` acts on a case somebody else is responsible for."""
    return actor.user_id is not None and case.responsible_id != actor.user_id


def require_area(actor: Actor, action: Action) -> None:
    """Raise :class:`Forbidden` (audited) unless ``actor`` may enter the area."""
    if not may_enter(actor, action):
        audit.record_now(actor, str(action), outcome="refused", detail="area not permitted")
        raise Forbidden()


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def case_for(actor: Actor, action: Action, case_id, options=()) -> Case:
    """The case if ``actor`` may ``action`` it; else :class:`NotFound`, audited as refused.

    ``options``: loader options for what the caller will use of the case.
    """
    case_uuid = _uuid(case_id)
    case = None
    if case_uuid is not None:
        case = db.session.scalars(select(Case).where(Case.id == case_uuid,
                                                     case_filter(actor, action))
                                  .options(*options)).unique().one_or_none()
    if case is None:
        audit.record_now(actor, str(action), "case", case_uuid or str(case_id)[:64],
                         outcome="refused", detail="not found or not permitted")
        raise NotFound()
    return case


def check(actor: Actor, action: Action, case: Case, obj_type: str = "case", obj_id=None) -> None:
    """Raise :class:`NotFound` (audited) unless ``actor`` may ``action`` this loaded case."""
    if not may(actor, action, case):
        audit.record_now(actor, str(action), obj_type, obj_id or case.id, outcome="refused",
                         detail="not permitted")
        raise NotFound()


def meeting_for(actor: Actor, action: Action, meeting_id) -> Meeting:
    """The meeting if ``actor`` may ``action`` its case; else :class:`NotFound`, audited."""
    meeting_uuid = _uuid(meeting_id)
    meeting = None
    if meeting_uuid is not None:
        meeting = db.session.scalar(
            select(Meeting).join(Case, Case.id == Meeting.case_id)
            .where(Meeting.id == meeting_uuid, case_filter(actor, action)))
    if meeting is None:
        audit.record_now(actor, str(action), "meeting", meeting_uuid or str(meeting_id)[:64],
                         outcome="refused", detail="not found or not permitted")
        raise NotFound()
    return meeting
