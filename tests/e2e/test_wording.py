"""Whom the questions are about, on a phone and a tablet; the line's value with a decimal
comma in Danish; the meeting page's question count and warning before links are issued."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from feedback.extensions import db as _db
from feedback.models import User
from feedback.services import cases, invitations
from feedback.services.actors import Actor
from tests.conftest import TODAY
from tests.e2e import flows
from tests.e2e.respondent import app_on, send

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
#: Set to a directory to keep screenshots of the pages (for looking at them).
SHOTS = os.environ.get("FEEDBACK_E2E_SCREENSHOTS", "")


def _mothers_meeting(server, packs: list[str] | None) -> tuple[str | None, str, str]:
    """A case with a mother; returns (her link token or None, meeting path, her id)."""
    with app_on(server):
        anna = _db.session.scalar(select(User).where(User.username == "anna"))
        staff = Actor.staff(anna)
        the_case = cases.create_case(staff, reference=flows.unique_reference("ORD"),
                                     team_id=anna.memberships[0].team_id,
                                     child_birth_year=TODAY.year - 15, opened_on=TODAY)
        mother = cases.add_participant(staff, the_case, "mother")
        meeting = cases.create_meeting(staff, the_case, held_on=TODAY, type="follow_up",
                                       mode="in_person")
        token = invitations.invite(staff, meeting, mother, packs).token if packs else None
        return token, f"/meetings/{meeting.id}", str(mother.id)


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_a_parent_reads_that_the_questions_are_about_their_child(tablet, server, axe, size):
    token, _, _ = _mothers_meeting(server, ["child-ruler", "ors"])
    page = (tablet(**PHONE) if size == "phone" else tablet()).new_page()
    page.goto(server.url(f"/r/{token}"))
    about = page.locator("p.about")
    expect(about).to_have_text("Spørgsmålene handler om dit barn: svar ud fra, hvordan du "
                               "synes, dit barn har det.")
    expect(page.locator("legend")).to_contain_text("Hvor godt har dit barn det lige nu?")
    expect(page.locator("main")).not_to_contain_text("Truet")
    # Said before the questions, and within the screen's width.
    box, first = about.bounding_box(), page.locator("fieldset.item").first.bounding_box()
    assert box["y"] < first["y"] and box["x"] + box["width"] <= page.viewport_size["width"]
    axe(page, f"child ruler for a parent ({size})")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/respond-parent-{page.viewport_size['width']}.png",
                        full_page=True)

    # The ruler answered, the ORS follows, about the child too; the line's value in
    # Danish is shown with a decimal comma while the form still sends a point.
    page.locator("label.option").nth(6).tap()
    send(page)
    expect(page.locator("p.about")).to_contain_text("dit barn")
    track = page.locator(".track").first
    flows.mark_by_tap(track, 7.3)
    expect(page.locator("output.value").first).to_have_text(re.compile(r"^\d{1,2},\d$"))
    assert re.fullmatch(r"\d{1,2}\.\d", page.locator("input[name=individually]").input_value())


def test_the_meeting_page_counts_questions_and_warns_before_issuing(tablet, server, axe):
    _, meeting_path, mother = _mothers_meeting(server, None)
    page = tablet().new_page()
    flows.log_in(page, "anna")
    page.goto(server.url(meeting_path))
    form = page.locator("form[action$='/invitations']")
    form.locator(f"input[name=participants][value='{mother}']").check()
    form.locator("input[name=instruments][value=coordination]").check()
    form.get_by_role("button", name="Tæl spørgsmålene").tap()
    row = page.locator("table.sittings tbody tr", has_text="Mor")
    expect(row.locator("td.num")).to_have_text("16 (for mange)")
    axe(page, "meeting page with the question count")
    form = page.locator("form[action$='/invitations']")
    form.locator("button.primary").tap()
    warning = page.locator("#sitting-warnings")
    expect(warning).to_contain_text("Mor ville få 16 spørgsmål")
    expect(page.locator("li.qr-card")).to_have_count(0)
    axe(page, "meeting page with a warning")
    page.locator("form[action$='/invitations'] button.primary").tap()
    expect(page.locator("li.qr-card")).to_have_count(1)
