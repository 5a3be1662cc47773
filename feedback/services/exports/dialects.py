"""CSV dialects: RFC 4180 and Danish Excel, with formula injection neutralised in both.

* ``rfc4180``: comma, decimal point, UTF-8 without a byte-order mark, CRLF.
* ``excel-da``: semicolon, decimal comma, UTF-8 with a byte-order mark, CRLF —
  what Danish Excel opens in columns with numbers as numbers (decision 38).

Text cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return) get a leading apostrophe; numbers
are written as numbers and never touched. The import removes the apostrophe
again (:func:`restore_text`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from feedback.services.errors import Invalid

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Rows written between two chunks handed to the stream (about 100 KB of CSV).
CHUNK_ROWS = 1000


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written: separator, decimal mark, byte-order mark, line ends."""

    key: str
    delimiter: str
    decimal: str
    bom: bool
    line_terminator: str = "\r\n"

    def number(self, tenths: int | None) -> str:
        """A value stored in tenths as a decimal with one digit (7.3 or 7,3); empty for None."""
        if tenths is None:
            return ""
        return f"{tenths // 10}{self.decimal}{tenths % 10}"

    def item_values(self) -> list[str]:
        """:meth:`number` for every item value (0–10, in tenths), precomputed for hot loops."""
        return [self.number(t) for t in range(101)]

    def writer(self, buffer: io.StringIO):
        """A ``csv.writer`` in this dialect, quoting only where needed."""
        return csv.writer(buffer, delimiter=self.delimiter, lineterminator=self.line_terminator,
                          quoting=csv.QUOTE_MINIMAL)


RFC4180 = Dialect("rfc4180", ",", ".", bom=False)
EXCEL_DA = Dialect("excel-da", ";", ",", bom=True)
DIALECTS = {d.key: d for d in (RFC4180, EXCEL_DA)}


def dialect(key: str | None) -> Dialect:
    """The dialect named ``key`` (default RFC 4180); :class:`Invalid` for an unknown name."""
    if not key:
        return RFC4180
    try:
        return DIALECTS[key]
    except KeyError:
        raise Invalid("unknown_dialect", field="dialect", value=str(key)[:40]) from None


def safe_text(value: str) -> str:
    """Neutralise a text cell a spreadsheet would run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def restore_text(value: str) -> str:
    """Undo :func:`safe_text`: the apostrophe before a formula character goes."""
    if len(value) > 1 and value[0] == "'" and value[1] in "=+-@\t\r":
        return value[1:]
    return value


def line_chunks(dialect: Dialect, header: Iterable[str], lines: Iterable[str],
                counter=None) -> Iterator[bytes]:
    """Like :func:`csv_chunks`, for rows already written as CSV lines."""
    buffer = io.StringIO()
    dialect.writer(buffer).writerow(header)
    head = buffer.getvalue().encode()
    yield (b"\xef\xbb\xbf" + head) if dialect.bom else head
    chunk: list[str] = []
    n = 0
    for n, line in enumerate(lines, 1):
        chunk.append(line)
        if n % CHUNK_ROWS == 0:
            yield "".join(chunk).encode()
            chunk.clear()
            if counter:
                counter(n)
    if chunk:
        yield "".join(chunk).encode()
    if counter:
        counter(n)


def csv_chunks(dialect: Dialect, header: Iterable[str], rows: Iterable[Iterable],
               counter=None) -> Iterator[bytes]:
    """Encode ``rows`` (already formatted) as CSV bytes, a chunk of rows at a time.

    ``counter``, if given, is called with the number of data rows written so
    far after each chunk (for progress bars and the audit log).
    """
    buffer = io.StringIO()
    writer = dialect.writer(buffer)
    writer.writerow(header)
    head = buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    yield (b"\xef\xbb\xbf" + head) if dialect.bom else head
    n = 0
    writerow = writer.writerow
    for n, row in enumerate(rows, 1):
        writerow(row)
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            if counter:
                counter(n)
    rest = buffer.getvalue()
    if rest:
        yield rest.encode()
    if counter:
        counter(n)
