"""The export formats agree with each other, and survive a round trip through the import.

One world per database engine (tests/integration/export_world.py): a year of
answers in every questionnaire. Its long file is imported into an empty
database and exported again; the wide file is pivoted back into the long
one; the .xlsx and .sav files are read with openpyxl and pyreadstat and
compared with the CSV files, labels included.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass

import pytest
from flask import Flask, render_template
from sqlalchemy import func, select

from feedback import clock
from feedback.extensions import db
from feedback.models import Answer, Case, Organisation, Response, Role, User
from feedback.services import accounts, exports, imports
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from tests import factories as f
from tests.conftest import FROZEN_NOW, migrated_app
from tests.integration import export_world

ID_COLUMNS = ("response_id", "case_id", "respondent_id", "meeting_id")


@dataclass
class Source:
    app: Flask
    responses: int
    answers: int
    unanswered: int


@pytest.fixture(scope="module")
def source(backend, tmp_path_factory):
    """The world, committed in a database of its own (module-wide: it takes a while)."""
    clock.freeze(FROZEN_NOW)
    try:
        with migrated_app(backend, tmp_path_factory) as app:
            with app.app_context():
                built = export_world.build()
                counts = Source(app, built.responses, built.answers, built.unanswered)
            yield counts
    finally:
        clock.freeze(None)


def export(app: Flask, username: str, kind="long", dialect="rfc4180", **filters) -> bytes:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        actor = Actor.staff(user)
        request = exports.ExportRequest(
            kind=kind, dialect=exports.dialect(dialect),
            filters=exports.parse(filters, exports.choices_for(actor)), language="en")
        return b"".join(exports.start(actor, request, render_html=lambda c: render_template(
            "reports/codebook_file.html", codebook=c)))


def table(data: bytes, dialect="rfc4180") -> tuple[list[str], list[dict]]:
    delimiter = ";" if dialect == "excel-da" else ","
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def same_up_to_renaming(first: list[dict], second: list[dict]) -> None:
    """Row for row equal, except that each id column is consistently renamed (a bijection)."""
    assert len(first) == len(second)
    renames = {c: {} for c in ID_COLUMNS}
    for n, (a, b) in enumerate(zip(first, second, strict=True)):
        for column in a:
            if column in renames:
                seen = renames[column].setdefault(a[column], b[column])
                assert seen == b[column], (n, column, a[column], seen, b[column])
            else:
                assert a[column] == b[column], (n, column, a[column], b[column])
    for column, mapping in renames.items():
        assert len(set(mapping.values())) == len(mapping), f"{column}: two ids became one"
        assert all(a != b for a, b in mapping.items()), f"{column}: a pseudonym survived"


# --- the round trip ------------------------------------------------------------------

@pytest.mark.parametrize("dialect", ["rfc4180", "excel-da"])
def test_export_import_export_gives_the_same_rows(source, dialect, backend, tmp_path_factory,
                                                  tmp_path):
    first = export(source.app, "ali", dialect=dialect)
    header, rows = table(first, dialect)
    assert len(rows) == source.answers
    # The fixture covers what the import must handle.
    assert {r["team"] for r in rows} == {"Nord", "'=Formel", "Syd; Vest"}
    assert {r["instrument"] for r in rows} >= {"ors", "cors", "ycors", "srs", "csrs", "ycsrs",
                                               "child-meeting", "child-ruler",
                                               "parent-coordination"}
    assert {r["missing_code"] for r in rows} == {"", "skipped", "dont_know"}
    clock.freeze(FROZEN_NOW)
    with migrated_app(backend, tmp_path_factory) as target, target.app_context():
        org = Organisation(name="Ny kommune")
        db.session.add(org)
        db.session.commit()
        for name in export_world.TEAMS:
            accounts.create_team(org, name)
        admin = f.user(org, "admin", Role.admin)
        f.user(org, "ali", Role.analyst)
        db.session.commit()

        batch = imports.run(Actor.staff(admin), io.BytesIO(first), source="gammel",
                            mode="all_or_nothing", report_dir=tmp_path)
        assert (batch.status, batch.refusal) == ("completed", None)
        assert (batch.rows_read, batch.rows_accepted, batch.rows_rejected) == (
            source.answers, source.answers, 0)
        assert batch.responses_written == source.responses

        # The birthday fell between two meetings of the first case: its month is back.
        born_in_march = db.session.scalar(select(Case).where(Case.child_birth_year == 2016))
        assert born_in_march.child_birth_month == 3
        assert born_in_march.responsible_id is None
        assert born_in_march.reference.startswith("import:gammel:")

        second = export(target, "ali", dialect=dialect)

        # Importing the same file again adds nothing.
        again = imports.run(Actor.staff(admin), io.BytesIO(first), source="gammel",
                            mode="all_or_nothing", report_dir=tmp_path)
        assert (again.status, again.rows_unchanged, again.responses_written) == (
            "completed", source.answers, 0)
        assert db.session.scalar(select(func.count()).select_from(Answer)) == source.answers
        assert db.session.scalar(select(func.count()).select_from(Response)) == source.responses

    assert second.startswith(b"\xef\xbb\xbf") == (dialect == "excel-da")
    second_header, second_rows = table(second, dialect)
    assert second_header == header
    same_up_to_renaming(rows, second_rows)


# --- the wide file is the long file, pivoted -----------------------------------------

def _number(text: str) -> float | None:
    return None if text == "" else float(text.replace(",", "."))


@pytest.mark.parametrize("dialect", ["rfc4180", "excel-da"])
def test_the_wide_files_are_the_long_file_pivoted(source, dialect):
    files = members(export(source.app, "ali", kind="zip", dialect=dialect))
    codebook = json.loads(files["codebook.json"])
    _, long_rows = table(files["long.csv"], dialect)
    positions = {w["family"]: w["positions"] for w in codebook["wide"]}
    scoring = {(i["instrument"], i["version"]): i["scoring"] for i in codebook["instruments"]}

    pivoted: dict[str, dict] = {}
    for r in long_rows:
        response = pivoted.setdefault(r["response_id"], {"head": r, "values": {}})
        keys = positions[r["family"]][f"{r['instrument']} {r['instrument_version']}"]
        response["values"][keys.index(r["item"]) + 1] = (r["value"], r["missing_code"])

    wide_rows = []
    for family in positions:
        header, rows = table(files[f"wide-{family}.csv"], dialect)
        n = max(len(keys) for keys in positions[family].values())
        assert [c for c in header if c.startswith("item_") and "missing" not in c] == [
            f"item_{k}" for k in range(1, n + 1)]
        for w in rows:
            wide_rows.append(w)
            p = pivoted[w["response_id"]]
            for column in ("case_id", "respondent_id", "respondent_role", "subject", "team",
                           "meeting_id", "meeting_date", "instrument", "instrument_version",
                           "family", "submitted_at", "locale", "child_age_at_meeting"):
                assert w[column] == p["head"][column], column
            values = [_number(p["values"].get(k, ("", ""))[0]) for k in range(1, n + 1)]
            for k in range(1, n + 1):
                value, missing = p["values"].get(k, ("", ""))
                assert (w[f"item_{k}"], w[f"item_{k}_missing"]) == (value, missing)
            asked = [v for k, v in enumerate(values, 1) if k in p["values"]]
            how = scoring[(w["instrument"], w["instrument_version"])]
            if how == "none" or None in asked:
                assert w["total"] == ""
            elif how == "sum":
                assert _number(w["total"]) == pytest.approx(sum(asked))
            else:
                assert _number(w["total"]) == pytest.approx(round(sum(asked) / len(asked), 1))
    assert sorted(w["response_id"] for w in wide_rows) == sorted(pivoted)
    assert len(wide_rows) == source.responses

    # The codebook counts what was written and says how it was made.
    by_name = {entry["name"]: entry["rows"] for entry in codebook["files"]}
    assert by_name["long.csv"] == source.answers
    assert sum(v for k, v in by_name.items() if k.startswith("wide-")) == source.responses
    assert codebook["parameters"]["dialect"]["name"] == dialect
    assert "codebook.html" in files and b"item_1" in files["codebook.html"]


def test_the_ruler_band_and_the_themes_follow_the_pack(source):
    files = members(export(source.app, "ali", kind="wide", family=["ruler", "coordination"]))
    assert set(files) == {"wide-ruler.csv", "wide-coordination.csv", "codebook.json",
                          "codebook.html"}
    _, ruler = table(files["wide-ruler.csv"])
    # The ruler's bands: 1–2 threatened, 3–5 at risk, 6–7 vulnerable, 8–9 moderate, 10 thriving.
    names = ["Threatened", "At risk", "Vulnerable", "Moderate well-being", "Thriving"]
    for r in ruler:
        total = float(r["total"])
        band = 1 if total <= 2 else 2 if total <= 5 else 3 if total <= 7 else 4 if total <= 9 \
            else 5
        assert (r["band"], r["band_label"]) == (str(band), names[band - 1])
    assert len({r["band"] for r in ruler}) >= 3
    _, likert = table(files["wide-coordination.csv"])
    skipped, whole = likert
    assert skipped["total"] == "" and skipped["theme_trust"] == "" and skipped["theme_coherence"]
    assert whole["theme_coherence"] == "2.5" and whole["total"] == "3.5"


# --- Excel and SPSS, read back with their own libraries --------------------------------

def test_the_workbook_has_the_wide_table_with_numbers_dates_and_text(source, tmp_path):
    import openpyxl

    files = members(export(source.app, "ali", kind="wide"))
    path = tmp_path / "wide.xlsx"
    path.write_bytes(export(source.app, "ali", kind="xlsx"))
    workbook = openpyxl.load_workbook(path, read_only=True)
    families = sorted(name[len("wide-"):-len(".csv")] for name in files if name.endswith(".csv"))
    assert sorted(workbook.sheetnames) == families
    for family in families:
        header, rows = table(files[f"wide-{family}.csv"])
        sheet = list(workbook[family].iter_rows(values_only=True))
        assert list(sheet[0]) == header
        assert len(sheet) - 1 == len(rows)
        for cells, row in zip(sheet[1:], rows, strict=True):
            # openpyxl's read-only mode leaves out empty cells at the end of a row.
            cells = list(cells) + [None] * (len(header) - len(cells))
            for column, cell in zip(header, cells, strict=True):
                text = row[column]
                if column == "team":
                    assert cell == text.removeprefix("'")  # text, never a formula
                elif column in ("case_opened", "case_closed", "meeting_date"):
                    assert (cell.date().isoformat() if cell else "") == text
                elif cell is None:
                    assert text == ""
                elif isinstance(cell, (int, float)):
                    assert cell == pytest.approx(float(text)), column
                else:
                    assert cell == text, column
    workbook.close()


def test_the_spss_files_carry_labels_and_user_missing_codes(source, tmp_path):
    import pyreadstat

    csv_files = members(export(source.app, "ali", kind="wide"))
    sav_files = members(export(source.app, "ali", kind="sav"))
    families = sorted(n[len("wide-"):-len(".csv")] for n in csv_files if n.endswith(".csv"))
    assert sorted(n[:-len(".sav")] for n in sav_files if n.endswith(".sav")) == families
    for family in families:
        header, rows = table(csv_files[f"wide-{family}.csv"])
        path = tmp_path / f"{family}.sav"
        path.write_bytes(sav_files[f"{family}.sav"])
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
        assert list(frame.columns) == header
        assert len(frame) == len(rows)
        items = [c for c in header if c.startswith("item_") and not c.endswith("_missing")]
        for column in items:
            assert meta.missing_ranges[column] == [{"lo": -1.0, "hi": -1.0},
                                                   {"lo": -2.0, "hi": -2.0}]
            assert meta.variable_value_labels[column][-1.0] == "skipped"
        for record, row in zip(frame.to_dict("records"), rows, strict=True):
            for column in header:
                value, text = record[column], row[column]
                if column in items:
                    code = row[f"{column}_missing"]
                    expected = {"skipped": -1.0, "dont_know": -2.0}.get(code)
                    if expected is None and text:
                        expected = float(text)
                    assert (value == expected) if expected is not None else value != value
                elif column in ("case_opened", "case_closed", "meeting_date"):
                    if text:
                        assert value.isoformat() == text, column
                    else:
                        assert value is None or value != value, column  # missing
                elif column == "team":
                    assert value == text.removeprefix("'")
                elif isinstance(value, float):
                    assert (value == float(text)) if text else value != value, column
                else:
                    assert (value or "") == text, column
    _, meta = pyreadstat.read_sav(str(tmp_path / "ruler.sav"))
    assert meta.variable_value_labels["band"] == {1.0: "Threatened", 2.0: "At risk",
                                                  3.0: "Vulnerable", 4.0: "Moderate well-being",
                                                  5.0: "Thriving"}
    assert meta.variable_value_labels["item_1"][1.0] == "Threatened"  # the smiley's ends
    assert meta.variable_value_labels["item_1"][10.0] == "Thriving"
    _, meta = pyreadstat.read_sav(str(tmp_path / "meeting-experience.sav"))
    assert meta.variable_value_labels["item_1"][1.0] == "Not at all"
    assert "child-meeting 1.0: say_everything" in meta.column_names_to_labels["item_1"]
    _, meta = pyreadstat.read_sav(str(tmp_path / "coordination.sav"))
    assert meta.variable_value_labels["item_1"][-2.0] == "dont_know"
    assert len([v for v in meta.variable_value_labels["item_1"] if v > 0]) == 6  # 1–6 labels


def test_an_excel_export_beyond_the_cap_is_refused_with_a_message(source):
    source.app.config["FEEDBACK_EXPORT_FILE_MAX_ROWS"] = 3
    try:
        with pytest.raises(Invalid) as refused:
            export(source.app, "ali", kind="xlsx")
        assert refused.value.code == "export_too_many_rows"
        assert refused.value.details["limit"] == 3
    finally:
        source.app.config["FEEDBACK_EXPORT_FILE_MAX_ROWS"] = 500_000
