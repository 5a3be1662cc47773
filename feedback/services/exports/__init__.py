"""Analysts' exports: pseudonymised data out of the service, streamed.

* :mod:`.filters` — what an export (or report) is limited to, validated.
* :mod:`.rows` — the rows every format reads, formatted once per response.
* :mod:`.long`, :mod:`.wide`, :mod:`.invitations` — the CSV files.
* :mod:`.dialects` — RFC 4180 and Danish Excel; formula cells neutralised.
* :mod:`.codebook` — what the columns, codes and questionnaires mean.
* :mod:`.files` — .xlsx and .sav built from the wide table.
* :mod:`.package` — the zip, streamed.
* :mod:`.runs` — one export from start to end, audited.
"""

from feedback.services.exports.dialects import DIALECTS, EXCEL_DA, RFC4180, dialect, safe_text
from feedback.services.exports.filters import DataFilters, choices_for, parse
from feedback.services.exports.pseudonyms import pseudonym
from feedback.services.exports.rows import LONG_COLUMNS
from feedback.services.exports.runs import KINDS, ExportRequest, ExportRun, codebook_for, start

__all__ = [
    "DIALECTS", "EXCEL_DA", "KINDS", "LONG_COLUMNS", "RFC4180", "DataFilters", "ExportRequest",
    "ExportRun", "choices_for", "codebook_for", "dialect", "parse", "pseudonym", "safe_text",
    "start",
]
