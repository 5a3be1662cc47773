"""Freezing pack versions in the database, and picking the version for a respondent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feedback.extensions import db
from feedback.instruments.loader import get_instrument
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
