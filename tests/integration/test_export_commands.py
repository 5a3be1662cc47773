"""``flask export`` and ``flask import``: the page's files and imports on the command line."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from feedback.models import AuditEvent, ImportBatch, Response
from tests import factories as f
from tests.integration import export_world
from tests.integration.test_imports import csv_bytes, response


@pytest.fixture
def world(db):
    return export_world.build()


def test_the_command_writes_the_web_pages_file(app, client, world, tmp_path):
    f.login(client, world.analyst)
    web = client.get("/reports/export.csv").get_data()
    runner = app.test_cli_runner()
    to_stdout = runner.invoke(args=["export", "--user", "ali"])
    assert to_stdout.exit_code == 0, to_stdout.output
    target = tmp_path / "long.csv"
    to_file = runner.invoke(args=["export", "--user", "ALI", "-o", str(target)])
    assert to_file.exit_code == 0, to_file.output
    assert to_stdout.stdout_bytes == web == target.read_bytes()
    assert not (tmp_path / "long.csv.part").exists()
    rows = list(csv.DictReader(io.StringIO(web.decode())))
    assert len(rows) == world.answers
    assert f"{world.answers} rows exported." in to_file.stderr
    assert b"SAG-1" not in web  # pseudonyms, never the case reference


def test_filters_format_and_dialect_on_the_command_line(app, world, tmp_path, db):
    target = tmp_path / "export.zip"
    result = app.test_cli_runner().invoke(args=[
        "export", "--user", "lene", "--format", "zip", "--dialect", "excel-da",
        "--meeting-from", "2025-03-01", "--role", "child", "--role", "mother",
        "--family", "outcome", "--language", "en", "--progress", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "exporting rows" in result.stderr  # the progress bar
    with zipfile.ZipFile(target) as archive:
        codebook = json.loads(archive.read("codebook.json"))
        long_rows = list(csv.DictReader(io.StringIO(
            archive.read("long.csv").decode("utf-8-sig")), delimiter=";"))
    assert codebook["parameters"]["filters"]["roles"] == ["child", "mother"]
    assert codebook["language"] == "en"
    assert long_rows and all(
        r["team"] == "Nord" and r["family"] == "outcome" and r["meeting_date"] >= "2025-03-01"
        and r["respondent_role"] in ("child", "mother") for r in long_rows)
    start = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.zip"))
    assert start.actor_id == world.lead.id and '"roles":["child","mother"]' in start.detail


@pytest.mark.parametrize(("args", "message"), [
    (["--user", "nobody"], "No active user"),
    (["--user", "anna"], "may not export"),
    (["--user", "ali", "--team", "Øst"], "Øst"),
    (["--user", "ali", "--meeting-from", "1/3/2025"], "1/3/2025"),
])
def test_refusals_say_why_and_leave_no_file(app, world, tmp_path, db, args, message):
    target = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(args=["export", *args, "-o", str(target)])
    assert result.exit_code != 0
    assert message in result.output
    assert not target.exists() and not (tmp_path / "out.csv.part").exists()
    assert db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "export.long_csv")) is None


def test_the_import_command_reports_every_line_and_imports_once(app, db, tmp_path):
    w = f.world()
    source = tmp_path / "svar.csv"
    source.write_bytes(csv_bytes(response(1) + response(2)))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["import", str(source), "--user", "admin", "--source", "papir"])
    assert first.exit_code == 0, first.output
    assert "accepted 8" in first.output and "questionnaires written 2" in first.output
    report = (tmp_path / "svar.csv.report.csv").read_text()
    assert report.count("accepted") == 8
    second = runner.invoke(args=["import", str(source), "--user", "admin", "--source", "papir",
                                 "--report", str(tmp_path / "again.csv")])
    assert second.exit_code == 0 and "already imported 8" in second.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 2

    listed = runner.invoke(args=["import", "--user", "admin", "--list"])
    assert listed.output.count("papir") == 2
    batch = db.session.scalar(select(ImportBatch).where(ImportBatch.responses_written == 2))
    rolled = runner.invoke(args=["import", "--user", "admin", "--rollback", str(batch.id)])
    assert rolled.exit_code == 0 and "2 questionnaires deleted" in rolled.output
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0
    del w


def test_the_import_command_refuses_clearly(app, db, tmp_path):
    f.world()
    bad = tmp_path / "bad.csv"
    lines = response(1)
    lines[0]["value"] = "12"
    bad.write_bytes(csv_bytes(lines + response(2)))
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["import", str(bad), "--user", "admin", "--source", "x"])
    assert refused.exit_code == 1
    assert "refused" in refused.output and "line 2 value" in refused.stderr
    partial = runner.invoke(args=["import", str(bad), "--user", "admin", "--source", "x",
                                  "--mode", "accepted-only"])
    assert partial.exit_code == 0 and "questionnaires written 1" in partial.output
    analyst = runner.invoke(args=["import", str(bad), "--user", "ali", "--source", "y"])
    assert analyst.exit_code != 0 and "may not import" in analyst.output
    no_source = runner.invoke(args=["import", str(bad), "--user", "admin"])
    assert no_source.exit_code != 0 and "--source" in no_source.output
