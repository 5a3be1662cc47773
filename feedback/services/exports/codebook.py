"""The codebook: what every column means, the questionnaires, codes and the export's parameters.

Written as JSON next to the data (decision 16: never as comment lines in a
CSV) and shown as a readable page. Texts are in the language of the person
exporting; keys and codes are the same in every language.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select

from feedback.extensions import db
from feedback.instruments.schema import Instrument
from feedback.models import InstrumentVersion, MeetingType, ParticipantRole
from feedback.services.exports.dialects import Dialect
from feedback.services.exports.filters import DataFilters
from feedback.services.exports.invitations import INVITATION_COLUMNS
from feedback.services.exports.rows import LONG_COLUMNS
from feedback.services.exports.wide import WideLayout
from feedback.services.instruments import definition

#: Missing-value codes (decision 14) and the numbers .sav files use for them.
MISSING_CODES = {"skipped": -1, "dont_know": -2}
FORMAT_VERSION = 1


def _column_texts() -> dict[str, tuple[str, str]]:
    """Column → (type, description), in the current language."""
    roles = ", ".join([*(r.value for r in ParticipantRole), "staff"])
    return {
        "response_id": ("id", _("Pseudonymous id of the answered questionnaire.")),
        "case_id": ("id", _("Pseudonymous id of the case.")),
        "respondent_id": ("id", _("Pseudonymous id of the person who answered; the same person "
                                  "keeps it across meetings and exports.")),
        "respondent_role": ("code", _("The respondent's role: %(codes)s.", codes=roles)),
        "subject": ("code", _("Whose well-being the rating is about: child (the child's) or "
                              "self (the respondent's own).")),
        "team": ("text", _("The case's team, by name.")),
        "case_status": ("code", _("open or closed, at the time of the export.")),
        "case_opened": ("date", _("The day the case was opened.")),
        "case_closed": ("date", _("The day the case was closed; empty while it is open.")),
        "child_birth_year": ("integer", _("The child's birth year.")),
        "child_age_at_meeting": ("integer", _(
            "The child's age in whole years on the meeting day (birthday taken as 1 July when "
            "the month is not known).")),
        "meeting_id": ("id", _("Pseudonymous id of the meeting.")),
        "meeting_date": ("date", _("The day of the meeting.")),
        "meeting_type": ("code", _("The kind of meeting: %(codes)s.",
                                   codes=", ".join(t.value for t in MeetingType))),
        "instrument": ("code", _("The questionnaire's id (see instruments).")),
        "instrument_version": ("code", _("The questionnaire's version.")),
        "family": ("code", _("The questionnaire family; a line continues across versions "
                             "within a family.")),
        "item": ("code", _("The item's key within the questionnaire version.")),
        "value": ("decimal", _("The answer, with one decimal; empty when the item was not "
                               "answered (see missing_code).")),
        "missing_code": ("code", _("Why there is no value: skipped or dont_know; empty when "
                                   "there is a value.")),
        "submitted_at": ("datetime", _("When the answers were stored, in UTC (ISO 8601).")),
        "locale": ("code", _("The language the respondent answered in.")),
        "total": ("decimal", _("The questionnaire's score (sum or mean of the items, as the "
                               "questionnaire says); empty when an item was skipped or the "
                               "questionnaire has no score.")),
        "band": ("integer", _("The number of the band the total falls in, lowest first (see "
                              "the questionnaire's bands).")),
        "band_label": ("text", _("The name of that band.")),
        "invitation_id": ("id", _("Pseudonymous id of the invitation (one person at one "
                                  "meeting).")),
        "position": ("integer", _("The questionnaire's place in the invitation's bundle.")),
        "issued_at": ("datetime", _("When the invitation was created, in UTC.")),
        "opened_at": ("datetime", _("When a link or code of the invitation was first opened; "
                                    "empty if never.")),
        "answered_at": ("datetime", _("When the questionnaire was answered; empty if not.")),
        "expires_at": ("datetime", _("When the invitation's links stop working, in UTC.")),
        "status": ("code", _("answered, expired (not answered in time) or pending, at the time "
                             "of the export.")),
    }


def _describe(columns, texts) -> list[dict]:
    return [{"name": c, "type": texts[c][0], "description": texts[c][1]} for c in columns]


def _item(instrument: Instrument, n: int, language: str) -> dict:
    item = instrument.items[n]
    spec = item.response
    entry = {
        "position": n + 1, "key": item.key, "label": instrument.text(item.label, language),
        "response": spec.kind, "min": spec.min, "max": spec.max,
        "step": 0.1 if spec.step_tenths == 1 else 1, "dont_know": spec.dont_know,
        "low": instrument.text(spec.low, language), "high": instrument.text(spec.high, language),
        "theme": item.theme,
    }
    allowed = spec.allowed_tenths()
    if allowed is not None:
        entry["values"] = [v / 10 for v in allowed]
    if spec.labels:
        entry["value_labels"] = {str(spec.min + i): instrument.text(label, language)
                                 for i, label in enumerate(spec.labels)}
    return entry


def instrument_entry(instrument: Instrument, language: str) -> dict:
    """One questionnaire version: items, scoring, themes, bands and cut-offs."""
    bands = sorted(instrument.bands, key=lambda b: b.min_tenths)
    return {
        "instrument": instrument.id, "version": instrument.version,
        "family": instrument.family, "title": instrument.text(instrument.title, language),
        "scoring": instrument.scoring, "theme_scoring": instrument.theme_scoring,
        "psychometric": instrument.psychometric,
        "total_max": None if instrument.total_max_tenths is None
        else instrument.total_max_tenths / 10,
        "items": [_item(instrument, n, language) for n in range(len(instrument.items))],
        "themes": [{"key": t.key, "label": instrument.text(t.label, language),
                    "items": [i.key for i in instrument.items if i.theme == t.key]}
                   for t in instrument.themes],
        "bands": [{"band": n, "min": b.min_tenths / 10, "max": b.max_tenths / 10,
                   "label": instrument.text(b.label, language)}
                  for n, b in enumerate(bands, 1)],
        "cutoffs": [{"value": c.value_tenths / 10, "min_age": c.min_age, "max_age": c.max_age}
                    for c in instrument.cutoffs] if instrument.psychometric else [],
    }


def instruments_for(filters: DataFilters) -> list[Instrument]:
    """The stored questionnaire versions the filters include."""
    stmt = select(InstrumentVersion).order_by(InstrumentVersion.family, InstrumentVersion.key,
                                              InstrumentVersion.version)
    if filters.instruments or filters.families:
        stmt = stmt.where(*filters.instrument_conditions())
    return [definition(row) for row in db.session.scalars(stmt)]


@dataclass
class FileEntry:
    """One data file of an export, with its columns and how many rows it has."""

    name: str
    kind: str
    columns: tuple[str, ...]
    rows: int | None = None
    family: str | None = None
    layout: WideLayout | None = field(default=None, repr=False)


def wide_entry(layout: WideLayout, language: str) -> dict:
    """How a family's wide file maps positions to items, per version."""
    return {
        "family": layout.family, "items": layout.items,
        "positions": {f"{key} {version}": list(v.items)
                      for (key, version), v in sorted(layout.versions.items())},
        "themes": {name: key for name, key in zip(layout.theme_columns, layout.themes,
                                                  strict=True)},
    }


def build(*, kind: str, dialect: Dialect | None, filters: DataFilters, files: list[FileEntry],
          created_at: str, created_by_role: str, pseudonym_domain: str, language: str,
          limits: dict | None = None) -> dict:
    """The codebook of one export, as plain data (JSON)."""
    texts = _column_texts()
    instruments = instruments_for(filters)
    wide_layouts = [f.layout for f in files if f.layout is not None]
    file_entries = []
    for f in files:
        entry = {"name": f.name, "kind": f.kind, "rows": f.rows}
        if f.family:
            entry["family"] = f.family
        file_entries.append(entry)
    columns = {
        "long": _describe(LONG_COLUMNS, texts),
        "invitations": _describe(INVITATION_COLUMNS, texts),
    }
    if wide_layouts:
        wide_texts = dict(texts)
        for layout in wide_layouts:
            for n, (c, m) in enumerate(zip(layout.item_columns, layout.missing_columns,
                                           strict=True), 1):
                wide_texts[c] = ("decimal", _("The answer to the item in position %(n)s (see "
                                              "wide.positions).", n=n))
                wide_texts[m] = ("code", _("The missing code of item %(n)s: skipped or "
                                           "dont_know; empty when answered or not asked.", n=n))
            for c, key in zip(layout.theme_columns, layout.themes, strict=True):
                wide_texts[c] = ("decimal", _("The score of the theme %(theme)s (mean or sum of "
                                              "its items); empty when one was skipped.",
                                              theme=key))
        columns["wide"] = {layout.family: _describe(layout.columns, wide_texts)
                           for layout in wide_layouts}
    return {
        "format": "feedback-export",
        "format_version": FORMAT_VERSION,
        "created_at": created_at,
        "created_by_role": created_by_role,
        "language": language,
        "parameters": {
            "kind": kind,
            "dialect": None if dialect is None else {
                "name": dialect.key, "delimiter": dialect.delimiter,
                "decimal": dialect.decimal, "byte_order_mark": dialect.bom,
                "line_end": "CRLF", "encoding": "UTF-8"},
            "filters": filters.as_dict(),
            "pseudonym_domain": pseudonym_domain,
            **({"limits": limits} if limits else {}),
        },
        "files": file_entries,
        "rows": sum(f.rows or 0 for f in files),
        "columns": columns,
        "missing_codes": {
            "skipped": {"description": _("The respondent chose to skip the item."),
                        "sav_value": MISSING_CODES["skipped"]},
            "dont_know": {"description": _("The respondent answered \"don't know\"."),
                          "sav_value": MISSING_CODES["dont_know"]},
            "not_asked": {"description": _("An empty item column in a wide file whose version "
                                           "has fewer items: not asked, not missing."),
                          "sav_value": None},
        },
        "pseudonyms": _("Ids are the first 16 hex digits of HMAC-SHA256 with the "
                        "organisation's pseudonym key over the internal id: stable across "
                        "exports made with the same key (the same pseudonym_domain), and "
                        "impossible to trace back without it. Case references and names are "
                        "never exported."),
        "formula_cells": _("Text cells that begin with =, +, -, @, a tab or a carriage return "
                           "start with an apostrophe in CSV files, so spreadsheets show them as "
                           "text; the import removes it."),
        "instruments": [instrument_entry(i, language) for i in instruments],
        "wide": [wide_entry(layout, language) for layout in wide_layouts],
    }
