"""The long format: one row per item answer (decision 16), streamed row by row."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from feedback.services.exports.dialects import Dialect
from feedback.services.exports.rows import (
    ITEM,
    LOCALE,
    MISSING,
    RESPONSE,
    SUBMITTED,
    VALUE,
    ResponseFormatter,
    timestamp,
)


def long_rows(result: Iterable, formatter: ResponseFormatter, dialect: Dialect) -> Iterator[tuple]:
    """Formatted long rows (tuples) from answer rows (:func:`rows.answers_query`), in order."""
    values = dialect.item_values()
    last = head = tail = None
    for r in result:
        if r[RESPONSE] != last:
            last = r[RESPONSE]
            head = formatter.head(r)
            tail = (timestamp(r[SUBMITTED]), r[LOCALE])
        value = r[VALUE]
        yield (*head, r[ITEM], "" if value is None else values[value], r[MISSING] or "", *tail)


def long_lines(result: Iterable, formatter: ResponseFormatter, dialect: Dialect) -> Iterator[str]:
    """The same rows as CSV lines, for the hot path of a big export.

    What describes the response goes through the CSV writer once per response
    (quoting a team called ``Syd; Vest``); per answer only the item key (a
    pack key: lower-case letters, digits, ``-`` and ``_``), the value (digits
    and the decimal mark) and the missing code are added, none of which ever
    needs quoting in either dialect.
    """
    buffer = io.StringIO()
    writer = dialect.writer(buffer)
    end = dialect.line_terminator
    cut = -len(end)
    sep = dialect.delimiter
    values = [sep + v + sep for v in dialect.item_values()]
    empty = sep + sep
    last = head = tail = None
    for r in result:
        if r[RESPONSE] != last:
            last = r[RESPONSE]
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(formatter.head(r))
            head = buffer.getvalue()[:cut] + sep
            buffer.seek(0)
            buffer.truncate()
            writer.writerow((timestamp(r[SUBMITTED]), r[LOCALE]))
            tail = sep + buffer.getvalue()
        value = r[VALUE]
        yield (head + r[ITEM] + (empty if value is None else values[value])
               + (r[MISSING] or "") + tail)
