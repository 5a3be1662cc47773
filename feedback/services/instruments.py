"""Instrument packs as the service uses them: the installed packs and frozen versions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedback.extensions import db
from feedback.instruments import picking
from feedback.instruments.loader import get_instrument, registry
from feedback.instruments.schema import Instrument
from feedback.models import InstrumentVersion, Meeting, Participant
from feedback.services.errors import Invalid

AUTO_FAMILIES = picking.AUTO_FAMILIES


def installed() -> list[Instrument]:
    """The packs this installation offers, by family and youngest age first."""
    return sorted(registry().values(), key=lambda p: (p.family, p.min_age, p.id))


def families() -> list[str]:
    """The families a caseworker can tick that have at least one installed pack."""
    present = {p.family for p in registry().values()}
    return [f for f in AUTO_FAMILIES if f in present]


def ensure_version(instrument: Instrument) -> InstrumentVersion:
    """The stored row for this pack version, frozen on first use.

    Runs inside the caller's write transaction. A pack edited without a new
    version is refused, so old answers keep the definition they were given in.
    """
    row = db.session.scalar(select(InstrumentVersion).where(
        InstrumentVersion.key == instrument.id, InstrumentVersion.version == instrument.version))
    if row is None:
        row = InstrumentVersion(key=instrument.id, version=instrument.version,
                                family=instrument.family, digest=instrument.digest,
                                definition=instrument.to_json())
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            # Another request froze it first; use theirs.
            row = db.session.scalar(select(InstrumentVersion).where(
                InstrumentVersion.key == instrument.id,
                InstrumentVersion.version == instrument.version))
    if row.digest != instrument.digest:
        raise Invalid("pack_changed_without_version", pack=instrument.id,
                      version=instrument.version)
    return row


#: Frozen definitions by version id. Versions never change once frozen, so each
#: is parsed once per process; there are tens of them, not thousands.
_definitions: dict = {}


def definition(row: InstrumentVersion) -> Instrument:
    """The frozen definition a response was given in."""
    found = _definitions.get(row.id)
    if found is None:
        found = _definitions[row.id] = Instrument.from_json(row.definition)
    return found


def by_version_id(version_id) -> Instrument:
    """The frozen definition of a stored version, looked up by its id."""
    found = _definitions.get(version_id)
    if found is None:
        row = db.session.get(InstrumentVersion, version_id)
        if row is None:
            raise LookupError(version_id)
        found = _definitions[version_id] = Instrument.from_json(row.definition)
    return found


def current(pack_id: str) -> Instrument:
    """The installed pack with this id; :class:`Invalid` if there is none."""
    try:
        return get_instrument(pack_id)
    except LookupError:
        raise Invalid("unknown_instrument", field="instruments") from None


def respondent_age(participant: Participant, meeting: Meeting) -> int | None:
    """The respondent's age at the meeting; ``None`` for adults (their age is not stored)."""
    if participant.role.value == "child":
        return participant.case.child_age_on(meeting.held_on)
    return None


def pick(family: str, role: str, age: int | None) -> Instrument | None:
    """The installed version of ``family`` meant for this respondent."""
    return picking.pick(registry().values(), family, role, age)


def bundle_for(participant: Participant, meeting: Meeting, choices: list[str]) -> list[str]:
    """Pack ids for one respondent from what the caseworker ticked (see :func:`picking.bundle`)."""
    try:
        return picking.bundle(registry(), choices, participant.role.value,
                              respondent_age(participant, meeting))
    except picking.UnknownChoice:
        raise Invalid("unknown_instrument", field="instruments") from None
