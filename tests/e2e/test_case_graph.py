"""The case page in Chromium: three respondents over twelve meetings, at tablet and phone size.

The case is written straight into the server's database (past meetings cannot
be answered through links). The test reads the outcome graph's SVG and checks
every point's date and value against the database, taps a point to see its
values, runs axe, checks that nothing is wider than a phone, and saves the
screenshots shown in the README (docs/screenshots/).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from feedback.models import InstrumentVersion, Meeting, Response, ResponseVoid
from tests.e2e import flows

pytestmark = pytest.mark.e2e

#: Where the screenshots go: FEEDBACK_E2E_SCREENSHOTS=docs/screenshots refreshes the
#: README's; by default a temporary directory, so a run leaves the checkout as it was.
SHOTS = os.environ.get("FEEDBACK_E2E_SCREENSHOTS", "")


def _history_case(server) -> str:
    """A case of anna's with the graph world's history, in the server's database."""
    from feedback import create_app
    from feedback.extensions import db
    from feedback.models import Team, User
    from tests import graph_world

    app = create_app({"SQLALCHEMY_DATABASE_URI": server.database_url,
                      "SECRET_KEY": "e2e-seeding", "FEEDBACK_PSEUDONYM_KEY": "e2e"})
    with app.app_context():
        anna = db.session.scalar(select(User).where(User.username == "anna"))
        team = db.session.scalar(select(Team).where(Team.name == "Team Nord"))
        case = graph_world.history(anna, team, reference=flows.unique_reference("GRAF"))
        case_id = str(case.id)
        db.session.remove()
        db.engine.dispose()
    return case_id


def _stored_outcome(database, case_id: str) -> list[tuple[str, float]]:
    import uuid

    rows = database.all(
        select(Meeting.held_on, Response.total_tenths).join(Meeting)
        .join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id)
        .outerjoin(ResponseVoid)
        .where(Meeting.case_id == uuid.UUID(case_id), InstrumentVersion.family == "outcome",
               Response.total_tenths.is_not(None), ResponseVoid.response_id.is_(None)))
    return sorted((str(day), total / 10) for day, total in rows)


def test_case_graphs_at_tablet_and_phone_size(server, tablet, axe, database, tmp_path):
    shots = Path(SHOTS) if SHOTS else tmp_path
    case_id = _history_case(server)
    stored = _stored_outcome(database, case_id)
    assert len(stored) == 35

    for name, size in (("tablet", (1024, 768)), ("tablet-portrait", (768, 1024)),
                       ("phone", (390, 844))):
        page = tablet(viewport={"width": size[0], "height": size[1]}).new_page()
        flows.log_in(page, "anna")
        page.goto(f"/cases/{case_id}")
        outcome = page.locator("figure[data-family=outcome]")
        expect(outcome).to_be_visible()

        # Every point of the outcome graph: its date and value as stored.
        points = outcome.locator("svg.chart .pt")
        drawn = sorted((p.get_attribute("data-date"), float(p.get_attribute("data-value")))
                       for p in points.all())
        assert drawn == stored
        # Each point names its date and value for a screen reader, in Danish format.
        labels = [p.get_attribute("aria-label") for p in points.all()]
        assert any("31,6" in label and "#12" in label for label in labels)
        # The line ends with its latest value printed (no hover needed).
        expect(outcome.locator("text.end").first).to_contain_text("31,6")
        # Tapping a point shows its date, score and items.
        latest = outcome.locator(".pt[data-value='31.6']")
        latest.focus()
        tip = outcome.locator("svg.chart > .tip")
        expect(tip).to_have_class("tip shown")
        expect(tip.locator(".tip1")).to_contain_text("31,6")
        expect(tip.locator(".tip2")).to_contain_text("7,9")
        # One graph per family with answers; the rules are written beside the signals.
        families = page.locator("figure.graph").evaluate_all(
            "fs => fs.map(f => f.dataset.family)")
        assert families == ["outcome", "session", "meeting-experience", "ruler", "coordination"]
        expect(outcome.locator(".signal-not_on_track .rule").first).to_contain_text("Regel")
        # The voided answer is in the timeline, marked.
        expect(page.locator(".timeline .voided-mark")).to_have_count(1)
        # Nothing is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        # The table alternative opens and lists the same numbers.
        outcome_table = page.locator("#graph-outcome + details.graph-table")
        outcome_table.locator("summary").click()
        expect(outcome_table.locator("tbody tr")).to_have_count(36)  # 35 totals + 1 skipped
        axe(page, f"case page ({name})")
        outcome_table.locator("summary").click()
        page.locator("#graph-outcome-title").scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -8)")
        page.screenshot(path=str(shots / f"case-page-{name}.png"))

        if name == "tablet":
            # Printed on A4 (about 700 CSS px between the margins): every graph fits.
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 700, "height": 990})
            widest = page.locator("svg.chart").evaluate_all(
                "els => Math.max(...els.map(e => e.getBoundingClientRect().right))")
            assert widest <= 700
            expect(page.locator(".graph-nav")).to_be_hidden()
            pdf = page.pdf(format="A4")
            assert pdf.startswith(b"%PDF")
            page.emulate_media(media="screen")
            page.set_viewport_size({"width": size[0], "height": size[1]})

        # The list of cases: the latest scores and signals, and no table wider than the screen.
        page.goto("/cases?sort=signals&show=signals&status=open")
        row = page.locator("table.case-list tbody tr", has=page.locator(f"a[href$='{case_id}']"))
        expect(row).to_contain_text("31,6")
        expect(row.locator(".signal-chip").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
        axe(page, f"case list ({name})")
        if name == "phone":
            page.locator("table.case-list").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "case-list-phone.png"))
        page.context.close()
