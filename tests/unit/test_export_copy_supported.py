"""Which statements an export reads with COPY (feedback/services/exports/pgcopy.py)."""

from __future__ import annotations

from sqlalchemy import Date, Enum, Integer, String, column, literal_column, select

from feedback.services.exports import pgcopy
from feedback.services.exports.rows import raw


def test_only_text_and_integer_columns_are_read_with_copy():
    text = column("t", String())
    assert pgcopy.supported(select(raw(literal_column("x", Date()), "d"), text,
                                   column("n", Integer())))
    assert not pgcopy.supported(select(column("d", Date())))
    assert not pgcopy.supported(select(column("e", Enum("a", "b"))))
