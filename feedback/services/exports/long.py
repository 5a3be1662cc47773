"""The long format: one row per item answer (decision 16), streamed row by row."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from feedback.services.exports.dialects import Dialect
from feedback.services.exports.rows import (
    ITEM_KEY,
    ITEM_MISSING,
    ITEM_VALUE,
    LOCALE,
    SUBMITTED,
    ResponseFormatter,
    timestamp,
)


def long_lines(pairs: Iterable[tuple], formatter: ResponseFormatter,
               dialect: Dialect) -> Iterator[str]:
    """CSV lines from (response row, item row) pairs (:func:`rows.paired`), in order.

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
    for r, item in pairs:
        if r is not last:
            last = r
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(formatter.head(r))
            head = buffer.getvalue()[:cut] + sep
            buffer.seek(0)
            buffer.truncate()
            writer.writerow((timestamp(r[SUBMITTED]), r[LOCALE]))
            tail = sep + buffer.getvalue()
        value = item[ITEM_VALUE]
        yield (head + item[ITEM_KEY] + (empty if value is None else values[value])
               + (item[ITEM_MISSING] or "") + tail)
