"""An export's rows read with PostgreSQL's ``COPY (query) TO STDOUT``, not a cursor.

A big export reads every row once, in order, as text (:func:`rows.raw`). A
server-side cursor fetches them a batch at a time, the server waiting while
the export formats each batch, with a plan made for the first tenth of the
rows; ``COPY`` plans for all of them and sends them as one stream of text
lines while the export works (docs/benchmarks.md has the figures).

The rows are the tuples the cursor gives: text columns as ``str``, integer
columns as ``int``, NULL as ``None``; psycopg reads and parses them one line
at a time, so memory stays flat however big the export is.

``COPY`` takes no server-side parameters: the statement is compiled for the
session's dialect with its ``IN`` lists expanded, each value goes through its
type's bind processor, and psycopg's client-side binding
(:class:`psycopg.ClientCursor`) quotes the values, as it would for any query.
No user text is ever pasted into the SQL by this module. The ``COPY`` runs on
the session's own connection, in its transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Integer, Select, String
from sqlalchemy.engine import Connection


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

    psycopg parses each line in C (``Copy.rows``: escapes undone, ``\\N`` as
    ``None``) and loads each field as text or as an integer, as a cursor does.
    A context: leaving it early (an abandoned download) cancels the ``COPY``;
    the caller then rolls the transaction back, as after any error.
    """
    import psycopg

    sql, params = bound(stmt, connection)
    types = ["int8" if isinstance(column.type, Integer) else "text"
             for column in stmt.selected_columns]
    driver = connection.connection.driver_connection
    try:
        with psycopg.ClientCursor(driver) as cursor, cursor.copy(
                f"COPY ({sql}) TO STDOUT (FORMAT text)", params) as copy:
            copy.set_types(types)
            rows = copy.rows()
            yield rows
            if next(rows, None) is not None:
                # Left before the end: psycopg cancels a COPY left with an exception.
                raise _Left
    except _Left:
        pass


class _Left(Exception):
    """The caller left :func:`copy_rows` before the last row."""
