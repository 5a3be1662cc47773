"""Which version of an instrument family fits whom (pure: no app, no database)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from feedback.instruments.schema import Instrument

#: The families a caseworker can tick, each given in the version that fits the respondent.
AUTO_FAMILIES = ("outcome", "session", "meeting-experience", "ruler", "coordination")


class UnknownChoice(ValueError):
    """A ticked family or pack id that this installation does not have."""


def pick(packs: Iterable[Instrument], family: str, role: str,
         age: int | None) -> Instrument | None:
    """The version of ``family`` meant for a respondent of ``role`` and ``age``.

    ``age`` is ``None`` for adults. Among fitting versions the narrowest age
    range wins (YCORS under 6, CORS 6–12, ORS from 13 and for adults).
    """
    fitting = [p for p in packs if p.family == family and p.fits(role, age)]
    fitting.sort(key=lambda p: ((p.max_age or 120) - p.min_age, p.id))
    return fitting[0] if fitting else None


def bundle(packs: Mapping[str, Instrument], choices: Iterable[str], role: str,
           age: int | None) -> list[str]:
    """Pack ids for one respondent from what the caseworker ticked.

    A family (``outcome``) is given in the version that fits the respondent; a
    pack id (``ors``) is an override, given as it is, and replaces the automatic
    choice in its family. Families with no version for this respondent (smileys
    for a parent) are left out. Raises :class:`UnknownChoice` for anything else.
    """
    choices = list(choices)
    unknown = [c for c in choices if c not in packs and c not in AUTO_FAMILIES]
    if unknown:
        raise UnknownChoice(unknown[0])
    explicit = [c for c in choices if c in packs]
    overridden = {packs[c].family for c in explicit}
    chosen = list(explicit)
    for family in (c for c in choices if c in AUTO_FAMILIES):
        if family in overridden:
            continue
        pack = pick(packs.values(), family, role, age)
        if pack is not None and pack.id not in chosen:
            chosen.append(pack.id)
    return chosen


def overlapping(packs: Mapping[str, Instrument], ids: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of ``ids`` that ask much the same, as either pack declares (``overlaps``)."""
    ids = list(ids)
    pairs = []
    for n, a in enumerate(ids):
        for b in ids[n + 1:]:
            if b in packs[a].overlaps or a in packs[b].overlaps:
                pairs.append((a, b))
    return pairs
