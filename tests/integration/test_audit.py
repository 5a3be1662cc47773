"""The audit log: every read of case data is one row; administrators read, filter and export it."""

from __future__ import annotations

import csv
import io
import json
import uuid

from sqlalchemy import func, select

from feedback.instruments.scoring import ItemAnswer
from feedback.models import AuditEvent
from feedback.services import cases, instruments, responses
from feedback.services.actors import Actor
from tests import factories as f
from tests.integration.test_access import _token
from tests.integration.test_imports import csv_bytes
from tests.integration.test_imports import response as import_lines
from tests.integration.test_imports import run as run_import


def _rows(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def _last(db) -> AuditEvent:
    return db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))


def _answered_case(w):
    case = f.case(w.lene, w.north, reference="FAM-7")
    meeting = f.meeting(w.lene, case)
    mother = cases.add_participant(f.actor(w.lene), case, "mother", label="Mette")
    link = f.invite(w.lene, meeting, mother)
    instrument = instruments.definition(link.invitation.items[0].instrument_version)
    responses.submit(Actor.respondent(link.invitation.id), _token(link), 0, str(uuid.uuid4()),
                     {i.key: ItemAnswer(70) for i in instrument.items}, "da")
    return case, meeting


def test_every_read_of_case_data_and_every_export_writes_exactly_one_row(db, client, app,
                                                                      tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_IMPORT_REPORTS_DIR", str(tmp_path))
    w = f.world()
    case, meeting = _answered_case(w)
    batch = run_import(w.admin, csv_bytes(import_lines(1)), tmp_path)
    for who, reads in (
        (w.lene, [
            ("/cases", "cases.list", None),
            (f"/cases/{case.id}", "case.view", str(case.id)),
            (f"/meetings/{meeting.id}", "meeting.view", str(meeting.id)),
            ("/reports/export.csv", "export.long_csv", None),
        ]),
        (w.admin, [
            (f"/reports/import/{batch.id}", "import.view", str(batch.id)),
            (f"/reports/import/{batch.id}/report.csv", "import.view", str(batch.id)),
            ("/admin/audit", "audit.read", None),
            ("/admin/audit.csv", "audit.export", None),
            ("/admin/access?reference=FAM-7", "case.access_export", str(case.id)),
            ("/admin/retention", "retention.overview", None),
        ]),
    ):
        client.post("/logout")
        f.login(client, who)
        _walk(db, client, who, reads)


def _walk(db, client, who, reads):
    for url, action, object_id in reads:
        before = _rows(db)
        response = client.get(url)
        assert response.status_code == 200, url
        response.get_data()  # a streamed export is audited when it starts
        response.close()
        new = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)
                                      .offset(before)))
        started = [e for e in new if not e.action.endswith(".end")]
        assert len(started) == 1, (url, [e.action for e in new])
        assert started[0].action == action
        assert started[0].actor_id == who.id
        if object_id:
            assert started[0].object_id == object_id


def test_login_and_logout_are_both_in_the_log(db, client):
    w = f.world()
    f.login(client, w.anna)
    assert _last(db).action == "auth.login" and _last(db).actor_id == w.anna.id
    client.post("/logout")
    event = _last(db)
    assert (event.action, event.actor_id, event.detail) == ("auth.logout", w.anna.id, "logout")


def test_admin_reads_filters_and_pages_the_log_and_the_reading_is_logged(db, client):
    w = f.world()
    case, _ = _answered_case(w)
    other = f.case(w.anna, w.north, reference="OTHER-1")
    for _ in range(60):
        cases.get_case(f.actor(w.anna), other.id)
    f.login(client, w.admin)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Side 1 af" in page and 'rel="next"' in page
    assert _last(db).action == "audit.read" and _last(db).actor_id == w.admin.id

    by_case = client.get("/admin/audit", query_string={"case": "FAM-7"}).get_data(as_text=True)
    assert "case.create" in by_case and "response.submit" in by_case
    assert "<bdi>FAM-7</bdi>" in by_case  # a case's row names its reference
    assert str(other.id) not in by_case
    assert "case=FAM-7" in _last(db).detail

    by_who = client.get("/admin/audit", query_string={"who": str(w.anna.id),
                                                      "action": "case.view"})
    text = by_who.get_data(as_text=True)
    assert "60 linjer" in text and "Lene" not in text.split("<h2 id=\"events-title\">")[1]

    none = client.get("/admin/audit", query_string={"date_from": "2026-03-12"})
    assert "0 linjer" in none.get_data(as_text=True)
    bad = client.get("/admin/audit", query_string={"date_from": "yesterday"})
    assert bad.status_code == 400


def test_the_log_downloads_in_both_csv_dialects_with_formulas_neutralised(db, client):
    w = f.world()
    f.case(w.anna, w.north, reference="=HYPERLINK(1)")
    f.login(client, w.admin)
    danish = client.get("/admin/audit.csv", query_string={"dialect": "excel-da"})
    assert danish.status_code == 200 and danish.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(danish.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["id", "at", "actor_kind"]
    assert any(r[5] == "case.create" and r[3] == "anna" for r in rows[1:])
    assert _last(db).action == "audit.export"
    plain = client.get("/admin/audit.csv", query_string={"dialect": "rfc4180",
                                                         "action": "case.create"})
    rows = list(csv.reader(io.StringIO(plain.data.decode())))
    assert not plain.data.startswith(b"\xef\xbb\xbf")
    assert {r[5] for r in rows[1:]} == {"case.create"}


def test_only_administrators_see_the_log_and_refusals_are_logged(db, client):
    w = f.world()
    for who in (w.anna, w.lene, w.ali):
        f.login(client, who)
        for url in ("/admin/audit", "/admin/audit.csv", "/admin/access?reference=X",
                    "/admin/retention"):
            before = _rows(db)
            assert client.get(url).status_code == 403
            assert _rows(db) == before + 1 and _last(db).outcome == "refused"


def test_access_export_shows_what_is_stored_and_who_looked(db, client):
    w = f.world()
    case, _ = _answered_case(w)
    cases.get_case(f.actor(w.lene), case.id)
    f.login(client, w.admin)
    page = client.get("/admin/access", query_string={"reference": "FAM-7"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mette" in html and "Mor" in html and "case.view" in html and "Lene" in html
    assert (_last(db).action, _last(db).object_id) == ("case.access_export", str(case.id))

    data = json.loads(client.get("/admin/access", query_string={
        "reference": "FAM-7", "format": "json"}).data)
    assert data["case"]["reference"] == "FAM-7"
    (answered,) = data["responses"]
    assert answered["rated_by"] == {"role": "mother", "label": "Mette"}
    assert answered["submitted_at"].startswith("2026-03-11")
    assert {a["value"] for a in answered["answers"]} == {7.0}
    looked = [a for a in data["accesses"] if a["action"] == "case.view"]
    assert looked and looked[0]["who"].startswith("Lene")

    missing = client.get("/admin/access", query_string={"reference": "NOPE"})
    assert missing.status_code == 404 and _last(db).outcome == "refused"


def test_bad_filters_get_a_clear_400_and_nothing_breaks(db, client):
    w = f.world()
    f.login(client, w.admin)
    for url, args in (("/admin/audit", {"case": "x" * 101}), ("/admin/audit", {"page": "two"}),
                      ("/admin/audit", {"date_to": "2026-02-30"}),
                      ("/admin/audit.csv", {"date_from": "nope"}),
                      ("/admin/access", {"reference": "x" * 101})):
        response = client.get(url, query_string=args)
        assert response.status_code == 400, (url, args)
    page = client.get("/admin/audit", query_string={"date_to": "2026-02-30"})
    assert "Ikke en gyldig dato" in page.get_data(as_text=True)
    unknown = client.get("/admin/audit", query_string={"who": "nobody-like-this",
                                                       "case": "NO-SUCH-CASE"})
    assert unknown.status_code == 200 and "0 linjer" in unknown.get_data(as_text=True)
