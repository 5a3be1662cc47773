"""Instrument packs as the service uses them: the installed packs and frozen versions."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from flask import current_app
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError

from feedback.extensions import db
from feedback.instruments import loader, picking
from feedback.instruments.schema import Instrument, PackError
from feedback.models import InstrumentVersion, Meeting, Participant
from feedback.services.errors import Invalid

AUTO_FAMILIES = picking.AUTO_FAMILIES


def registry() -> dict[str, Instrument]:
    """The installed packs by id; :class:`Invalid` (``packs_broken``) if a pack file is broken.

    A broken directory must not reach a page as a 500: the pages say that the
    questionnaires need the administrator, and the service refuses to start
    (:func:`check_installation`) so it rarely comes to that.
    """
    try:
        return loader.registry()
    except PackError as error:
        current_app.logger.error("Instrument packs are broken:\n%s", error)
        raise Invalid("packs_broken") from None


def get_instrument(pack_id: str) -> Instrument:
    """The installed pack with this id; :class:`LookupError` if there is none."""
    try:
        return registry()[pack_id]
    except KeyError:
        raise LookupError(pack_id) from None


def installed() -> list[Instrument]:
    """The packs this installation offers, by family and youngest age first."""
    return sorted(registry().values(), key=lambda p: (p.family, p.min_age, p.id))


def families() -> list[str]:
    """The families a caseworker can tick that have at least one installed pack."""
    present = {p.family for p in registry().values()}
    return [f for f in AUTO_FAMILIES if f in present]


def check_installation(extra_dir: str | Path | None = None) -> list[str]:
    """Every problem with the installed packs, one line each; empty when all is well.

    Validates every shipped pack and every pack in ``extra_dir`` (by default
    ``FEEDBACK_INSTRUMENTS_DIR``), and compares each with the version frozen in
    the database under the same id and version (:func:`check_frozen`). Run
    once before the service starts (``flask instruments check``, gunicorn's
    master), never per request or per worker.
    """
    if extra_dir is None:
        extra_dir = current_app.config.get("FEEDBACK_INSTRUMENTS_DIR") or None
    packs, errors = loader.scan_packs(extra_dir)
    return [str(error) for error in errors] + check_frozen(packs.values())


def check_frozen(packs: Iterable[Instrument]) -> list[str]:
    """Packs whose wording differs from what their id and version stand for.

    An id and version name one wording for good: answers were given in it.
    A pack that reuses a shipped pack's id and version with other content, or
    that differs from the copy frozen in the database, is refused here, not
    later when a caseworker first invites with it.
    """
    packs = list(packs)
    shipped, _ = loader.scan_packs(None)
    problems = []
    for pack in packs:
        original = shipped.get(pack.id)
        if (original is not None and original.version == pack.version
                and original.digest != pack.digest):
            problems.append(f"{pack.id} {pack.version}: differs from the shipped pack of the "
                            f"same id and version; a changed pack needs a new version number")
    try:
        if not inspect(db.engine).has_table(InstrumentVersion.__tablename__):
            return problems  # a database not migrated yet has frozen nothing
        frozen = {(row.key, row.version): row for row in db.session.scalars(
            select(InstrumentVersion).where(InstrumentVersion.key.in_([p.id for p in packs])))}
    except OperationalError as error:
        return [*problems, f"could not read the frozen pack versions from the database: "
                           f"{error.orig or error}"]
    for pack in packs:
        row = frozen.get((pack.id, pack.version))
        if row is not None and row.digest != pack.digest:
            problems.append(
                f"{pack.id} {pack.version}: differs from the version frozen in the database "
                f"on {row.created_at:%Y-%m-%d}; answers were given in that wording, so a "
                f"changed pack needs a new version number")
    return problems


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
