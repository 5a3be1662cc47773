"""The append-only audit log: writing events, and reading them back for administrators.

Every read of case data, every export, sign-in and sign-out, refusal and
administrative change is one row (who, when, what, whether refused and why).
A database trigger refuses UPDATE and DELETE, except the two changes the
retention command makes (see :mod:`feedback.services.retention`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, insert, or_, select

from feedback import clock
from feedback.extensions import db
from feedback.models import (
    AuditEvent,
    Case,
    Invitation,
    InvitationToken,
    Meeting,
    Participant,
    Response,
    User,
)
from feedback.services.actors import Actor, ActorKind
from feedback.services.uow import begin_write

#: Rows on one page of the log.
PAGE_SIZE = 50


def _actor_ref(actor: Actor) -> str | None:
    if actor.kind == ActorKind.respondent and actor.invitation_id is not None:
        return str(actor.invitation_id)
    if actor.kind == ActorKind.system:
        return actor.name
    return None


def values(actor: Actor, action: str, obj_type: str | None = None, obj_id=None, *,
           outcome: str = "ok", detail: str | None = None) -> dict:
    """The columns of one audit event (``at`` is stamped when it is inserted)."""
    return {
        "actor_id": actor.user_id,
        "actor_kind": actor.kind.value,
        "actor_ref": _actor_ref(actor),
        "action": action,
        "object_type": obj_type,
        "object_id": None if obj_id is None else str(obj_id),
        "outcome": outcome,
        "detail": detail[:500] if detail else None,
        "remote_addr": actor.address[:64] if actor.address else None,
    }


def record(actor: Actor, action: str, obj_type: str | None = None, obj_id=None, *,
           outcome: str = "ok", detail: str | None = None) -> None:
    """Add an audit event to the current unit of work (committed with it)."""
    db.session.add(AuditEvent(**values(actor, action, obj_type, obj_id, outcome=outcome,
                                       detail=detail)))


#: One prepared insert for callers that write without ORM objects.
INSERT = insert(AuditEvent.__table__)


def record_now(actor: Actor, action: str, obj_type: str | None = None, obj_id=None,
               **kwargs) -> None:
    """Record and commit at once: for reads and refusals that write nothing else."""
    begin_write()
    record(actor, action, obj_type, obj_id, **kwargs)
    db.session.commit()


def record_read(actor: Actor, action: str, obj_type: str | None = None, obj_id=None,
                **kwargs) -> None:
    """Record a read and commit at once, keeping what this request has loaded.

    Committed before any of the data is sent, as :func:`record_now`. When the
    session holds no changes, the commit writes nothing but the audit row, so
    the objects the request read (the user, the case it checked access to) are
    kept as read rather than expired and read again: the page shows what the
    access check saw. Any later write begins with :func:`begin_write`, whose
    commit expires them as before. The row is inserted without an ORM object,
    and on PostgreSQL in the transaction that read (one round trip less).
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        record_now(actor, action, obj_type, obj_id, **kwargs)
        return
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        begin_write(keep_reads=True)
        session.execute(INSERT, values(actor, action, obj_type, obj_id, **kwargs))
        session.commit()
    finally:
        session.expire_on_commit = expire


# --- reading the log ----------------------------------------------------------------

@dataclass(frozen=True)
class LogFilter:
    """What the administrator narrowed the log to; every part is optional."""

    #: A staff member's id, or an actor kind (``respondent``, ``system``, ``anonymous``).
    who: str | None = None
    #: A case reference: events about the case, its meetings, people, links and answers.
    case_reference: str | None = None
    #: One action, such as ``case.view``.
    action: str | None = None
    #: First and last local day of the period, both included.
    date_from: date | None = None
    date_to: date | None = None
    refused_only: bool = False

    def as_text(self) -> str:
        """The filter in words for the audit row of reading the log (no case data)."""
        parts = [f"{name}={value}" for name, value in (
            ("who", self.who), ("case", self.case_reference), ("action", self.action),
            ("from", self.date_from), ("to", self.date_to),
            ("refused", self.refused_only or None)) if value]
        return " ".join(parts) or "all"


def case_object_ids(case: Case) -> list[str]:
    """The ids (as the log stores them) of a case and of everything in it.

    Meetings, people, answers, invitations and their link tokens.
    """
    meeting_ids = list(db.session.scalars(select(Meeting.id).where(Meeting.case_id == case.id)))
    ids: list[uuid.UUID] = [case.id, *meeting_ids]
    ids += db.session.scalars(select(Participant.id).where(Participant.case_id == case.id))
    if meeting_ids:
        ids += db.session.scalars(select(Response.id).where(Response.meeting_id.in_(meeting_ids)))
        invitation_ids = list(db.session.scalars(
            select(Invitation.id).where(Invitation.meeting_id.in_(meeting_ids))))
        ids += invitation_ids
        if invitation_ids:
            ids += db.session.scalars(select(InvitationToken.id).where(
                InvitationToken.invitation_id.in_(invitation_ids)))
    return [str(i) for i in ids]


def _start_of(day: date) -> datetime:
    return clock.end_of_day(day - timedelta(days=1))


def _query(actor: Actor, flt: LogFilter) -> Select | None:
    """The filtered log, newest first; ``None`` when the filter matches nothing at all."""
    query = select(AuditEvent)
    if flt.who:
        if flt.who in {k.value for k in ActorKind if k != ActorKind.staff}:
            query = query.where(AuditEvent.actor_kind == flt.who)
        else:
            try:
                query = query.where(AuditEvent.actor_id == uuid.UUID(flt.who))
            except ValueError:
                return None
    if flt.case_reference:
        case = db.session.scalar(select(Case).where(
            Case.organisation_id == actor.user.organisation_id,
            Case.reference == flt.case_reference.strip()))
        if case is None:
            return None
        ids = case_object_ids(case)
        query = query.where(AuditEvent.object_id.in_(ids)
                            | (AuditEvent.actor_ref.in_(ids)
                               & (AuditEvent.actor_kind == ActorKind.respondent.value)))
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.date_from:
        query = query.where(AuditEvent.at >= _start_of(flt.date_from))
    if flt.date_to:
        query = query.where(AuditEvent.at < clock.end_of_day(flt.date_to))
    if flt.refused_only:
        query = query.where(AuditEvent.outcome == "refused")
    return query


@dataclass(frozen=True)
class LogPage:
    """One page of the log with what the page needs to link to its neighbours."""

    events: list[AuditEvent]
    users: dict[uuid.UUID, User]
    page: int
    total: int
    #: Case references by the id the log stores, for rows about a case that still exists.
    references: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the filtered log has (at least one)."""
        return max(1, -(-self.total // PAGE_SIZE))


def _users(events) -> dict[uuid.UUID, User]:
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def _references(events) -> dict[str, str]:
    ids = set()
    for e in events:
        if e.object_type == "case" and e.object_id:
            try:
                ids.add(uuid.UUID(e.object_id))
            except ValueError:
                continue
    if not ids:
        return {}
    return {str(i): ref for i, ref in db.session.execute(
        select(Case.id, Case.reference).where(Case.id.in_(ids)))}


def read_log(actor: Actor, flt: LogFilter, page: int = 1) -> LogPage:
    """One page of the filtered log, newest first; reading it is audited itself."""
    from feedback.services import access

    access.require_area(actor, access.Action.audit_log)
    query = _query(actor, flt)
    page = max(1, page)
    if query is None:
        events, total = [], 0
    else:
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        events = list(db.session.scalars(query.order_by(AuditEvent.id.desc())
                                          .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    record_now(actor, "audit.read", detail=f"page {page}: {flt.as_text()}")
    return LogPage(events, _users(events), page, total, _references(events))


def actions() -> list[str]:
    """Every action that occurs in the log, for the filter's list."""
    return list(db.session.scalars(select(AuditEvent.action).distinct()
                                   .order_by(AuditEvent.action)))


def staff_choices(actor: Actor) -> list[User]:
    """The organisation's staff, for the filter's list of who."""
    return list(db.session.scalars(select(User).where(
        User.organisation_id == actor.user.organisation_id).order_by(User.username)))


#: Columns of the log's CSV export.
CSV_COLUMNS = ("id", "at", "actor_kind", "actor", "actor_ref", "action", "object_type",
               "object_id", "outcome", "detail", "remote_addr")


def export_rows(actor: Actor, flt: LogFilter) -> Iterator[list[str]]:
    """The filtered log as CSV rows (oldest first), streamed; the export is audited first."""
    from feedback.services import access
    from feedback.services.exports.dialects import safe_text

    access.require_area(actor, access.Action.audit_log)
    query = _query(actor, flt)
    record_now(actor, "audit.export", detail=flt.as_text())
    if query is None:
        return iter(())
    names = {u.id: u.username for u in staff_choices(actor)}

    def rows():
        result = db.session.execute(query.order_by(AuditEvent.id)
                                    .execution_options(yield_per=1000)).scalars()
        for e in result:
            yield [str(e.id), e.at.isoformat(), e.actor_kind,
                   safe_text(names.get(e.actor_id, "")), e.actor_ref or "", e.action,
                   e.object_type or "", e.object_id or "", e.outcome,
                   safe_text(e.detail or ""), e.remote_addr or ""]

    return rows()


def events_about(case: Case) -> list[AuditEvent]:
    """Every logged event about a case and what is in it, oldest first (for access exports)."""
    ids = case_object_ids(case)
    return list(db.session.scalars(select(AuditEvent).where(or_(
        AuditEvent.object_id.in_(ids),
        AuditEvent.actor_ref.in_(ids) & (AuditEvent.actor_kind == ActorKind.respondent.value),
    )).order_by(AuditEvent.id)))
