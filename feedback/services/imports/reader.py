"""Reading a long CSV file to import: either dialect, line by line, never all at once.

The file must be UTF-8 (with or without a byte-order mark); the separator is
read from the header line, which must name exactly the long format's
columns. Records come with the line they start on; a line longer than
:data:`MAX_LINE_BYTES`, a malformed record or a wrong number of fields is a
problem of that record, not of the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from feedback.services.errors import DomainError
from feedback.services.exports.rows import LONG_COLUMNS

BOM = b"\xef\xbb\xbf"
#: Longer physical lines are rejected unread (a 50 MB field never reaches memory whole).
MAX_LINE_BYTES = 1024 * 1024


class FileRefused(DomainError):
    """The file as a whole cannot be read as the long format; ``details`` say why and where."""

    code = "import_file_refused"


@dataclass(frozen=True)
class FileShape:
    """What the header line told: the separator, the column order, a byte-order mark."""

    delimiter: str
    columns: tuple[str, ...]
    bom: bool


@dataclass
class Record:
    """One record of the file: its fields by column, or why it could not be read."""

    line: int
    fields: dict[str, str] | None = None
    #: (column, problem code, details) when the record could not be read.
    problem: tuple[str, str, dict] | None = None
    #: A blank line (or one with only separators): ignored, and reported as such.
    empty: bool = False


def _physical_lines(fh: BinaryIO, first: int) -> Iterator[tuple[int, str | None]]:
    """(line number, text) per physical line; text is None for a line that is too long."""
    number = first - 1
    while True:
        raw = fh.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while True:  # skip the rest of the line without keeping it
                rest = fh.readline(MAX_LINE_BYTES)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
            continue
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FileRefused("import_not_utf8", line=number) from None


def shape(fh: BinaryIO) -> FileShape:
    """Read the header line (leaving ``fh`` after it); :class:`FileRefused` if it is not ours."""
    fh.seek(0)
    bom = fh.read(3) == BOM
    if not bom:
        fh.seek(0)
    lines = _physical_lines(fh, 1)
    first = next(lines, None)
    if first is None:
        raise FileRefused("import_empty_file", line=1)
    _, text = first
    if text is None:
        raise FileRefused("import_header", line=1, missing=", ".join(LONG_COLUMNS))
    text = text.rstrip("\r\n")
    delimiter = ";" if text.count(";") > text.count(",") else ","
    header = next(csv.reader([text], delimiter=delimiter), [])
    header = [h.strip() for h in header]
    missing = [c for c in LONG_COLUMNS if c not in header]
    unknown = [h for h in header if h not in LONG_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise FileRefused("import_header", line=1, missing=", ".join(missing),
                          unknown=", ".join(u[:40] for u in unknown[:5]))
    return FileShape(delimiter, tuple(header), bom)


def records(fh: BinaryIO, file_shape: FileShape) -> Iterator[Record]:
    """The data records after the header, each with the line it starts on."""
    too_long: set[int] = set()

    def texts():
        for number, text in _physical_lines(fh, 2):
            if text is None:
                too_long.add(number)
                yield "\n"
            else:
                yield text

    reader = csv.reader(texts(), delimiter=file_shape.delimiter, strict=True)
    columns = file_shape.columns
    width = len(columns)
    consumed = 0
    while True:
        start = consumed + 2  # physical line numbers start after the header
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            consumed = reader.line_num
            yield Record(start, problem=("", "import_malformed", {"error": str(error)[:120]}))
            continue
        consumed = reader.line_num
        if start in too_long:
            too_long.discard(start)
            yield Record(start, problem=("", "import_line_too_long",
                                         {"limit": MAX_LINE_BYTES // 1024}))
            continue
        if not row or all(not field.strip() for field in row):
            yield Record(start, empty=True)
            continue
        if len(row) != width:
            yield Record(start, problem=("", "import_field_count",
                                         {"found": len(row), "expected": width}))
            continue
        yield Record(start, fields=dict(zip(columns, row, strict=True)))
