"""Writing the append-only audit log."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from feedback.extensions import db
from feedback.models import AuditEvent, User
from feedback.services.uow import begin_write


def record(action: str, obj_type: str | None = None, obj_id=None, *, outcome: str = "ok",
           detail: str | None = None, actor: User | None = None,
           actor_kind: str | None = None) -> None:
    """Add an audit event to the current unit of work (committed with it)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    db.session.add(AuditEvent(
        actor_id=actor.id if actor is not None else None,
        actor_kind=actor_kind or ("staff" if actor is not None else "respondent"),
        action=action,
        object_type=obj_type,
        object_id=None if obj_id is None else str(obj_id),
        outcome=outcome,
        detail=detail[:500] if detail else None,
        remote_addr=request.remote_addr if has_request_context() else None,
    ))


def record_now(action: str, obj_type: str | None = None, obj_id=None, **kwargs) -> None:
    """Record and commit at once: for reads and refusals that write nothing else."""
    begin_write()
    record(action, obj_type, obj_id, **kwargs)
    db.session.commit()
