"""How long one sitting is: the questions each person would get, before links are issued.

The meeting page shows this for what is ticked, warns above the organisation's
question limit, and warns when two ticked packs ask much the same, pre-selecting
the one the organisation prefers. Items are never dropped from a pack: the
choice is between whole packs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from feedback.instruments import picking
from feedback.instruments.schema import Instrument
from feedback.models import Meeting, Participant
from feedback.services import instruments
from feedback.services.errors import Invalid
from feedback.services.invitations import invitation_of


@dataclass
class Overlap:
    """Two packs in one person's bundle that ask much the same."""

    first: Instrument
    second: Instrument
    #: The one the organisation prefers, or ``None`` if it prefers neither.
    preferred: Instrument | None

    @property
    def other(self) -> Instrument | None:
        """The pack the organisation does not prefer."""
        if self.preferred is None:
            return None
        return self.second if self.preferred is self.first else self.first


@dataclass
class Sitting:
    """What one person would answer if the links were issued now."""

    participant: Participant
    packs: list[Instrument] = field(default_factory=list)
    overlaps: list[Overlap] = field(default_factory=list)
    limit: int = 15

    @property
    def questions(self) -> int:
        """How many questions, over every questionnaire they would get."""
        return sum(len(p.items) for p in self.packs)

    @property
    def too_long(self) -> bool:
        """Whether the sitting is above the organisation's question limit."""
        return self.questions > self.limit


def limit() -> int:
    """The organisation's question limit for one sitting (``FEEDBACK_QUESTION_LIMIT``)."""
    return current_app.config["FEEDBACK_QUESTION_LIMIT"]


def _preferred() -> list[str]:
    raw = current_app.config["FEEDBACK_PREFERRED_PACKS"]
    return [p.strip() for p in raw.split(",") if p.strip()]


def plan(meeting: Meeting, choices: list[str],
         participants: list[Participant] | None = None) -> list[Sitting]:
    """Each person's sitting for the ticked ``choices`` (everybody in the case by default).

    Questionnaires a person already has at this meeting are not counted again.
    Unknown choices raise :class:`Invalid`, as inviting would.
    """
    packs = instruments.registry()
    preferred = _preferred()
    sittings = []
    for person in participants if participants is not None else meeting.case.participants:
        try:
            ids = instruments.bundle_for(person, meeting, choices) if choices else []
        except Invalid:
            ids = []
        invitation = invitation_of(meeting, person)
        have = {item.instrument_version.key for item in invitation.items} if invitation else set()
        ids = [i for i in ids if i not in have]
        sitting = Sitting(person, [packs[i] for i in ids], limit=limit())
        for a, b in picking.overlapping(packs, ids):
            liked = next((packs[p] for p in preferred if p in (a, b)), None)
            sitting.overlaps.append(Overlap(packs[a], packs[b], liked))
        sittings.append(sitting)
    return sittings


def without_unpreferred(choices: list[str], sittings: list[Sitting]) -> list[str]:
    """``choices`` with the ticks that gave somebody a pack the organisation does not prefer.

    A tick is a family (given in the version that fits each person) or a pack
    id; the tick behind the unpreferred pack is taken away, so the form shows
    the preferred one selected.
    """
    drop = [o.other for s in sittings for o in s.overlaps if o.other is not None]
    kept = []
    for choice in choices:
        if any(choice in (p.id, p.family) for p in drop):
            continue
        kept.append(choice)
    return kept
