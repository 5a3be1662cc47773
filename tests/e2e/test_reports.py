"""The outcome report in Chromium at 1024 and 390 px, with axe: readable, no sideways page."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.e2e

#: Set to a directory to keep screenshots of the report (docs/screenshots for the docs).
SHOTS = os.environ.get("FEEDBACK_E2E_SCREENSHOTS", "")


def test_the_outcome_report_reads_at_desk_and_phone_widths(server, tablet, axe):
    page = tablet().new_page()
    flows.log_in(page, "lene")  # a team lead reads her own teams' figures in full
    page.goto("/reports/reports")
    page.get_by_role("link", name="Effekt pr. kohorte").click()
    expect(page.locator("h1")).to_have_text("Effekt pr. kohorte")
    page.locator("summary", has_text="Filtre og indstillinger").click()
    page.locator("#opt-anchor").fill("04-01")
    page.get_by_role("button", name="Vis rapporten").click()
    expect(page).to_have_url(re.compile(r"anchor=04-01"))
    for width, height in ((1024, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        expect(page.get_by_role("heading", name="Sådan er tallene regnet ud")).to_be_visible()
        expect(page.get_by_role("heading", name="Hvad rapporten har udeladt")).to_be_visible()
        expect(page.locator("figure.report-chart svg")).to_be_visible()
        scroll, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        assert scroll <= inner, f"the page scrolls sideways at {width} px"
        axe(page, f"outcome report at {width} px")
        if SHOTS:
            page.screenshot(path=f"{SHOTS}/report-outcome-{width}.png", full_page=True)
    with page.expect_download() as info:
        page.get_by_role("link", name="CSV til dansk Excel").click()
    with open(info.value.path(), "rb") as fh:
        assert fh.read().startswith(b"\xef\xbb\xbftable;cohort;")


def test_an_analyst_sees_small_cells_hidden_and_is_told_so(server, tablet, axe):
    page = tablet().new_page()
    flows.log_in(page, "analytiker")
    page.goto("/reports/report/satisfaction?period=year")
    expect(page.get_by_text("Tal, der bygger på færre end 5 børn")).to_be_visible()
    axe(page, "satisfaction report with small cells hidden")
