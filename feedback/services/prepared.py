"""Statements compiled once and run on the driver's cursor: the write path of submitting.

A submission's write transaction is four fixed statements. Through
SQLAlchemy's ``Connection.execute`` each costs about 45 µs of Python (cache key,
execution context, result), and on SQLite all of it is spent holding the
database's one write lock, which every other family submitting waits for
(issue 8). Here a statement is compiled once per dialect with the columns the
caller will give, its parameters converted by the column types' own bind
processors, and sent to the DBAPI cursor of the session's connection, inside
the session's transaction: the same SQL, the same values, about a tenth of the
time.

The engine's ``before_cursor_execute`` listeners are told of each statement as
SQLAlchemy tells them, so statement counts and logs see these too; the
driver's errors reach the caller as SQLAlchemy's (``IntegrityError``,
``OperationalError`` …), and a lost connection is invalidated, as SQLAlchemy
does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable


class Prepared:
    """One statement, compiled once per dialect and set of parameter keys (the keys of
    the rows it is given: an insert writes those columns)."""

    def __init__(self, statement: Executable):
        self.statement = statement
        self._compiled: dict[tuple, tuple[str, bool, list[tuple[str, str, Any]]]] = {}

    def _for(self, dialect: Dialect, row: Mapping[str, Any]):
        keys = tuple(row)
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(keys))
            names: Sequence[str] = (compiled.positiontup if compiled.positional
                                    else list(compiled.binds))
            params = []
            for name in names:
                bind = compiled.binds[name]
                if bind.key not in row:
                    raise KeyError(f"{bind.key} is not among the given keys {keys}")
                convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
                params.append((name, bind.key, convert))
            found = (str(compiled), bool(compiled.positional), params)
            self._compiled[(dialect.name, keys)] = found
        return found

    def _args(self, positional: bool, params, row: Mapping[str, Any]):
        if positional:
            return [row[key] if convert is None else convert(row[key])
                    for _name, key, convert in params]
        return {name: row[key] if convert is None else convert(row[key])
                for name, key, convert in params}

    def execute(self, conn: Connection, row: Mapping[str, Any]) -> int:
        """Run with one row of parameters; returns the number of rows changed."""
        sql, positional, params = self._for(conn.dialect, row)
        return _run(conn, sql, self._args(positional, params, row), False)

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> int:
        """Run once per row (all with the same keys), in one call to the driver."""
        sql, positional, params = self._for(conn.dialect, rows[0])
        return _run(conn, sql, [self._args(positional, params, row) for row in rows], True)


def _run(conn: Connection, sql: str, args, many: bool) -> int:
    dbapi_connection = conn.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        listeners = conn.dispatch.before_cursor_execute
        if listeners:
            listeners(conn, cursor, sql, args, None, many)
        if many:
            cursor.executemany(sql, args)
        else:
            cursor.execute(sql, args)
        return cursor.rowcount
    except conn.dialect.loaded_dbapi.Error as error:
        if conn.dialect.is_disconnect(error, dbapi_connection, cursor):
            conn.invalidate(error)
        raise DBAPIError.instance(sql, args, error, conn.dialect.loaded_dbapi.Error,
                                  dialect=conn.dialect) from error
    finally:
        cursor.close()
