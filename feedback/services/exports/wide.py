"""The wide format: one row per response, one file per instrument family.

Items are columns by position (``item_1 … item_n``); the codebook maps each
position to the item key of every version in the family, so a child's line
continues across versions (decision 11). Each item has a ``<item>_missing``
column with the missing code; the total is empty when an item was skipped
(decision 14); theme scores follow the pack's theme scoring; families with
bands (the child ruler) get the band's number and label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from feedback.extensions import db
from feedback.instruments.schema import Instrument
from feedback.instruments.scoring import ItemAnswer, band_for, theme_scores
from feedback.models import InstrumentVersion
from feedback.services.exports.dialects import Dialect
from feedback.services.exports.filters import DataFilters
from feedback.services.exports.rows import (
    KEY,
    LOCALE,
    MISSING,
    POSITION,
    RESPONSE,
    RESPONSE_COLUMNS,
    SUBMITTED,
    TOTAL,
    VALUE,
    VERSION,
    ResponseFormatter,
    timestamp,
)
from feedback.services.instruments import definition

#: Columns before the items: the response, then when and in which language it was given.
HEAD_COLUMNS = (*RESPONSE_COLUMNS, "submitted_at", "locale")


def column_name(text: str) -> str:
    """A column name usable in SPSS and Stata: letters, digits and ``_``."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return name if name[:1].isalpha() else "v_" + name


@dataclass
class VersionLayout:
    """Where one version's items and themes go in its family's wide file."""

    instrument: Instrument
    #: Item keys by position (0-based).
    items: tuple[str, ...]
    #: Theme key → positions of its items.
    themes: dict[str, tuple[int, ...]]


@dataclass
class WideLayout:
    """The columns of one family's wide file, from the versions stored for it."""

    family: str
    versions: dict[tuple[str, str], VersionLayout]
    items: int
    themes: tuple[str, ...]
    bands: bool
    columns: tuple[str, ...] = field(default=())

    @property
    def item_columns(self) -> tuple[str, ...]:
        """``item_1 … item_n``."""
        return tuple(f"item_{n}" for n in range(1, self.items + 1))

    @property
    def missing_columns(self) -> tuple[str, ...]:
        """``item_1_missing … item_n_missing``."""
        return tuple(f"item_{n}_missing" for n in range(1, self.items + 1))

    @property
    def theme_columns(self) -> tuple[str, ...]:
        """``theme_<key>`` for every theme of any version in the family."""
        return tuple(column_name(f"theme_{t}") for t in self.themes)


def layouts(filters: DataFilters, families: Iterable[str] | None = None) -> list[WideLayout]:
    """The layout of each family's file, from the stored versions the filters include."""
    stmt = select(InstrumentVersion).order_by(InstrumentVersion.family, InstrumentVersion.key,
                                              InstrumentVersion.version)
    if filters.instruments or filters.families:
        stmt = stmt.where(*filters.instrument_conditions())
    if families is not None:
        stmt = stmt.where(InstrumentVersion.family.in_(list(families)))
    by_family: dict[str, dict[tuple[str, str], VersionLayout]] = {}
    for row in db.session.scalars(stmt):
        instrument = definition(row)
        themes: dict[str, list[int]] = {}
        for n, item in enumerate(instrument.items):
            if item.theme:
                themes.setdefault(item.theme, []).append(n)
        by_family.setdefault(row.family, {})[(row.key, row.version)] = VersionLayout(
            instrument, tuple(i.key for i in instrument.items),
            {k: tuple(v) for k, v in themes.items()})
    result = []
    for family, versions in by_family.items():
        themes: dict[str, None] = {}
        for v in versions.values():
            themes.update(dict.fromkeys(t.key for t in v.instrument.themes))
        layout = WideLayout(
            family=family, versions=versions,
            items=max(len(v.items) for v in versions.values()),
            themes=tuple(themes), bands=any(v.instrument.bands for v in versions.values()))
        layout.columns = (*HEAD_COLUMNS, *layout.item_columns, *layout.missing_columns,
                          "total", *layout.theme_columns,
                          *(("band", "band_label") if layout.bands else ()))
        result.append(layout)
    return result


@dataclass
class WideRecord:
    """One response of the wide table, typed: values in tenths, codes as text."""

    head: tuple
    submitted_at: str
    locale: str
    values: list[int | None]
    missing: list[str]
    total: int | None
    themes: list[int | None]
    band: int | None
    band_label: str


def wide_records(result: Iterable, formatter: ResponseFormatter, layout: WideLayout,
                 language: str) -> Iterator[WideRecord]:
    """Group answer rows (ordered by response) into one :class:`WideRecord` per response."""
    n = layout.items
    last = None
    rec: WideRecord | None = None
    version: VersionLayout | None = None
    for r in result:
        if r[RESPONSE] != last:
            if rec is not None:
                yield _finish(rec, version, layout, language)
            last = r[RESPONSE]
            version = layout.versions[(r[KEY], r[VERSION])]
            rec = WideRecord(formatter.head(r), timestamp(r[SUBMITTED]), r[LOCALE],
                             [None] * n, [""] * n, r[TOTAL], [], None, "")
        position = r[POSITION]
        rec.values[position] = r[VALUE]
        rec.missing[position] = r[MISSING] or ""
    if rec is not None:
        yield _finish(rec, version, layout, language)


def _finish(rec: WideRecord, version: VersionLayout, layout: WideLayout,
            language: str) -> WideRecord:
    instrument = version.instrument
    if layout.themes:
        scores = {}
        if instrument.themes:
            answers = {key: ItemAnswer(rec.values[n], rec.missing[n] or None)
                       for n, key in enumerate(version.items)}
            scores = theme_scores(instrument, answers)
        rec.themes = [scores.get(t) for t in layout.themes]
    if layout.bands and instrument.bands:
        found = band_for(instrument, rec.total)
        if found is not None:
            rec.band = sorted(instrument.bands, key=lambda b: b.min_tenths).index(found) + 1
            rec.band_label = instrument.text(found.label, language)
    return rec


def csv_row(rec: WideRecord, layout: WideLayout, dialect: Dialect) -> tuple:
    """A record as a formatted CSV row in ``dialect``."""
    number = dialect.number
    return (
        *rec.head, rec.submitted_at, rec.locale,
        *(number(v) for v in rec.values), *rec.missing, number(rec.total),
        *(number(t) for t in rec.themes),
        *((rec.band if rec.band is not None else "", rec.band_label) if layout.bands else ()),
    )

