"""Who acts: a staff user, a respondent with a link, the system, or nobody known (decision 31).

Services are passed an :class:`Actor` and never look at the request or the
logged-in user themselves; the audit row's actor is this actor.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass

from feedback.models import User


class ActorKind(enum.StrEnum):
    """The three kinds of actor an audit row can name."""

    staff = "staff"
    respondent = "respondent"
    system = "system"
    #: Somebody not signed in and holding no link (a login attempt, a guessed URL).
    anonymous = "anonymous"


@dataclass(frozen=True)
class Actor:
    """One acting party, with the network address the action came from (if any)."""

    kind: ActorKind
    #: The staff member, for staff actors.
    user: User | None = None
    #: The invitation whose link the respondent holds, for respondent actors.
    invitation_id: uuid.UUID | None = None
    #: What the system is doing (``cli``, ``retention``, ``demo``), for system actors.
    name: str | None = None
    #: The client's address, as the view saw it; ``None`` outside requests.
    address: str | None = None

    @classmethod
    def staff(cls, user: User, address: str | None = None) -> Actor:
        """A signed-in staff member."""
        return cls(ActorKind.staff, user=user, address=address)

    @classmethod
    def respondent(cls, invitation_id: uuid.UUID | None = None,
                   address: str | None = None) -> Actor:
        """Somebody holding a link (or not yet: ``invitation_id`` is then unknown)."""
        return cls(ActorKind.respondent, invitation_id=invitation_id, address=address)

    @classmethod
    def anonymous(cls, address: str | None = None) -> Actor:
        """Somebody who has not shown who they are."""
        return cls(ActorKind.anonymous, address=address)

    @classmethod
    def system(cls, name: str = "cli") -> Actor:
        """The service itself: a command, a scheduled job, the demo loader."""
        return cls(ActorKind.system, name=name)

    @property
    def is_staff(self) -> bool:
        """Whether this is a signed-in staff member."""
        return self.kind == ActorKind.staff and self.user is not None

    @property
    def user_id(self) -> uuid.UUID | None:
        """The staff member's id, if a staff member acts."""
        return self.user.id if self.user is not None else None
