"""The export page: filters that limit exactly what they say, clear 400s, dialects, audit."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from sqlalchemy import select

from feedback.models import AuditEvent
from feedback.services import accounts, exports
from feedback.services.actors import Actor
from tests import factories as f
from tests.conftest import TEST_CONFIG
from tests.integration import export_world

KEY = TEST_CONFIG["FEEDBACK_PSEUDONYM_KEY"].encode()


@pytest.fixture
def world(db):
    return export_world.build()


def rows_of(data: bytes, delimiter=",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=delimiter))


def post_export(client, **form):
    data = {"kind": "long", "dialect": "rfc4180"}
    data.update(form)
    return client.post("/reports/export", data=data)


def test_every_filter_limits_the_rows_to_exactly_what_it_says(client, world):
    f.login(client, world.analyst)
    everything = rows_of(post_export(client).get_data())
    assert len(everything) == world.answers
    tagged = exports.pseudonym(KEY, world.cases[0].id)
    cases = [
        ({"meeting_from": "2025-03-01", "meeting_to": "2025-07-01"},
         lambda r: "2025-03-01" <= r["meeting_date"] <= "2025-07-01"),
        ({"team": "Syd; Vest"}, lambda r: r["team"] == "Syd; Vest"),
        ({"team": ["Nord", "=Formel"]}, lambda r: r["team"] in ("Nord", "'=Formel")),
        ({"instrument": "ors"}, lambda r: r["instrument"] == "ors"),
        ({"family": "session"}, lambda r: r["family"] == "session"),
        ({"instrument": "child-ruler", "family": "meeting-experience"},
         lambda r: r["instrument"] in ("child-ruler", "child-meeting")),
        ({"role": ["mother", "father"]}, lambda r: r["respondent_role"] in ("mother", "father")),
        ({"case_status": "closed"}, lambda r: r["case_status"] == "closed"),
        ({"opened_from": "2025-02-01", "opened_to": "2025-02-28"},
         lambda r: "2025-02-01" <= r["case_opened"] <= "2025-02-28"),
        ({"tag": "forsøg"}, lambda r: r["case_id"] == tagged),
        ({"team": "Nord", "role": "child", "family": "outcome"},
         lambda r: r["team"] == "Nord" and r["respondent_role"] == "child"
         and r["family"] == "outcome"),
    ]
    for form, keep in cases:
        limited = rows_of(post_export(client, **form).get_data())
        expected = [r for r in everything if keep(r)]
        assert limited == expected, form
        assert 0 < len(limited) < len(everything), form


@pytest.mark.parametrize(("form", "message"), [
    ({"team": "Øst"}, "Øst"),
    ({"instrument": "ors2"}, "ors2"),
    ({"family": "outcomes"}, "outcomes"),
    ({"role": "grandmother"}, "grandmother"),
    ({"tag": "ukendt"}, "ukendt"),
    ({"case_status": "maybe"}, "maybe"),
    ({"meeting_from": "11-03-2025"}, "YYYY-MM-DD"),
    ({"opened_from": "2025-13-01"}, "YYYY-MM-DD"),
    ({"meeting_from": "2025-06-01", "meeting_to": "2025-01-01"}, "ends before it starts"),
    ({"kind": "pdf"}, "Not a valid choice"),
    ({"dialect": "excel-us"}, "Not a valid choice"),
])
def test_an_unknown_value_is_a_clear_400_and_no_export(client, world, db, form, message):
    f.login(client, world.analyst)
    client.post("/language", data={"locale": "en", "back": "/reports/"})
    answer = post_export(client, **form)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert message.replace("'", "&#39;") in page or message in page
    assert 'role="alert"' in page
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "export.long_csv")) is None


def test_the_short_link_takes_filters_in_the_url_and_refuses_unknown_ones(client, world):
    f.login(client, world.analyst)
    limited = rows_of(client.get("/reports/export.csv?team=Nord&family=ruler").get_data())
    assert limited and {(r["team"], r["family"]) for r in limited} == {("Nord", "ruler")}
    assert client.get("/reports/export.csv?team=Nowhere").status_code == 400
    assert client.get("/reports/export.csv?dialect=excel-us").status_code == 400


def test_lists_of_any_length_go_by_post(client, world, db):
    many = [accounts.create_team(world.org, f"Team {n:03d}").name for n in range(300)]
    f.login(client, world.analyst)
    answer = post_export(client, team=[*many, "Nord"])
    assert answer.status_code == 200
    rows = rows_of(answer.get_data())
    assert rows and {r["team"] for r in rows} == {"Nord"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.long_csv"))
    assert "301 values" in event.detail  # a long list is counted in the audit log, not listed


def test_a_team_lead_exports_their_teams_only_and_cannot_name_another(client, world):
    f.login(client, world.lead)
    rows = rows_of(post_export(client).get_data())
    assert rows and {r["team"] for r in rows} == {"Nord"}
    assert post_export(client, team="Syd; Vest").status_code == 400
    page = client.get("/reports/").get_data(as_text=True)
    assert "Nord" in page and "Syd; Vest" not in page


def test_the_danish_excel_dialect_keeps_numbers_numbers_and_text_harmless(client, world):
    f.login(client, world.analyst)
    answer = post_export(client, dialect="excel-da")
    data = answer.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and data.count(b"\r\n") == data.count(b"\n")
    rows = rows_of(data, ";")
    assert len(rows) == world.answers
    assert {r["team"] for r in rows} == {"Nord", "'=Formel", "Syd; Vest"}
    text = data.decode("utf-8-sig")
    assert '"Syd; Vest"' in text  # a separator inside a cell is quoted, never split
    for r in rows:
        assert r["value"] == "" or re.fullmatch(r"\d{1,2},\d", r["value"]), r["value"]
        assert re.fullmatch(r"\d+", r["child_birth_year"])
    standard = rows_of(post_export(client, dialect="rfc4180").get_data())
    assert [r["value"].replace(".", ",") for r in standard] == [r["value"] for r in rows]


@pytest.mark.parametrize(("kind", "mimetype", "suffix"), [
    ("long", "text/csv", ".csv"),
    ("wide", "application/zip", ".zip"),
    ("invitations", "text/csv", ".csv"),
    ("codebook", "application/json", ".json"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ("sav", "application/zip", ".zip"),
    ("zip", "application/zip", ".zip"),
])
def test_each_format_downloads_with_its_type_and_name(client, world, kind, mimetype, suffix):
    f.login(client, world.analyst)
    answer = post_export(client, kind=kind)
    body = answer.get_data()
    assert answer.status_code == 200 and body
    assert answer.mimetype == mimetype
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'{suffix}"')
    assert answer.headers["X-Accel-Buffering"] == "no"
    if suffix == ".zip":
        names = zipfile.ZipFile(io.BytesIO(body)).namelist()
        assert "codebook.json" in names and "codebook.html" in names


def test_a_single_family_comes_as_one_file(client, world):
    f.login(client, world.analyst)
    wide = post_export(client, kind="wide", family="ruler")
    assert wide.mimetype == "text/csv"
    assert rows_of(wide.get_data())[0]["band_label"]
    sav = post_export(client, kind="sav", family="ruler")
    assert sav.get_data()[:4] == b"$FL2"  # an SPSS system file
    assert sav.headers["Content-Disposition"].endswith('.sav"')


def test_invitations_carry_the_same_pseudonyms_and_what_became_of_each(client, world):
    f.login(client, world.analyst)
    answers = rows_of(post_export(client).get_data())
    invited = rows_of(post_export(client, kind="invitations").get_data())
    assert len(invited) == world.responses + world.unanswered
    statuses = {r["status"] for r in invited}
    assert statuses == {"answered", "expired"}  # the frozen clock is long past the meetings
    answered = {r["response_id"] for r in invited if r["status"] == "answered"}
    assert answered == {r["response_id"] for r in answers}
    assert {r["respondent_id"] for r in invited} >= {r["respondent_id"] for r in answers}
    for r in invited:
        assert r["issued_at"].endswith("Z") and r["expires_at"] > r["issued_at"]
        assert (r["answered_at"] != "") == (r["status"] == "answered")


def test_the_codebook_page_explains_the_export_the_form_describes(client, world):
    f.login(client, world.analyst)
    client.post("/language", data={"locale": "en", "back": "/reports/"})
    page = client.post("/reports/codebook", data={"kind": "zip", "dialect": "excel-da",
                                                  "family": "outcome"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("Codebook", "item_1", "ycors 1.0", "skipped", "dont_know", "excel-da",
                 "How have things been over the last week?"):
        assert text in html, text
    assert "child-meeting" not in html  # only the family asked for


def test_an_export_is_audited_at_its_start_with_filters_and_at_its_end_with_rows(client, world,
                                                                                  db):
    f.login(client, world.analyst)
    answer = post_export(client, team="Nord", dialect="excel-da")
    rows = rows_of(answer.get_data(), ";")
    start = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.long_csv"))
    assert start.actor_id == world.analyst.id and start.object_type == "export"
    assert '"teams":["Nord"]' in start.detail and "dialect=excel-da" in start.detail
    end = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.end"))
    assert end.object_id == start.object_id
    assert end.detail == f"completed; rows={len(rows)}"


def test_an_abandoned_export_is_audited_as_aborted(world, db):
    run = exports.start(Actor.staff(world.analyst), exports.ExportRequest(kind="long"))
    chunks = iter(run)
    next(chunks)  # the header
    next(chunks)  # the first rows
    run.close()
    end = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.end"))
    assert end.detail.startswith("aborted; rows=")
    assert end.object_id == str(run.id)


@pytest.mark.parametrize(("who", "export_status", "import_status"), [
    ("caseworker", 403, 403),
    ("lead", 200, 403),
    ("analyst", 200, 403),
    ("admin", 403, 200),
])
def test_who_may_export_and_import(client, world, who, export_status, import_status):
    user = {"caseworker": world.caseworker, "lead": world.lead, "analyst": world.analyst,
            "admin": world.admin}[who]
    f.login(client, user)
    answer = post_export(client)
    answer.get_data()  # read to the end, as a browser would (the stream then closes)
    assert answer.status_code == export_status
    assert client.get("/reports/").status_code == (200 if export_status == 200 else 403)
    assert client.get("/reports/import").status_code == import_status


def test_analysts_import_where_the_organisation_allows_it(client, world, app):
    f.login(client, world.analyst)
    assert client.get("/reports/import").status_code == 403
    assert "/reports/import" not in client.get("/reports/").get_data(as_text=True)
    app.config["FEEDBACK_ANALYST_IMPORT"] = True
    try:
        assert client.get("/reports/import").status_code == 200
        assert "/reports/import" in client.get("/reports/").get_data(as_text=True)
    finally:
        app.config["FEEDBACK_ANALYST_IMPORT"] = False
