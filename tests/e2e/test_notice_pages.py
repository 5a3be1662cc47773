"""The notice to respondents, and its admin page, in the browser: readable, fits, axe-clean."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.conftest import run_axe
from tests.e2e.test_layout import assert_no_page_scroll, open_link, screen

WIDTHS = (320, 1024)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_first_page_shows_who_sees_the_answers(tablet, server, width):
    page = screen(tablet, width)
    open_link(page, server, ["ors"], birth_year=2012)
    notice = page.locator("section.notice")
    expect(notice).to_be_visible()
    expect(notice.locator("h2")).to_have_text("Hvem ser dine svar")
    assert_no_page_scroll(page, f"notice at {width} px")
    run_axe(page, f"first page with the notice at {width} px")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_admin_notice_page(tablet, server, width):
    page = screen(tablet, width)
    flows.log_in(page, "admin")
    page.goto(server.url("/admin/notice"))
    expect(page.locator("h1")).to_have_text("Besked til dem, der svarer")
    assert_no_page_scroll(page, f"admin notice page at {width} px")
    run_axe(page, f"admin notice page at {width} px")
