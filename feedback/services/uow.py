"""Transactions: services start writes here so SQLite takes its write lock up front."""

from feedback.extensions import db


def begin_write(*, keep_reads: bool = False) -> None:
    """End any read transaction and begin a write transaction.

    On SQLite this emits ``BEGIN IMMEDIATE``, so two writers queue on the busy
    timeout instead of one failing when it upgrades a read lock.

    ``keep_reads``: on PostgreSQL, where a transaction that has only read can
    go on to write (each statement sees what is committed; plain reads take no
    locks), go on in it instead of committing and beginning again: two round
    trips fewer on a hot path. Only when nothing is pending in the session.
    """
    session = db.session()
    if session.in_transaction():
        if (keep_reads and session.get_bind().dialect.name != "sqlite"
                and not (session.new or session.dirty or session.deleted)):
            return
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})
