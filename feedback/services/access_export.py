"""A family's access export: everything stored about one case, and every access to it.

For a request under the GDPR's right of access: the case's own data, its
people (by role), meetings, links, every answer with its date and who gave
it, and the audit log's events about the case (who looked, when). Made by an
administrator, looked up by the case reference the family's request names,
and audited itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from feedback import clock
from feedback.extensions import db
from feedback.models import Case, Invitation, Meeting, Response, User
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import NotFound


@dataclass
class AccessReport:
    """What one access export contains, ready for the page and for JSON."""

    made_at: datetime
    made_by: str
    case: dict[str, Any]
    participants: list[dict[str, Any]] = field(default_factory=list)
    meetings: list[dict[str, Any]] = field(default_factory=list)
    invitations: list[dict[str, Any]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    accesses: list[dict[str, Any]] = field(default_factory=list)


def _find(actor: Actor, reference: str) -> Case:
    case = db.session.scalar(select(Case).where(
        Case.organisation_id == actor.user.organisation_id, Case.reference == reference))
    if case is None:
        audit.record_now(actor, str(Action.access_export), "case", None, outcome="refused",
                         detail="no case with that reference")
        raise NotFound()
    return case


def _who(user: User | None) -> str | None:
    return f"{user.display_name} ({user.username})" if user is not None else None


def build(actor: Actor, reference: str) -> AccessReport:
    """The access export of the case with ``reference``; audited as ``case.access_export``."""
    from feedback.services.instruments import definition

    access.require_area(actor, Action.access_export)
    case = _find(actor, reference)
    people = {p.id: p for p in case.participants}
    report = AccessReport(
        made_at=clock.now(), made_by=_who(actor.user),
        case={"reference": case.reference, "team": case.team.name,
              "responsible": _who(case.responsible), "opened_on": case.opened_on,
              "closed_on": case.closed_on, "child_birth_year": case.child_birth_year,
              "child_birth_month": case.child_birth_month,
              "tags": [t.name for t in case.tags], "source": case.source,
              "source_id": case.source_id, "created_at": case.created_at})
    report.participants = [{"role": p.role.value, "label": p.label, "created_at": p.created_at}
                           for p in case.participants]
    meetings = list(db.session.scalars(select(Meeting).where(Meeting.case_id == case.id)
                                       .order_by(Meeting.held_on, Meeting.created_at)))
    report.meetings = [{"held_on": m.held_on, "type": m.type.value, "mode": m.mode.value,
                        "created_at": m.created_at} for m in meetings]
    held = {m.id: m.held_on for m in meetings}
    ids = list(held)
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.meeting_id.in_(ids))
        .options(selectinload(Invitation.items)).order_by(Invitation.created_at)) if ids else []
    for inv in invitations:
        p = people.get(inv.participant_id)
        report.invitations.append({
            "meeting": held[inv.meeting_id], "role": p.role.value if p else None,
            "label": p.label if p else None, "created_at": inv.created_at,
            "expires_at": inv.expires_at,
            "questionnaires": [{"instrument": i.instrument_version.key,
                                "used_at": i.used_at} for i in inv.items]})
    responses = db.session.scalars(
        select(Response).where(Response.meeting_id.in_(ids))
        .options(selectinload(Response.answers), selectinload(Response.void))
        .order_by(Response.submitted_at)) if ids else []
    staff = {}
    for r in responses:
        p = people.get(r.participant_id)
        if r.staff_user_id and r.staff_user_id not in staff:
            staff[r.staff_user_id] = db.session.get(User, r.staff_user_id)
        items = {i.key: i for i in definition(r.instrument_version).items}
        report.responses.append({
            "meeting": held[r.meeting_id], "submitted_at": r.submitted_at,
            "instrument": r.instrument_version.key, "version": r.instrument_version.version,
            "rated_by": ({"role": p.role.value, "label": p.label} if p else
                         {"staff": _who(staff.get(r.staff_user_id))}),
            "subject": r.subject.value, "total": r.total_tenths / 10
            if r.total_tenths is not None else None, "locale": r.locale,
            "voided": ({"at": r.void.voided_at, "reason": r.void.reason}
                       if r.void else None),
            "source": r.source, "source_id": r.source_id,
            "answers": [{"item": a.item_key, "value": a.value_tenths / 10
                         if a.value_tenths is not None else None,
                         "missing": a.missing_code,
                         "prompt": _prompt(items.get(a.item_key))}
                        for a in r.answers]})
    users = {}
    for e in audit.events_about(case):
        if e.actor_id and e.actor_id not in users:
            users[e.actor_id] = db.session.get(User, e.actor_id)
        report.accesses.append({
            "at": e.at, "who": _who(users.get(e.actor_id)) if e.actor_id else None,
            "actor_kind": e.actor_kind, "action": e.action, "object_type": e.object_type,
            "outcome": e.outcome, "detail": e.detail})
    audit.record_now(actor, str(Action.access_export), "case", case.id)
    return report


def _prompt(item) -> str | None:
    from feedback.labels import text

    return text(item.label or item.text) if item is not None else None


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def to_json(report: AccessReport) -> str:
    """The export as JSON (ISO dates and times in UTC)."""
    return json.dumps({
        "made_at": report.made_at, "made_by": report.made_by, "case": report.case,
        "participants": report.participants, "meetings": report.meetings,
        "invitations": report.invitations, "responses": report.responses,
        "accesses": report.accesses}, default=_plain, ensure_ascii=False, indent=2)
