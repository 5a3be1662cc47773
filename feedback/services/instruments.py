"""Freezing pack versions in the database, and picking the version for a respondent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedback.extensions import db
from feedback.instruments.loader import get_instrument, registry
from feedback.instruments.schema import Instrument
from feedback.models import InstrumentVersion
from feedback.services.errors import Invalid


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


def definition(row: InstrumentVersion) -> Instrument:
    """The frozen definition a response was given in."""
    return Instrument.from_json(row.definition)


def current(pack_id: str) -> Instrument:
    try:
        return get_instrument(pack_id)
    except LookupError:
        raise Invalid("unknown_instrument", field="instruments") from None


#: The families a caseworker can tick, each given in the version that fits the respondent.
AUTO_FAMILIES = ("outcome", "session", "meeting-experience", "ruler", "coordination")


def respondent_age(participant, meeting) -> int | None:
    """The respondent's age at the meeting; ``None`` for adults (their age is not stored)."""
    if participant.role.value == "child":
        return participant.case.child_age_on(meeting.held_on)
    return None


def pick(family: str, role: str, age: int | None) -> Instrument | None:
    """The version of ``family`` meant for this respondent, e.g. CORS for a 9-year-old."""
    fitting = [p for p in registry().values() if p.family == family and p.fits(role, age)]
    # The narrowest age range is the most specific version.
    fitting.sort(key=lambda p: ((p.max_age or 120) - p.min_age, p.id))
    return fitting[0] if fitting else None


def bundle_for(participant, meeting, choices: list[str]) -> list[str]:
    """Pack ids for one respondent from what the caseworker ticked.

    A family (``outcome``) is given in the version that fits the respondent's
    age; a pack id (``ors``) is an override and is given as it is. An override
    replaces the automatic choice in its family. Families with no version for
    this respondent (smileys for a parent) are left out.
    """
    packs = registry()
    explicit = [c for c in choices if c in packs]
    families_overridden = {packs[c].family for c in explicit}
    chosen = list(explicit)
    age = respondent_age(participant, meeting)
    for family in (c for c in choices if c in AUTO_FAMILIES):
        if family in families_overridden:
            continue
        pack = pick(family, participant.role.value, age)
        if pack is not None:
            chosen.append(pack.id)
    unknown = [c for c in choices if c not in packs and c not in AUTO_FAMILIES]
    if unknown:
        raise Invalid("unknown_instrument", field="instruments")
    return chosen
