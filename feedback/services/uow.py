"""Transactions: services start writes here so SQLite takes its write lock up front."""

from feedback.extensions import db


def begin_write() -> None:
    """End any read transaction and begin a write transaction.

    On SQLite this emits ``BEGIN IMMEDIATE``, so two writers queue on the busy
    timeout instead of one failing when it upgrades a read lock.
    """
    session = db.session()
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})
