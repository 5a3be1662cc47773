"""COPY's text lines become the rows a cursor gives (feedback/services/exports/pgcopy.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import Date, Enum, Integer, String, column, literal_column, select

from feedback.services.exports import pgcopy
from feedback.services.exports.rows import raw


def parse(lines: list[bytes], ints=(), width=None) -> list[tuple]:
    width = width or lines[0].count(b"\t") + 1
    return list(pgcopy._parse(lines, list(ints), width))


@pytest.mark.parametrize(("field", "value"), [
    (rb"plain", "plain"),
    (rb"a\\b", "a\\b"),
    (rb"tab\there", "tab\there"),
    (rb"line\nend\r", "line\nend\r"),
    (rb"\b\f\v", "\b\f\v"),
    (rb"\\N", "\\N"),
    (rb"\101\x42\7", "AB\x07"),
    (rb"\303\246", "æ"),  # octal escapes are bytes of the UTF-8
    (rb"\q\.", "q."),  # any other character stands for itself
    ("😀\u200f\u202e".encode(), "😀\u200f\u202e"),
])
def test_escapes_of_the_text_format_are_undone(field, value):
    assert parse([field + b"\t" + b"x\n"]) == [(value, "x")]


def test_null_is_none_and_ints_are_ints():
    lines = [b"\\N\t12\t\\N\ta\\\\N\n", b"b\t\\N\t-3\t\\N\n", b"c\t0\t7\t\\\\\n"]
    assert parse(lines, ints=(1, 2)) == [
        (None, 12, None, "a\\N"), ("b", None, -3, None), ("c", 0, 7, "\\")]


def test_a_line_with_the_wrong_number_of_fields_is_an_error():
    with pytest.raises(ValueError):
        parse([b"a\tb\n", b"c\n"], width=2)


def test_only_text_and_integer_columns_are_read_with_copy():
    text = column("t", String())
    assert pgcopy.supported(select(raw(literal_column("x", Date()), "d"), text,
                                   column("n", Integer())))
    assert not pgcopy.supported(select(column("d", Date())))
    assert not pgcopy.supported(select(column("e", Enum("a", "b"))))
