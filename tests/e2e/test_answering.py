"""Answering on a tablet or phone: every shipped instrument, read-aloud, the short code.

Invitations are issued through the app's own services on the server's
database; everything a respondent does happens in Chromium with touch.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from feedback.extensions import db as _db
from feedback.models import Invitation, InvitationItem, Response, User
from feedback.services import cases, invitations
from feedback.services.actors import Actor
from tests.conftest import TODAY
from tests.e2e import flows
from tests.e2e.respondent import (
    EVERY_PACK,
    answer_bundle,
    app_on,
    issue,
    responses_for,
    send,
    stored,
    tap_middle,
)


def test_every_shipped_instrument_answered_by_touch_is_stored_as_tapped(tablet, server, database,
                                                                       axe):
    token, invitation_id = issue(server, EVERY_PACK)
    page = tablet().new_page()
    page.goto(server.url(f"/r/{token}"))
    expected = answer_bundle(page, len(EVERY_PACK), axe)
    axe(page, "thank-you page")
    assert stored(database, invitation_id) == expected
    with database.session() as s:
        keys = s.scalars(select(Invitation).where(Invitation.id == invitation_id)).one().items
        assert sorted(i.instrument_version.key for i in keys) == sorted(EVERY_PACK)
        assert all(i.used_at is not None for i in keys)
        # A skipped item leaves the questionnaire without a total; never a 0.
        first = s.scalar(select(Response.total_tenths).join(
            InvitationItem, (InvitationItem.invitation_id == Response.invitation_id)
            & (InvitationItem.instrument_version_id == Response.instrument_version_id))
            .where(InvitationItem.invitation_id == invitation_id, InvitationItem.position == 0))
        assert first is None


def test_first_view_needs_three_requests_after_the_token_redirect(tablet, server):
    token, _ = issue(server, ["ors"])
    page = tablet().new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url.removeprefix(server.base_url)))
    page.goto(server.url(f"/r/{token}"))
    page.wait_for_load_state("networkidle")
    assert requests[0] == f"/r/{token}"
    # Static files are named with a hash of their content (feedback/assets.py).
    after = [re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url) for url in requests[1:]]
    assert after == ["/r/", "/static/css/respond.css", "/static/js/respond.js"], requests
    assert page.url == server.url("/r/")


def test_an_untouched_question_blocks_sending(tablet, server, database):
    token, invitation_id = issue(server, ["child-meeting"])
    page = tablet().new_page()
    page.goto(server.url(f"/r/{token}"))
    page.locator("fieldset.item").first.locator("label.option").nth(9).tap()
    page.locator("button.send").tap()
    expect(page.locator(".untouched")).to_be_visible()
    expect(page.locator("fieldset.item.has-error")).to_have_count(4)
    assert responses_for(database, invitation_id) == 0


SPEECH_STUB = """
(() => {
  window.__spoken = [];
  class Utterance { constructor(text) { this.text = text; this.lang = ""; } }
  const stub = {
    speak(u) { window.__spoken.push({text: u.text, lang: u.lang}); },
    cancel() {}, getVoices() { return []; },
  };
  Object.defineProperty(window, "speechSynthesis", {value: stub, configurable: true});
  Object.defineProperty(window, "SpeechSynthesisUtterance", {value: Utterance, configurable: true});
})();
"""


def test_read_aloud_speaks_the_question_in_the_pages_language(tablet, server):
    token, _ = issue(server, ["cors"], birth_year=TODAY.year - 9)
    context = tablet()
    context.add_init_script(SPEECH_STUB)
    page = context.new_page()
    page.goto(server.url(f"/r/{token}"))
    first = page.locator("fieldset.item").first
    first.locator("button.speak").tap()
    spoken = page.evaluate("window.__spoken")
    assert spoken == [{"text": first.locator("legend").inner_text().split(" ", 1)[1],
                       "lang": "da-DK"}]
    page.locator("form.lang button[value=en]").tap()
    page.wait_for_url("**/r/")
    page.locator("fieldset.item").first.locator("button.speak").tap()
    spoken = page.evaluate("window.__spoken")
    assert spoken == [{"text": "Me (how am I doing?)", "lang": "en-GB"}]


@pytest.fixture
def phone(browser, browser_problems):
    """A phone-sized touch context (390×844), watched like the tablets."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                                  is_mobile=True, locale="da-DK")
    browser_problems.watch(context)
    yield context
    browser_problems.assert_clean()
    context.close()


def test_on_a_phone_one_question_per_screen(phone, server, database, axe):
    token, invitation_id = issue(server, ["ors"])
    page = phone.new_page()
    page.goto(server.url(f"/r/{token}"))
    items = page.locator("fieldset.item")
    expect(items.nth(0)).to_be_visible()
    expect(items.nth(1)).to_be_hidden()
    expect(page.locator(".pager .where")).to_have_text("Spørgsmål 1 af 4")
    axe(page, "questionnaire on a phone")
    values = []
    for i in range(4):
        values.append(flows.line_value(*tap_middle(items.nth(i))))
        if i < 3:
            page.locator(".pager .next").tap()
            expect(items.nth(i + 1)).to_be_visible()
    send(page)
    expect(page.locator("h1")).to_have_text(flows.DANISH["thanks"])
    got = stored(database, invitation_id)[0]
    assert [got[k][0] for k in ("individually", "interpersonally", "socially", "overall")] == [
        round(v * 10) for v in values]


def test_typing_the_short_code_opens_the_questionnaire(tablet, server, axe):
    with app_on(server):
        anna = _db.session.scalar(select(User).where(User.username == "anna"))
        the_case = cases.create_case(Actor.staff(anna), reference=flows.unique_reference("CODE"),
                                     team_id=anna.memberships[0].team_id,
                                     child_birth_year=2011, opened_on=TODAY)
        meeting = cases.create_meeting(Actor.staff(anna), the_case, held_on=TODAY, type="first",
                                       mode="in_person")
        code = invitations.invite(Actor.staff(anna), meeting, the_case.participants[0], ["ors"]).code
    page = tablet().new_page()
    page.goto(server.url("/r/code"))
    axe(page, "code page")
    page.fill("#code", "ABCD-EFGH")
    page.locator("button.primary").tap()
    expect(page.locator("p.error")).to_contain_text(flows.DANISH["new_code"])
    page.fill("#code", invitations.format_code(code).lower())
    with page.expect_navigation():
        page.locator("button.primary").tap()
    expect(page).to_have_url(server.url("/r/"))
    expect(page.locator("fieldset.item.line")).to_have_count(4)
