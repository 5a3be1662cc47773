"""Answering on a tablet: every shipped instrument, hand-over, offline, read-aloud.

Invitations are issued through the app's own services on the server's
database; everything a respondent does happens in Chromium with touch.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from feedback import create_app
from feedback.extensions import db as _db
from feedback.models import Answer, Invitation, InvitationItem, Response, User
from feedback.services import cases, invitations
from feedback.services.actors import Actor
from tests.conftest import TODAY
from tests.e2e import flows
from tests.e2e.conftest import PSEUDONYM_KEY, SECRET_KEY

EVERY_PACK = ["ors", "cors", "ycors", "child-ruler", "srs", "csrs", "ycsrs", "child-meeting",
              "parent-coordination"]


@contextmanager
def app_on(server):
    """The app, in this process, on the server's database: for issuing invitations."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.database_url, "SECRET_KEY": SECRET_KEY,
                      "FEEDBACK_PSEUDONYM_KEY": PSEUDONYM_KEY})
    with app.app_context():
        try:
            yield app
        finally:
            _db.session.remove()
            _db.engine.dispose()


def issue(server, packs: list[str], birth_year: int = 2011) -> tuple[str, uuid.UUID]:
    """A new case of anna's with a meeting today; returns (link token, invitation id)."""
    with app_on(server):
        anna = _db.session.scalar(select(User).where(User.username == "anna"))
        team_id = anna.memberships[0].team_id
        the_case = cases.create_case(Actor.staff(anna), reference=flows.unique_reference("ANS"),
                                     team_id=team_id, child_birth_year=birth_year,
                                     opened_on=TODAY)
        meeting = cases.create_meeting(Actor.staff(anna), the_case, held_on=TODAY, type="follow_up",
                                       mode="in_person")
        child = the_case.participants[0]
        issued = invitations.invite(Actor.staff(anna), meeting, child, packs)
        return issued.token, issued.invitation.id


def stored(database, invitation_id) -> dict[int, dict[str, tuple]]:
    """What the database holds for an invitation: position → item → (tenths, missing)."""
    rows = database.all(
        select(InvitationItem.position, Answer.item_key, Answer.value_tenths, Answer.missing_code)
        .join(Response, (Response.invitation_id == InvitationItem.invitation_id)
              & (Response.instrument_version_id == InvitationItem.instrument_version_id))
        .join(Answer, Answer.response_id == Response.id)
        .where(InvitationItem.invitation_id == invitation_id))
    found: dict[int, dict[str, tuple]] = {}
    for position, key, tenths, missing in rows:
        found.setdefault(position, {})[key] = (tenths, missing)
    return found


def responses_for(database, invitation_id) -> int:
    return database.scalar(select(func.count()).select_from(Response)
                           .where(Response.invitation_id == invitation_id))


def answer_page(page: Page, n: int, *, skip_one: bool = False) -> dict[str, tuple]:
    """Answer every question on the page by touch; returns item → (tenths, missing)."""
    answers = {}
    fieldsets = page.locator("fieldset.item")
    for i in range(fieldsets.count()):
        fieldset = fieldsets.nth(i)
        key = fieldset.get_attribute("id").removeprefix("item-")
        kind = next(k for k in ("line", "faces", "smiley", "likert")
                    if k in fieldset.get_attribute("class").split())
        if skip_one and i == 1:
            if kind == "line":
                fieldset.locator(".skip").tap()
            else:
                fieldset.locator(f"label[for='f-{key}-skip']").tap()
            answers[key] = (None, "skipped")
            continue
        if kind == "line":
            value = flows.mark_by_tap(fieldset.locator(".track"), [2.5, 7.3, 9.1, 4.4, 6.6][i % 5])
            answers[key] = (round(value * 10), None)
            continue
        options = fieldset.locator(".choices label.option")
        if kind == "likert" and i == 2 and fieldset.locator(f"label[for='f-{key}-dk']").count():
            fieldset.locator(f"label[for='f-{key}-dk']").tap()
            answers[key] = (None, "dont_know")
            continue
        index = (n + i) % options.count()
        options.nth(index).tap()
        chosen = fieldset.locator(".choices input:checked").get_attribute("value")
        answers[key] = (round(float(chosen) * 10), None)
        expect(fieldset.locator(".choices input").nth(index)).to_be_checked()
    return answers


def send(page: Page) -> None:
    with page.expect_navigation():
        page.locator("button.send").tap()


def answer_bundle(page: Page, count: int, axe=None) -> dict[int, dict[str, tuple]]:
    """Answer ``count`` questionnaires in a row by touch; position → item → (tenths, missing).

    Runs axe once on each kind of control it meets, when given.
    """
    expected: dict[int, dict[str, tuple]] = {}
    seen_kinds: set[str] = set()
    for n in range(count):
        expect(page.locator("form.answers")).to_be_visible()
        position = int(re.search(r"/r/q/(\d+)", page.locator("form.answers")
                                 .get_attribute("action")).group(1))
        kinds = {k for k in ("line", "faces", "smiley", "likert")
                 if page.locator(f"fieldset.item.{k}").count()}
        if axe and not kinds <= seen_kinds:
            axe(page, f"questionnaire {position} ({', '.join(sorted(kinds))})")
        seen_kinds |= kinds
        expected[position] = answer_page(page, n, skip_one=(n == 0))
        send(page)
    expect(page.locator("h1")).to_have_text(flows.DANISH["thanks"])
    assert seen_kinds == {"line", "faces", "smiley", "likert"} or count < len(EVERY_PACK)
    return expected


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


def answer_offline(tablet, server, packs, n):
    """Answer, lose the connection, press Send: the answers wait in the page."""
    token, invitation_id = issue(server, packs)
    context = tablet()
    page = context.new_page()
    page.goto(server.url(f"/r/{token}"))
    expected = answer_page(page, n)
    context.set_offline(True)
    page.locator("button.send").tap()
    expect(page.locator(".status.offline")).to_be_visible()
    return context, page, invitation_id, expected


def test_going_offline_while_answering_ends_with_exactly_one_response(tablet, server, database):
    context, page, invitation_id, expected = answer_offline(tablet, server, ["ors"], 0)
    assert responses_for(database, invitation_id) == 0
    # The answers wait in the page; the connection returns and they are sent.
    with page.expect_navigation():
        context.set_offline(False)
    expect(page.locator("h1")).to_have_text(flows.DANISH["thanks"])
    assert responses_for(database, invitation_id) == 1
    assert stored(database, invitation_id) == {0: expected}
    assert page.evaluate("Object.keys(localStorage).length") == 0


def test_a_lost_reply_after_the_commit_is_retried_without_a_duplicate(tablet, server, database):
    token, invitation_id = issue(server, ["ors"])
    page = tablet().new_page()
    page.goto(server.url(f"/r/{token}"))
    expected = answer_page(page, 1)
    lost = []

    def drop_reply(route):
        route.fetch()  # the server receives it and commits...
        lost.append(route.request.url)
        route.abort("connectionreset")  # ...but the tablet never hears back

    page.route("**/r/q/*", drop_reply)
    page.locator("button.send").tap()
    expect(page.locator(".status.offline")).to_be_visible()
    assert lost and responses_for(database, invitation_id) == 1
    page.unroute("**/r/q/*")
    # The page retries on its own timer with the same submission id.
    expect(page.locator("h1")).to_have_text(flows.DANISH["thanks"], timeout=15000)
    assert responses_for(database, invitation_id) == 1
    assert stored(database, invitation_id) == {0: expected}


def test_answers_saved_before_a_reload_are_sent_on_load(tablet, server, database):
    context, page, invitation_id, expected = answer_offline(tablet, server, ["child-meeting"], 3)
    assert responses_for(database, invitation_id) == 0
    context.set_offline(False)
    page.reload()  # e.g. the browser was closed and the link opened again
    expect(page.locator("h1")).to_have_text(flows.DANISH["thanks"], timeout=15000)
    assert responses_for(database, invitation_id) == 1
    assert stored(database, invitation_id) == {0: expected}


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
        values.append(flows.line_value(*_tap_middle(items.nth(i))))
        if i < 3:
            page.locator(".pager .next").tap()
            expect(items.nth(i + 1)).to_be_visible()
    send(page)
    expect(page.locator("h1")).to_have_text(flows.DANISH["thanks"])
    got = stored(database, invitation_id)[0]
    assert [got[k][0] for k in ("individually", "interpersonally", "socially", "overall")] == [
        round(v * 10) for v in values]


def _tap_middle(fieldset) -> tuple[float, float]:
    track = fieldset.locator(".track")
    box = track.bounding_box()
    x = box["width"] * 0.62
    track.tap(position={"x": x, "y": box["height"] / 2})
    return x, box["width"]


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
