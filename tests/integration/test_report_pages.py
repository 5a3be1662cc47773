"""Every report on the export world: the page, the CSV in both dialects, the command."""

from __future__ import annotations

import csv
import io

import pytest

from feedback.services import reports
from tests import factories as f
from tests.integration import export_world

WAVES = {"waves": "start=2025-01-01..2025-06-30\nslut=2025-07-01..2025-12-31"}


@pytest.fixture(autouse=True)
def every_figure(app, monkeypatch):
    """These worlds are small on purpose: show every figure unless a test says otherwise."""
    monkeypatch.setitem(app.config, "FEEDBACK_REPORT_MIN_CHILDREN", 0)


@pytest.fixture
def world(db):
    return export_world.build()


def _rows(data: bytes, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                           delimiter=delimiter))


@pytest.mark.parametrize("name", list(reports.REPORTS))
def test_every_report_has_a_page_two_csv_dialects_and_a_command(app, client, world, name):
    f.login(client, world.analyst)
    extra = WAVES if name == "likert" else {}
    page = client.get(f"/reports/report/{name}", query_string=extra)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for heading in ("Sådan er tallene regnet ud", "Hvad rapporten har udeladt",
                    "Brugte filtre og indstillinger", "CSV til dansk Excel"):
        assert heading in html
    standard = client.get(f"/reports/report/{name}.csv",
                          query_string={**extra, "dialect": "rfc4180"}).get_data()
    danish = client.get(f"/reports/report/{name}.csv",
                        query_string={**extra, "dialect": "excel-da"}).get_data()
    assert not standard.startswith(b"\xef\xbb\xbf") and danish.startswith(b"\xef\xbb\xbf")
    rfc, excel = _rows(standard, ","), _rows(danish, ";")
    assert len(rfc) == len(excel) > 1 and rfc[0] == excel[0]
    assert [r[0] for r in rfc] == [r[0] for r in excel]
    assert any(r[0] == "left_out" for r in rfc)
    # Numbers keep their decimal mark per dialect; a team called =Formel stays text.
    assert not any(c.startswith("=") for r in rfc for c in r)
    command = app.test_cli_runner().invoke(
        args=["report", name, "--user", "ali", "--dialect", "rfc4180",
              *[f"--option=waves={WAVES['waves']}" for _ in [1] if name == "likert"]])
    assert command.exit_code == 0, command.output
    assert command.stdout_bytes == standard


def test_the_welch_table_compares_the_two_waves(client, world):
    f.login(client, world.analyst)
    data = client.get("/reports/report/likert.csv", query_string={**WAVES}).get_data()
    rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    tests = [r for r in rows if r["table"] == "welch"]
    assert len(tests) == 6 and {(r["wave_a"], r["wave_b"]) for r in tests} == {("start", "slut")}
    assert {r["theme"] for r in rows if r["table"] == "means"} >= {"Tillid", "Hverdagen"}


def _table(client, name, key, **args) -> list[dict]:
    data = client.get(f"/reports/report/{name}.csv", query_string=args).get_data()
    return [r for r in csv.DictReader(io.StringIO(data.decode(), newline=""))
            if r["table"] == key]


def test_response_rates_count_questionnaires_and_leave_voided_answers_out(client, world, db):
    from sqlalchemy import select

    from feedback.models import InstrumentVersion, Response
    from feedback.services import responses

    f.login(client, world.analyst)
    rows = _table(client, "response_rates", "rates", period="year")
    assert sum(int(r["answered"]) for r in rows) == world.responses
    assert sum(int(r["issued"]) for r in rows) == world.responses + world.unanswered
    srs = db.session.scalars(select(Response).join(InstrumentVersion).where(
        InstrumentVersion.key == "srs")).first()
    responses.void(f.actor(world.caseworker), srs, "Givet af den forkerte person")
    after = _table(client, "response_rates", "rates", period="year")
    assert sum(int(r["answered"]) for r in after) == world.responses - 1
    assert sum(int(r["issued"]) for r in after) == world.responses + world.unanswered


def test_the_ruler_counts_every_rating_once_and_finds_the_parties_spread(client, world):
    f.login(client, world.analyst)
    bands = _table(client, "ruler", "bands")
    # Ruler ratings in the world: the child three times, the mother and a network member once.
    by_role = {}
    for r in bands:
        by_role[r["role"]] = by_role.get(r["role"], 0) + int(r["n"])
    assert by_role == {"child": 3, "mother": 1, "network": 1}
    (spread,) = _table(client, "ruler", "disagreement")
    assert spread["meetings"] == "2"  # two meetings where two parties rated


def test_names_are_shown_as_text_in_tables_and_the_chart(client, world, db):
    world.teams["Nord"].name = '<script>alert("x")</script>{{7*7}}'
    db.session.commit()
    f.login(client, world.analyst)
    html = client.get("/reports/report/alliance", query_string={"period": "year"}).get_data(
        as_text=True)
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;{{7*7}}" in html
    data = client.get("/reports/report/alliance.csv").get_data(as_text=True)
    assert '<script>alert(""x"")</script>{{7*7}}' in data  # literal in the CSV, quoted
