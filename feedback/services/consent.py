"""Consent per participant: to have answers collected, to have their line shown.

A young person from 15 decides for themself; for a younger child the custody
holders decide. Consent the parents gave for a child who has since turned 15
no longer counts: the young person is asked again. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from feedback import clock
from feedback.extensions import db
from feedback.models import Case, ConsentGiver, Participant, ParticipantConsent, ParticipantRole
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid, NotFound
from feedback.services.uow import begin_write

#: From this age a young person gives or refuses consent themself.
OWN_CONSENT_AGE = 15


def giver_for(case: Case, participant: Participant, day: date) -> ConsentGiver:
    """Who decides for ``participant`` on ``day``: the child from 15, else the custody holders."""
    if participant.role == ParticipantRole.child and case.child_age_on(day) < OWN_CONSENT_AGE:
        return ConsentGiver.guardian
    return ConsentGiver.self


@dataclass(frozen=True)
class Consent:
    """A participant's consent as it counts today."""

    participant: Participant
    #: The stored row, or ``None`` when nothing (still valid) is recorded.
    row: ParticipantConsent | None
    #: Who decides now.
    giver: ConsentGiver
    #: True when a row exists but was given by the parents for a child now 15 or older.
    outdated: bool = False

    @property
    def collect(self) -> bool | None:
        """Agreed to answering (``None``: not recorded)."""
        return None if self.row is None else self.row.collect

    @property
    def show_family(self) -> bool:
        """Whether the line may be shown to the family."""
        return self.row is not None and self.row.show_family

    @property
    def show_network(self) -> bool:
        """Whether the line may be shown to the network."""
        return self.row is not None and self.row.show_network


def for_case(case: Case, day: date | None = None) -> dict:
    """Every participant's consent as it counts on ``day`` (default today), by participant id."""
    day = day or clock.today()
    rows = {r.participant_id: r for r in db.session.scalars(
        select(ParticipantConsent).join(Participant)
        .where(Participant.case_id == case.id))}
    found = {}
    for p in case.participants:
        giver = giver_for(case, p, day)
        row = rows.get(p.id)
        outdated = row is not None and row.given_by != giver
        found[p.id] = Consent(p, None if outdated else row, giver, outdated)
    return found


def of(participant: Participant, day: date | None = None) -> Consent:
    """One participant's consent as it counts on ``day``."""
    return for_case(participant.case, day)[participant.id]


def record(actor: Actor, case: Case, participant_id, *, collect: bool, show_family: bool,
           show_network: bool) -> ParticipantConsent:
    """Record what a participant (or, for a child under 15, the custody holders) agreed to."""
    access.check(actor, Action.edit_case, case)
    participant = next((p for p in case.participants if str(p.id) == str(participant_id)),
                       None)
    if participant is None:
        raise NotFound()
    if not collect and (show_family or show_network):
        # Nothing can be shown of answers that are not collected.
        raise Invalid("consent_show_without_collect", field="collect")
    giver = giver_for(case, participant, clock.today())
    begin_write()
    values = {"collect": collect, "show_family": show_family, "show_network": show_network,
              "given_by": giver, "recorded_at": clock.now(), "recorded_by_id": actor.user_id}
    row = db.session.get(ParticipantConsent, participant.id)
    if row is None:
        row = ParticipantConsent(participant_id=participant.id, **values)
        db.session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    audit.record(actor, "consent.record", "participant", participant.id,
                 detail=f"collect={int(collect)} family={int(show_family)} "
                        f"network={int(show_network)} given_by={giver.value}")
    db.session.commit()
    return row


def may_collect(participant: Participant, day: date | None = None) -> bool:
    """Whether answers may be asked of ``participant``: unless they said no."""
    return of(participant, day).collect is not False


def family_lines(case: Case, participant_ids, day: date | None = None) -> list[Participant]:
    """The participants whose lines may be shown to the family, in the case's order.

    Refuses (:class:`Invalid`) a choice including anyone without consent to be shown.
    """
    consents = for_case(case, day)
    wanted = {str(p) for p in participant_ids}
    if not wanted:
        raise Invalid("family_choose_one", field="lines")
    chosen = [c for c in consents.values() if str(c.participant.id) in wanted]
    if len(chosen) != len(wanted):
        raise Invalid("participant_not_in_case", field="lines")
    refused = [c.participant for c in chosen if not c.show_family]
    if refused:
        raise Invalid("family_no_consent", field="lines", participant=refused[0])
    return [c.participant for c in chosen]


def start_family_view(actor: Actor, meeting, participant_ids) -> list[Participant]:
    """Check who may be shown to the family at ``meeting`` and audit the start of the view."""
    access.check(actor, Action.view_meeting, meeting.case, "meeting", meeting.id)
    lines = family_lines(meeting.case, participant_ids)
    audit.record_now(actor, "family_view.start", "meeting", meeting.id,
                     detail="lines: " + ", ".join(p.role.value for p in lines))
    return lines
