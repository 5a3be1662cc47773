"""Hand-over: the caseworker's tablet locked to one respondent's questions until unlocked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from feedback.models import Invitation
from tests.conftest import TODAY
from tests.e2e import flows
from tests.e2e.respondent import EVERY_PACK, answer_bundle, stored


@pytest.fixture
def staff_case(tablet, server):
    """anna logged in on a tablet, on the meeting page of a new case with a 14-year-old."""
    context = tablet()
    page = context.new_page()
    flows.log_in(page, "anna")
    page.goto(server.url("/cases/new"))
    case_path = flows.create_case(page, flows.unique_reference("HAND"),
                                  birth_year=TODAY.year - 15)
    meeting_path = flows.create_meeting(page)
    return context, page, case_path, meeting_path


def test_hand_over_locks_the_tablet_to_the_questions(staff_case, server, database, axe):
    context, page, case_path, meeting_path = staff_case
    form = page.locator("form[action$='/invitations']")
    form.locator("input[name=participants]").first.check()
    # Every shipped instrument, as specific versions, for the child on this tablet.
    form.locator("input[name=instruments][value=outcome]").uncheck()
    form.locator("details.versions summary").tap()
    for key in EVERY_PACK:
        form.locator(f"input[name=versions][value='{key}']").check()
    form.locator("button[name=handover]").tap()
    # Far more questions than one sitting should have, and smileys beside a session
    # scale: a warning first, nothing handed over, the preferred session scale kept.
    expect(page.locator("#sitting-warnings")).to_contain_text("spørger om næsten det samme")
    expect(page).to_have_url(re.compile(r"/invitations$"))
    form = page.locator("form[action$='/invitations']")
    smileys = form.locator("input[name=versions][value='child-meeting']")
    expect(smileys).not_to_be_checked()
    smileys.check()  # the caseworker wants them all all the same
    with page.expect_navigation():
        form.locator("button[name=handover]").tap()
    expect(page).to_have_url(server.url("/r/"))
    expect(page.locator(".progress")).to_have_text(f"Spørgeskema 1 af {len(EVERY_PACK)}")

    # Typing a staff URL, pressing Back, opening a new tab: always the questions.
    for path in (case_path, meeting_path, "/cases", "/reports/", "/"):
        page.goto(server.url(path))
        expect(page).to_have_url(server.url("/r/"))
        expect(page.locator("form.answers")).to_be_visible()
    page.go_back()
    expect(page.locator("form.answers, form.logout")).to_have_count(1)
    expect(page.locator("form.logout")).to_have_count(0)
    other = context.new_page()
    other.goto(server.url(case_path))
    expect(other).to_have_url(server.url("/r/"))
    expect(other.locator("form.answers")).to_be_visible()
    other.close()

    # The child answers every questionnaire by touch; the values are stored as tapped.
    page.goto(server.url("/r/"))
    expected = answer_bundle(page, len(EVERY_PACK))
    with database.session() as s:
        invitation = s.scalars(select(Invitation).order_by(Invitation.created_at.desc())).first()
        assert stored(database, invitation.id) == expected
        assert len(expected) == len(EVERY_PACK)

    # Back to the staff view only with the caseworker's password.
    with page.expect_navigation():
        page.locator("a.button[href='/unlock']").tap()
    expect(page.locator("#password")).to_be_visible()
    axe(page, "unlock page")
    page.fill("#password", "wrong password")
    with page.expect_navigation():
        page.locator("button.primary").tap()
    expect(page.locator("p.error")).to_be_visible()
    page.goto(server.url("/cases"))
    expect(page).to_have_url(server.url("/r/"))
    page.goto(server.url("/unlock"))
    page.fill("#password", flows.PASSWORD)
    with page.expect_navigation():
        page.locator("button.primary").tap()
    expect(page).to_have_url(server.url(meeting_path))
    page.goto(server.url("/cases"))
    expect(page).to_have_url(server.url("/cases"))
