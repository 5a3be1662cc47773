"""An export's rows read with PostgreSQL's ``COPY (query) TO STDOUT``, not a cursor.

A big export reads every row once, in order, as text (:func:`rows.raw`). A
server-side cursor makes the driver build a row object and a Python value for
every column of every row; ``COPY`` sends the same rows as lines of text that
are split here, about three times faster at 10⁶ answers (docs/benchmarks.md).

The rows are the tuples the cursor gives: text columns as ``str``, integer
columns as ``int``, NULL as ``None``. Lines are read and split in bounded
batches, so memory stays flat however big the export is.

``COPY`` takes no server-side parameters: the statement is compiled for the
session's dialect with its ``IN`` lists expanded, each value goes through its
type's bind processor, and psycopg's client-side binding
(:class:`psycopg.ClientCursor`) quotes the values, as it would for any query.
No user text is ever pasted into the SQL by this module. The ``COPY`` runs on
the session's own connection, in its transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain, islice

from sqlalchemy import Integer, Select, String
from sqlalchemy.engine import Connection

#: Lines split at a time (a batch's text is at most this many rows).
BATCH_ROWS = 2000

# The escapes of COPY's text format (PostgreSQL's documentation, COPY, "Text Format").
_SIMPLE = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.))", re.DOTALL)


def _unescaped(match: re.Match) -> bytes:
    octal, hexa, char = match.groups()
    if octal is not None:
        return bytes((int(octal, 8) & 0xFF,))
    if hexa is not None:
        return bytes((int(hexa, 16),))
    return _SIMPLE.get(char, char)


def unescape(field: str) -> str:
    """One field of a ``COPY`` text line as the value it stands for (not ``\\N``)."""
    # Octal and hex escapes are bytes: unescape the UTF-8, then decode.
    return _ESCAPE.sub(_unescaped, field.encode()).decode()


def supported(stmt: Select) -> bool:
    """Whether every column of ``stmt`` reads the same through ``COPY`` as through a cursor.

    Text (``String`` and :func:`rows.raw`, which the driver gives as ``str``
    unchanged) and integers; anything else (a date, a UUID, an enum) would
    need the driver's conversion.
    """
    for column in stmt.selected_columns:
        kind = column.type
        if isinstance(kind, Integer):
            continue
        if type(kind) is not String:
            return False
    return True


def bound(stmt: Select, connection: Connection) -> tuple[str, dict]:
    """``stmt`` as SQL for psycopg with its parameters, each processed as SQLAlchemy would."""
    dialect = connection.dialect
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    # The same statement and parameters, with the names each IN list became.
    state = compiled.construct_expanded_state()
    if state.statement != compiled.string:
        raise RuntimeError("the expanded statement differs from the compiled one")
    escaped = compiled.escaped_bind_names or {}
    processors = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        key = escaped.get(name, name)
        for expanded in state.parameter_expansion.get(name, [key]):
            processors[expanded] = process
    params = {}
    for key, value in state.parameters.items():
        process = processors[key]  # a parameter without its bind would be a bug: fail
        params[key] = value if process is None or value is None else process(value)
    return compiled.string, params


@contextmanager
def copy_rows(stmt: Select, connection: Connection) -> Iterator[Iterator[tuple]]:
    """The rows of ``stmt`` (see :func:`supported`) read with ``COPY`` on ``connection``.

    A context: leaving it early (an abandoned download) cancels the ``COPY``;
    the transaction is then rolled back by the caller, as after any error.
    """
    batches = _batches(stmt, connection)
    try:
        # Row by row in C: Python runs once per batch, not once per row.
        yield chain.from_iterable(batches)
    finally:
        batches.close()


def _batches(stmt: Select, connection: Connection) -> Iterator[Iterator[tuple]]:
    import psycopg

    sql, params = bound(stmt, connection)
    ints = [n for n, column in enumerate(stmt.selected_columns)
            if isinstance(column.type, Integer)]
    width = len(stmt.selected_columns)
    driver = connection.connection.driver_connection
    with psycopg.ClientCursor(driver) as cursor, cursor.copy(
            f"COPY ({sql}) TO STDOUT (FORMAT text, ENCODING 'UTF8')", params) as copy:
        lines = iter(copy)  # one line (bytes) per row
        while batch := list(islice(lines, BATCH_ROWS)):
            yield _parse(batch, ints, width)


_NULL = "\\N"
#: Maps COPY's NULL to None and leaves every other text as it is (``map(get, col, col)``).
_NULLS = {_NULL: None}


def _parse(batch: list, ints: list[int], width: int) -> Iterator[tuple]:
    """The rows of a batch of COPY lines, converted column by column (in C, mostly)."""
    text = b"".join(batch).decode()
    # Tabs and line ends in the data are escaped: every tab and line end is a boundary.
    fields = text.replace("\n", "\t").split("\t")
    fields.pop()  # after the last line's end
    if len(fields) != width * len(batch):
        raise ValueError(f"{len(batch)} COPY lines of {width} columns gave {len(fields)} fields")
    columns = [fields[n::width] for n in range(width)]
    if backslashes := text.count("\\"):
        nulls = [column.count(_NULL) for column in columns]
        escaped = backslashes != sum(nulls)  # a backslash other than a NULL's
        for n, column in enumerate(columns):
            if escaped and "\\" in "\t".join(column):
                columns[n] = [None if f == _NULL else unescape(f) if "\\" in f else f
                              for f in column]
            elif nulls[n]:
                columns[n] = list(map(_NULLS.get, column, column))
    for n in ints:
        column = columns[n]
        if None in column:
            columns[n] = [None if f is None else int(f) for f in column]
        else:
            columns[n] = list(map(int, column))
    return zip(*columns, strict=True)
