"""The pieces of exports and imports that need no database: dialects, ids, filters, files."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import date, datetime

import pytest

from feedback.services.errors import Invalid
from feedback.services.exports import dialects
from feedback.services.exports.filters import DataFilters, FilterChoices, parse
from feedback.services.exports.package import zip_stream
from feedback.services.exports.pseudonyms import Pseudonyms, pseudonym
from feedback.services.exports.rows import age_on, iso_date, paired, timestamp
from feedback.services.imports import reader


@pytest.mark.parametrize("text", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tTab", "\rCR"])
def test_formula_cells_get_an_apostrophe_and_lose_it_on_import(text):
    safe = dialects.safe_text(text)
    assert safe == "'" + text
    assert dialects.restore_text(safe) == text


@pytest.mark.parametrize("text", ["Nord", "'quoted", "Søs 😀", "", "'"])
def test_other_text_is_left_alone_both_ways(text):
    assert dialects.safe_text(text) == text
    assert dialects.restore_text(text) == text


def test_numbers_follow_the_dialect():
    assert dialects.RFC4180.number(73) == "7.3"
    assert dialects.EXCEL_DA.number(73) == "7,3"
    assert dialects.EXCEL_DA.number(100) == "10,0"
    assert dialects.RFC4180.number(None) == ""
    assert dialects.EXCEL_DA.item_values()[25] == "2,5"
    with pytest.raises(Invalid):
        dialects.dialect("excel-us")


def test_a_pseudonym_is_the_same_whatever_the_driver_gave():
    key = b"key"
    internal = uuid.uuid4()
    ids = Pseudonyms(key)
    assert ids(internal.hex) == ids(internal) == ids.once(internal.hex) == pseudonym(key, internal)
    assert len(ids(internal)) == 16 and ids(None) == ""
    assert Pseudonyms(b"other")(internal) != ids(internal)


def test_times_and_dates_are_written_the_same_from_both_engines():
    assert timestamp("2025-06-02 08:03:00.000000") == timestamp(datetime(2025, 6, 2, 8, 3)) \
        == "2025-06-02T08:03:00Z"
    assert timestamp("2025-06-02 08:03:00.120000") == timestamp(
        datetime(2025, 6, 2, 8, 3, 0, 120000)) == "2025-06-02T08:03:00.120000Z"
    assert iso_date("2025-06-02") == iso_date(date(2025, 6, 2)) == "2025-06-02"
    assert age_on(2016, 3, "2025-02-28") == 8 and age_on(2016, 3, date(2025, 3, 1)) == 9
    assert age_on(2010, None, "2025-06-30") == 14 and age_on(2010, None, "2025-07-01") == 15


CHOICES = FilterChoices(teams=("Nord", "Syd"), instruments=("ors", "cors"),
                        families=("outcome",), tags=("forsøg",))


def _response(submitted: str, rid: str) -> tuple:
    # A responses_query row: its id first, submitted_at at position 18.
    return (rid, *[None] * 17, submitted, "da", 100)


def _item(submitted: str, rid: str, key: str) -> tuple:
    return (submitted, rid, key, 10, None)


def test_each_answer_is_paired_with_its_response_across_the_two_reads():
    a, b, c = (_response("2026-01-01 10:00:00.000000", "aa"),
               _response("2026-01-01 10:00:00.000000", "bb"),
               _response("2026-01-02 09:00:00.000000", "11"))
    items = [_item(r[18], r[0], k) for r in (a, b, c) for k in ("x", "y")]
    assert [(h[0], i[2]) for h, i in paired([a, b, c], items)] == [
        ("aa", "x"), ("aa", "y"), ("bb", "x"), ("bb", "y"), ("11", "x"), ("11", "y")]


def test_what_changed_between_the_two_reads_is_left_out_not_mispaired():
    # PostgreSQL reads each statement at its own moment: "bb" was voided after the
    # responses were read (no items), "cc" arrived after (no response row).
    a, b, d = (_response("2026-01-01 10:00:00.000000", "aa"),
               _response("2026-01-01 11:00:00.000000", "bb"),
               _response("2026-01-03 08:00:00.000000", "dd"))
    items = [_item(a[18], "aa", "x"), _item("2026-01-02 12:00:00.000000", "cc", "x"),
             _item(d[18], "dd", "x"), _item(d[18], "dd", "y")]
    assert [(h[0], i[1], i[2]) for h, i in paired([a, b, d], items)] == [
        ("aa", "aa", "x"), ("dd", "dd", "x"), ("dd", "dd", "y")]
    assert list(paired([], items)) == []
    assert list(paired([a], [])) == []


def test_filters_parse_lists_dates_and_ignore_other_fields():
    found = parse({"team": ["Syd", "Nord", "Syd", ""], "meeting_from": "2025-01-01",
                   "case_status": "open", "kind": "long"}, CHOICES)
    assert found == DataFilters(teams=("Syd", "Nord"), meeting_from=date(2025, 1, 1),
                                case_status="open")
    assert parse({}, CHOICES).empty
    assert '"teams":["Syd","Nord"]' in found.summary()


@pytest.mark.parametrize(("data", "field"), [
    ({"team": "Øst"}, "team"),
    ({"tag": "andet"}, "tag"),
    ({"role": "aunt"}, "role"),
    ({"case_status": "ajar"}, "case_status"),
    ({"opened_to": "2025-02-30"}, "opened_to"),
    ({"meeting_from": "2025-06-01", "meeting_to": "2025-05-31"}, "meeting_to"),
])
def test_filters_refuse_what_does_not_exist_naming_the_field(data, field):
    with pytest.raises(Invalid) as refused:
        parse(data, CHOICES)
    assert refused.value.details["field"] == field


def test_a_long_filter_list_is_counted_in_the_audit_summary():
    many = DataFilters(teams=tuple(f"Team {n}" for n in range(200)))
    assert many.summary() == '{"teams":"200 values"}'


def test_a_zip_is_written_as_it_goes_and_reads_back():
    members = [("a.csv", lambda: [b"x,y\r\n", b"1,2\r\n"]),
               ("b.json", lambda: [b"{}"])]
    pieces = list(zip_stream(members, datetime(2026, 3, 11, 10, 0)))
    assert len(pieces) > 1
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.testzip() is None
        assert archive.read("a.csv") == b"x,y\r\n1,2\r\n" and archive.read("b.json") == b"{}"


HEADER = ",".join(reader.LONG_COLUMNS)


def test_the_reader_finds_the_dialect_and_the_lines_records_start_on():
    row = ",".join(["x"] * len(reader.LONG_COLUMNS))
    quoted = ",".join(['"two\nlines"'] + ["x"] * (len(reader.LONG_COLUMNS) - 1))
    data = f"{HEADER}\r\n{row}\r\n\r\n{quoted}\r\n{row}\r\nshort,line\r\n".encode()
    fh = io.BytesIO(reader.BOM + data.replace(b",", b";"))
    shape = reader.shape(fh)
    assert shape.delimiter == ";" and shape.bom
    found = [(r.line, r.empty, r.problem and r.problem[1]) for r in reader.records(fh, shape)]
    assert found == [(2, False, None), (3, True, None), (4, False, None), (6, False, None),
                     (7, False, "import_field_count")]


@pytest.mark.parametrize(("data", "code"), [
    (b"", "import_empty_file"),
    (b"name,score\r\n", "import_header"),
    (HEADER.encode() + b"\r\n" + "Sønder".encode("cp1252") + b"\r\n", "import_not_utf8"),
])
def test_the_reader_refuses_a_file_that_is_not_the_long_format(data, code):
    fh = io.BytesIO(data)
    with pytest.raises(reader.FileRefused) as refused:
        list(reader.records(fh, reader.shape(fh)))
    assert refused.value.code == code
