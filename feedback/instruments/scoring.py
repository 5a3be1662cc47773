"""Parsing submitted values and scoring a questionnaire, in integer tenths."""

from __future__ import annotations

import re
from dataclasses import dataclass

from feedback.instruments.schema import Instrument, ResponseSpec

# Strict: digits, optionally one decimal. Refuses 1e1, NaN, 10.05, -1, " 5".
_DECIMAL = re.compile(r"([0-9]{1,2})(?:\.([0-9]))?")
_WHOLE = re.compile(r"([0-9]{1,2})")


class ValueRefused(ValueError):
    """A value that does not fit the item's scale; ``reason`` is a message id."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class ItemAnswer:
    """One item's answer: a value in tenths, or a missing code."""

    value_tenths: int | None
    missing_code: str | None = None


def parse_value(raw: str, spec: ResponseSpec) -> ItemAnswer:
    """Parse one submitted value; raises :class:`ValueRefused`.

    ``skipped`` and (where allowed) ``dont_know`` are recorded as such, never as 0.
    """
    if raw == "skipped":
        return ItemAnswer(None, "skipped")
    if raw == "dont_know":
        if not spec.dont_know:
            raise ValueRefused("not_allowed")
        return ItemAnswer(None, "dont_know")
    if raw == "":
        raise ValueRefused("missing")
    match = (_DECIMAL if spec.decimals else _WHOLE).fullmatch(raw)
    if not match:
        raise ValueRefused("format")
    tenths = int(match.group(1)) * 10 + int((match.groups() + (None,))[1] or 0)
    if not spec.min * 10 <= tenths <= spec.max * 10:
        raise ValueRefused("range")
    allowed = spec.allowed_tenths()
    if allowed is not None and tenths not in allowed:
        raise ValueRefused("not_allowed")
    return ItemAnswer(tenths)


def total_tenths(instrument: Instrument, answers: dict[str, ItemAnswer]) -> int | None:
    """The questionnaire's total; ``None`` if any item is missing (never imputed)."""
    if instrument.scoring == "none":
        return None
    values = [answers[item.key].value_tenths for item in instrument.items]
    if any(v is None for v in values):
        return None
    if instrument.scoring == "mean":
        return round(sum(values) / len(values))
    return sum(values)


def theme_scores(instrument: Instrument, answers: dict[str, ItemAnswer]) -> dict[str, int | None]:
    """Each theme's score in tenths (mean or sum of its items); ``None`` if one is missing."""
    scores: dict[str, int | None] = {}
    for theme in instrument.themes:
        values = [answers[i.key].value_tenths for i in instrument.items if i.theme == theme.key]
        if not values or any(v is None for v in values):
            scores[theme.key] = None
        elif instrument.theme_scoring == "sum":
            scores[theme.key] = sum(values)
        else:
            scores[theme.key] = round(sum(values) / len(values))
    return scores


def band_for(instrument: Instrument, total: int | None):
    """The named band a total falls in, if the instrument has bands."""
    if total is None:
        return None
    return next((b for b in instrument.bands if b.min_tenths <= total <= b.max_tenths), None)


def format_tenths(value: int | None, decimals: int = 1) -> str:
    """7.3 from 73; exports and pages show decimals, never tenths."""
    if value is None:
        return ""
    if decimals == 0 and value % 10 == 0:
        return str(value // 10)
    return f"{value // 10}.{value % 10}"
