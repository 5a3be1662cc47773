"""Excel (.xlsx) and SPSS (.sav) files, built from the wide table through maintained libraries.

Unlike the CSV files these cannot be streamed as they are made: each is built
in a temporary file, under a row cap checked before anything is read
(:data:`EXCEL_MAX_ROWS`, and the organisation's ``FEEDBACK_EXPORT_FILE_MAX_ROWS``),
then sent. openpyxl's write-only mode keeps the workbook out of memory; the
.sav file is built from one family's columns (pyreadstat writes from a data
frame), so its memory grows with the rows, hence the cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from feedback.services.exports.codebook import MISSING_CODES
from feedback.services.exports.dialects import restore_text
from feedback.services.exports.rows import RESPONSE_COLUMNS
from feedback.services.exports.wide import WideLayout, WideRecord

#: Excel's rows per sheet, less the header row.
EXCEL_MAX_ROWS = 1_048_575
DATE_COLUMNS = ("case_opened", "case_closed", "meeting_date")
_DATE_AT = tuple(RESPONSE_COLUMNS.index(c) for c in DATE_COLUMNS)
_TEAM_AT = RESPONSE_COLUMNS.index("team")


def _head_values(rec: WideRecord) -> list:
    head = list(rec.head)
    for i in _DATE_AT:
        head[i] = date.fromisoformat(head[i]) if head[i] else None
    head[_TEAM_AT] = restore_text(head[_TEAM_AT])
    return head


def _tenths(value: int | None) -> float | None:
    return None if value is None else value / 10


def sheet_title(family: str) -> str:
    """An Excel sheet name for a family (31 characters, none of ``[]:*?/\\``)."""
    return "".join(c for c in family if c not in "[]:*?/\\")[:31] or "data"


def write_xlsx(path, sheets: Iterable[tuple[WideLayout, Iterable[WideRecord]]],
               counter=None) -> int:
    """One sheet per family with the wide table; numbers and dates as Excel types.

    Text is stored as text, never as a formula: a team called ``=1+1`` shows
    as ``=1+1``. Returns the number of data rows written.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    written = 0
    for layout, records in sheets:
        sheet = workbook.create_sheet(title=sheet_title(layout.family))
        sheet.append(list(layout.columns))
        for rec in records:
            row = [*_head_values(rec), rec.submitted_at, rec.locale,
                   *(_tenths(v) for v in rec.values), *(m or None for m in rec.missing),
                   _tenths(rec.total), *(_tenths(t) for t in rec.themes)]
            if layout.bands:
                row += [rec.band, rec.band_label or None]
            for i, value in enumerate(row):
                if isinstance(value, str) and value.startswith("="):
                    # openpyxl would store it as a formula; keep it a string.
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.data_type = "s"
                    row[i] = cell
            sheet.append(row)
            written += 1
            if counter and written % 1000 == 0:
                counter(written)
    if not workbook.worksheets:
        workbook.create_sheet(title="data")
    workbook.save(path)
    if counter:
        counter(written)
    return written


def sav_labels(layout: WideLayout, language: str) -> tuple[dict, dict, dict, dict]:
    """Variable labels, value labels, user-missing values and display formats for SPSS."""
    missing_labels = {MISSING_CODES["skipped"]: "skipped", MISSING_CODES["dont_know"]: "dont_know"}
    variable_labels: dict[str, str] = {}
    value_labels: dict[str, dict] = {}
    missing: dict[str, list] = {}
    formats: dict[str, str] = {}
    versions = sorted(layout.versions.items())
    for n, column in enumerate(layout.item_columns):
        keys = [f"{key} {ver}: {v.items[n]}" for (key, ver), v in versions if n < len(v.items)]
        variable_labels[column] = "; ".join(keys)[:256]
        labels = dict(missing_labels)
        for _, v in versions:
            if n >= len(v.items):
                continue
            spec = v.instrument.items[n].response
            text = v.instrument.text
            for i, label in enumerate(spec.labels):
                labels.setdefault(float(spec.min + i), text(label, language))
            labels.setdefault(float(spec.min), text(spec.low, language))
            labels.setdefault(float(spec.max), text(spec.high, language))
        value_labels[column] = labels
        missing[column] = list(MISSING_CODES.values())
        formats[column] = "F4.1"
    variable_labels["total"] = "total"
    formats["total"] = "F6.1"
    for column, key in zip(layout.theme_columns, layout.themes, strict=True):
        variable_labels[column] = f"theme {key}"
        formats[column] = "F4.1"
    if layout.bands:
        bands = {}
        for _, v in versions:
            for number, band in enumerate(sorted(v.instrument.bands, key=lambda b: b.min_tenths),
                                          1):
                bands.setdefault(float(number), v.instrument.text(band.label, language))
        value_labels["band"] = bands
        variable_labels["band"] = "band"
    return variable_labels, value_labels, missing, formats


def write_sav(path, layout: WideLayout, records: Iterable[WideRecord], language: str,
              counter=None) -> int:
    """One family's wide table as an SPSS file with variable and value labels.

    Item columns hold the value, or -1 (skipped) / -2 (don't know) declared
    as user-missing values; an item a version does not ask is system-missing.
    Returns the number of rows written.
    """
    import numpy as np
    import pandas as pd
    import pyreadstat

    columns: dict[str, list] = {c: [] for c in layout.columns}
    names = list(layout.columns)
    written = 0
    for rec in records:
        values = []
        for v, m in zip(rec.values, rec.missing, strict=True):
            values.append(float(MISSING_CODES[m]) if m else (np.nan if v is None else v / 10))
        row = [*_head_values(rec), rec.submitted_at, rec.locale, *values, *rec.missing,
               np.nan if rec.total is None else rec.total / 10,
               *(np.nan if t is None else t / 10 for t in rec.themes)]
        if layout.bands:
            row += [np.nan if rec.band is None else float(rec.band), rec.band_label]
        for name, value in zip(names, row, strict=True):
            columns[name].append(value)
        written += 1
        if counter and written % 1000 == 0:
            counter(written)
    numeric = {*layout.item_columns, "total", *layout.theme_columns, "band",
               "child_birth_year", "child_age_at_meeting"}

    def series(name, values):
        if name in numeric:
            return pd.Series(values, dtype="float64")
        if name in DATE_COLUMNS:
            # SPSS dates, also in a column that happens to be empty in this export.
            return pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ns]")
        return pd.Series(values, dtype="object")

    frame = pd.DataFrame({name: series(name, values) for name, values in columns.items()})
    variable_labels, value_labels, missing, formats = sav_labels(layout, language)
    for name in ("child_birth_year", "child_age_at_meeting"):
        formats[name] = "F4.0"
    for name in DATE_COLUMNS:
        formats[name] = "DATE11"
    if "band" in frame:
        formats["band"] = "F2.0"
    pyreadstat.write_sav(frame, str(path), column_labels=variable_labels,
                         variable_value_labels=value_labels, missing_ranges=missing,
                         variable_format=formats, file_label=f"feedback {layout.family}")
    if counter:
        counter(written)
    return written

