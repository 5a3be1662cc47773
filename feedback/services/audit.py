"""Writing the append-only audit log: who did what to which record, and when."""

from __future__ import annotations

from sqlalchemy import insert

from feedback.extensions import db
from feedback.models import AuditEvent
from feedback.services.actors import Actor, ActorKind
from feedback.services.uow import begin_write


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
