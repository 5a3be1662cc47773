"""Reports on both databases: figures worked out by hand, the CSV dialects, the command, access."""

from __future__ import annotations

import csv
import io
import math

import pytest
from sqlalchemy import func, select

from feedback.models import AuditEvent
from tests import factories as f
from tests.integration import report_world

HALF = {"cohort": "half", "anchor": "04-01"}


@pytest.fixture(autouse=True)
def every_figure(app, monkeypatch):
    """These worlds are small on purpose: show every figure unless a test says otherwise."""
    monkeypatch.setitem(app.config, "FEEDBACK_REPORT_MIN_CHILDREN", 0)


@pytest.fixture
def built(db):
    return report_world.build()


def rows_of(data: bytes, delimiter=",") -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=delimiter))


def number(text: str) -> float | None:
    return float(text.replace(",", ".")) if text else None


def outcome_csv(client, **args) -> list[dict]:
    response = client.get("/reports/report/outcome.csv",
                          query_string={**HALF, "dialect": "rfc4180", **args})
    assert response.status_code == 200, response.get_data(as_text=True)
    return rows_of(response.get_data())


def test_outcome_by_cohort_matches_the_figures_worked_out_by_hand(client, built):
    f.login(client, built.world.ali)
    rows = outcome_csv(client)
    closed = [r for r in rows if r["table"] == "closed"]
    assert [(r["cohort"], r["episodes"], r["two_or_more"]) for r in closed] == [
        ("2025-04-01–2025-09-30", "5", "3")]  # A, B, C, E and G's faces; F has none
    row = closed[0]
    assert number(row["mean_first"]) == pytest.approx(26.0)
    assert number(row["mean_last"]) == pytest.approx((33 + 24 + 31) / 3, abs=1e-6)
    assert number(row["mean_change"]) == pytest.approx(10 / 3, abs=1e-6)
    assert number(row["effect_size"]) == pytest.approx((10 / 3) / math.sqrt(28), abs=1e-6)
    assert number(row["improved"]) == pytest.approx(1 / 3, abs=1e-6)
    assert number(row["deteriorated"]) == pytest.approx(1 / 3, abs=1e-6)
    assert number(row["crossed"]) == pytest.approx(1 / 3, abs=1e-6)
    assert number(row["coverage"]) == pytest.approx(5 / 6, abs=1e-6)  # F has no rating
    still_open = [r for r in rows if r["table"] == "open"]
    assert [(r["cohort"], r["episodes"], r["mean_change"]) for r in still_open] == [
        ("2025-10-01–2026-03-31", "1", "2")]
    left = {r["reason"]: int(r["excluded"]) for r in rows if r["table"] == "left_out"}
    assert left == {"one_rating": 1, "faces_only": 1, "faces_ratings": 2, "open_episodes": 1,
                    "skipped": 1}


def test_the_closed_by_date_moves_episodes_to_still_open(client, built):
    f.login(client, built.world.ali)
    rows = outcome_csv(client, closed_by="2025-12-31")  # B closed on 2026-01-15
    closed = next(r for r in rows if r["table"] == "closed")
    assert (closed["episodes"], closed["two_or_more"]) == ("4", "2")
    assert number(closed["mean_change"]) == pytest.approx((13 + 3) / 2)
    opened = [r for r in rows if r["table"] == "open"]
    assert {r["cohort"]: r["episodes"] for r in opened} == {
        "2025-04-01–2025-09-30": "1", "2025-10-01–2026-03-31": "1"}


def test_roles_give_one_row_each_and_mothers_rate_against_the_childs_cut_off(client, built):
    f.login(client, built.world.ali)
    rows = outcome_csv(client, role=["child", "mother"], cohort="year")
    closed = {r["role"]: r for r in rows if r["table"] == "closed"}
    assert set(closed) == {"child", "mother"}
    mother = closed["mother"]
    assert (mother["episodes"], mother["mean_first"], mother["mean_last"]) == ("1", "15", "25")
    assert mother["effect_size"] == ""  # one episode: no standard deviation
    assert (mother["improved"], mother["crossed"]) == ("1", "0")  # 25 is under 32


def test_quarters_from_the_episodes_start(client, built):
    f.login(client, built.world.ali)
    rows = outcome_csv(client, cohort="quarter", anchor="01-01", cohort_by="episode_start")
    closed = {r["cohort"]: r["episodes"] for r in rows if r["table"] == "closed"}
    # A (May), B (May), E (April, its skipped questionnaire has no total), G (May); C (June)
    assert closed == {"2025-04-01–2025-06-30": "5"}


def test_satisfaction_counts_answers_top_and_bottom_boxes_and_children(client, built):
    f.login(client, built.world.ali)
    response = client.get("/reports/report/satisfaction.csv",
                          query_string={"period": "year", "dialect": "excel-da"})
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    rows = [r for r in rows_of(data, ";") if r["table"] == "items"]
    everyone = {r["item"]: r for r in rows if r["team"] == "Alle teams"}
    said = everyone["Sagde alt"]
    assert (said["n"], said["children"]) == ("3", "2")
    assert number(said["mean"]) == pytest.approx((10 + 8 + 1) / 3, abs=1e-6)
    assert number(said["top"]) == pytest.approx(1 / 3, abs=1e-6)  # 10
    assert number(said["bottom"]) == pytest.approx(1 / 3, abs=1e-6)  # 1
    assert number(said["per_child"]) == pytest.approx(1.5)
    listened = everyone["Blev lyttet til"]
    assert (listened["n"], listened["top"], listened["children"]) == ("2", "1", "2")
    left = {r["reason"]: r["excluded"] for r in rows_of(data, ";") if r["table"] == "left_out"}
    assert left == {"items_skipped": "1"}


def test_the_page_shows_formulas_filters_and_what_was_left_out(client, built):
    f.login(client, built.world.ali)
    page = client.get("/reports/report/outcome", query_string={**HALF, "team": "Nord"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "Effektstørrelse" in html
    assert "standardafvigelse" in html  # the formula
    assert "Nord" in html and "04-01" in html  # the filters and settings used
    assert "Forløb med kun én total" in html


def test_the_command_writes_the_pages_csv_and_is_audited(app, built, db, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "outcome.csv"
    result = runner.invoke(args=["report", "outcome", "--user", "ali", "--option", "cohort=half",
                                 "--option", "anchor=04-01", "--dialect", "excel-da",
                                 "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = rows_of(target.read_bytes(), ";")
    assert next(r for r in rows if r["table"] == "closed")["two_or_more"] == "3"
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "report.outcome")).all()
    assert [e.actor_id for e in events] == [built.world.ali.id]
    refused = runner.invoke(args=["report", "outcome", "--user", "anna"])
    assert refused.exit_code != 0 and "may not read reports" in refused.output
    bad = runner.invoke(args=["report", "outcome", "--user", "ali", "--option", "cohort=decade"])
    assert bad.exit_code != 0 and "decade" in bad.output
    for wrong in ("cohort", "team=Nord"):  # not NAME=VALUE; a filter has its own option
        refused = runner.invoke(args=["report", "outcome", "--user", "ali", "--option", wrong])
        assert refused.exit_code != 0 and "NAME=VALUE" in refused.output


def test_caseworkers_are_refused_and_analysts_audited(client, built, db):
    f.login(client, built.world.anna)
    assert client.get("/reports/report/outcome").status_code == 403
    assert client.get("/reports/report/outcome.csv").status_code == 403
    refused = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == built.world.anna.id, AuditEvent.outcome == "refused"))
    assert refused >= 1
    client.get("/auth/logout")
    f.login(client, built.world.ali)
    assert client.get("/reports/report/satisfaction").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "report.satisfaction"))
    assert event.actor_id == built.world.ali.id and "instrument" in event.detail
    assert client.get("/reports/report/nothing").status_code == 404


def test_team_leads_see_only_their_teams(client, built):
    f.login(client, built.world.lene)  # lead of Nord: A, B, E, F
    rows = outcome_csv(client)
    closed = next(r for r in rows if r["table"] == "closed")
    assert (closed["episodes"], closed["two_or_more"]) == ("3", "3")
    assert number(closed["coverage"]) == pytest.approx(3 / 4)


@pytest.mark.parametrize(("args", "says"), [
    ({"team": "Atlantis"}, "Atlantis"),
    ({"meeting_from": "2025-02-30"}, "2025-02-30"),
    ({"cohort": "decade"}, "decade"),
    ({"anchor": "13-01"}, "13-01"),
    ({"closed_by": "yesterday"}, "yesterday"),
    ({"cohort": ["half", "year"]}, "year"),
])
def test_bad_filters_get_a_clear_400_and_nothing_is_read(client, built, db, args, says):
    f.login(client, built.world.ali)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    page = client.get("/reports/report/outcome", query_string=args)
    assert page.status_code == 400
    assert says in page.get_data(as_text=True) and 'role="alert"' in page.get_data(as_text=True)
    assert client.get("/reports/report/outcome.csv", query_string=args).status_code == 400
    after = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert after == before  # no report was made, so none was recorded


def test_bad_waves_and_unknown_dialects_are_refused(client, built):
    f.login(client, built.world.ali)
    assert client.get("/reports/report/likert",
                      query_string={"waves": "a=2025-01-01..2024-01-01"}).status_code == 400
    assert client.get("/reports/report/ruler.csv",
                      query_string={"dialect": "excel-us"}).status_code == 400


def test_small_cells_are_hidden_from_analysts_but_not_from_the_teams_own_lead(
        app, client, built, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_REPORT_MIN_CHILDREN", 5)
    f.login(client, built.world.ali)
    closed = next(r for r in outcome_csv(client) if r["table"] == "closed")
    # Five children's episodes, but the change figures rest on three (A, B and E).
    assert (closed["episodes"], closed["coverage"]) == ("5", "0.833333")
    assert closed["two_or_more"] == closed["mean_change"] == closed["effect_size"] == "<5"
    html = client.get("/reports/report/outcome", query_string=HALF).get_data(as_text=True)
    assert "&lt;5" in html and "færre end 5 børn" in html
    assert "<circle" not in html  # the chart's only cohort rests on three children
    client.get("/auth/logout")
    f.login(client, built.world.lene)  # Nord's own lead: her teams' figures in full
    closed = next(r for r in outcome_csv(client) if r["table"] == "closed")
    assert closed["mean_change"] == "3.333333"  # A, B and E in full
    assert "<" not in "".join(closed.values())


def test_a_total_cannot_reveal_a_hidden_team(app, client, built, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_REPORT_MIN_CHILDREN", 2)
    f.login(client, built.world.ali)
    data = client.get("/reports/report/satisfaction.csv", query_string={"period": "year"})
    rows = [r for r in rows_of(data.get_data()) if r["table"] == "items"]
    # Only Nord answered: "listened" rests on two children (shown); had one team been
    # hidden, the all-teams row (equal to it) is hidden with it.
    said = [r for r in rows if r["item"] == "Sagde alt"]
    assert {r["n"] for r in said} == {"3"}
    monkeypatch.setitem(app.config, "FEEDBACK_REPORT_MIN_CHILDREN", 3)
    data = client.get("/reports/report/satisfaction.csv", query_string={"period": "year"})
    rows = [r for r in rows_of(data.get_data()) if r["table"] == "items"]
    assert {r["n"] for r in rows} == {"<3"}  # two children: the team and its total hidden
