"""What a family and a caseworker see at phone, tablet and 200 % zoom sizes.

Checked with boxes measured in Chromium, as a person would read the screen:
the ends of each scale where its words and faces say they are, buttons whose
labels fit, one progress counter, errors that go once corrected, focus rings
that can be seen, and wide tables that scroll in their own box instead of the
page. Every page looked at is also checked with axe.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.conftest import TODAY
from tests.e2e import flows
from tests.e2e.conftest import run_axe
from tests.e2e.respondent import issue

#: Width → height: two phones, an iPad in portrait and in landscape.
SCREENS = {320: 640, 390: 844, 768: 1024, 1024: 768}
PHONE = 600  # below this width the questionnaire shows one question per screen

#: px of slack for sub-pixel layout.
SLACK = 2


def age(years: int) -> int:
    """A birth year giving a child about ``years`` at a meeting held today."""
    return TODAY.year - years


def screen(tablet, width: int) -> Page:
    context = tablet(viewport={"width": width, "height": SCREENS[width]},
                     is_mobile=width < PHONE)
    return context.new_page()


def open_link(page: Page, server, packs: list[str], birth_year: int) -> None:
    token, _ = issue(server, packs, birth_year=birth_year)
    page.goto(server.url(f"/r/{token}"))
    expect(page.locator("form.answers")).to_be_visible()


def box(locator: Locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return {**found, "right": found["x"] + found["width"],
            "bottom": found["y"] + found["height"]}


def visible_items(page: Page) -> list[Locator]:
    items = page.locator("fieldset.item")
    return [items.nth(i) for i in range(items.count()) if items.nth(i).is_visible()]


def assert_no_page_scroll(page: Page, what: str) -> None:
    width, inner = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{what}: the page scrolls sideways ({width} px in {inner} px)"


# --- the 0–10 line: its ends ---------------------------------------------------------

def at_line_end(part: dict, line: dict, end: str) -> str | None:
    """Why ``part`` (a face or word) is not at the ``end`` ("low"/"high") of ``line``.

    Accepted: on the line's own row, just outside that end; or on a row directly
    above the line, starting (low) or finishing (high) at that end's x and within
    the line's half on that side.
    """
    middle = line["y"] + line["height"] / 2
    on_row = part["y"] - SLACK <= middle <= part["bottom"] + SLACK
    above = part["bottom"] <= line["y"] + SLACK and line["y"] - part["bottom"] <= 40
    half = line["x"] + line["width"] / 2
    if end == "low":
        beside = line["x"] - 160 <= part["right"] <= line["x"] + SLACK
        over = part["x"] >= line["x"] - SLACK and part["right"] <= half
    else:
        beside = line["right"] - SLACK <= part["x"] <= line["right"] + 160
        over = part["right"] <= line["right"] + SLACK and part["x"] >= half
    if (on_row and beside) or (above and over):
        return None
    return f"{end} part {part} is neither beside nor directly above that end of the line {line}"


@pytest.mark.parametrize("width", SCREENS)
@pytest.mark.parametrize(("pack", "years", "faces"), [("cors", 9, True), ("ors", 15, False)])
def test_the_line_has_its_low_end_left_and_its_high_end_right(tablet, server, width, pack,
                                                              years, faces):
    page = screen(tablet, width)
    open_link(page, server, [pack], age(years))
    items = visible_items(page)
    assert len(items) == (1 if width < PHONE else 4)
    for item in items:
        line = box(item.locator(".track"))
        assert line["width"] >= 0.5 * (width - 60), f"a short line at {width} px: {line}"
        for end in ("low", "high"):
            group = item.locator(f".scale .end.{end}")
            parts = [group.locator(".anchor")]
            if faces:
                parts.append(group.locator("svg.face"))
            assert group.locator("svg.face").count() == int(faces)
            for part in parts:
                problem = at_line_end(box(part), line, end)
                assert problem is None, f"{pack} at {width} px: {problem}"
        # The line's own ends: the sad face starts the row, the happy face ends it.
        low, high = box(item.locator(".end.low")), box(item.locator(".end.high"))
        assert low["right"] < high["x"], f"the ends overlap or swap: {low} {high}"
    assert_no_page_scroll(page, f"{pack} at {width} px")
    run_axe(page, f"{pack} at {width} px")


@pytest.mark.parametrize("width", SCREENS)
@pytest.mark.parametrize(("pack", "years"), [("child-meeting", 9), ("ycors", 4)])
def test_smiley_and_face_end_words_sit_by_the_first_and_last_choice(tablet, server, width,
                                                                    pack, years):
    page = screen(tablet, width)
    open_link(page, server, [pack], age(years))
    for item in visible_items(page):
        options = item.locator(".choices label.option")
        first, last = box(options.first), box(options.last)
        low, high = box(item.locator(".choices .end.low")), box(item.locator(".choices .end.high"))
        # Aligned with the first / last choice's outer edge...
        assert abs(low["x"] - first["x"]) <= SLACK, (width, low, first)
        assert abs(high["right"] - last["right"]) <= SLACK, (width, high, last)
        # ...and on the row directly above or below that choice, nothing between.
        for word, choice in ((low, first), (high, last)):
            gap_below = word["y"] - choice["bottom"]
            gap_above = choice["y"] - word["bottom"]
            assert -SLACK <= gap_below <= 24 or -SLACK <= gap_above <= 24, (width, word, choice)
        assert low["right"] < high["x"] or low["bottom"] <= high["y"], (low, high)
    assert_no_page_scroll(page, f"{pack} at {width} px")
    run_axe(page, f"{pack} at {width} px")


# --- the phone's pager ---------------------------------------------------------------

TEXT_INSIDE = """(button) => {
  const range = document.createRange();
  range.selectNodeContents(button);
  const text = range.getBoundingClientRect(), own = button.getBoundingClientRect();
  const style = getComputedStyle(button);
  const left = own.left + parseFloat(style.borderLeftWidth);
  const right = own.right - parseFloat(style.borderRightWidth);
  return {fits: text.left >= left - 0.5 && text.right <= right + 0.5
                && text.top >= own.top && text.bottom <= own.bottom
                && button.scrollWidth <= button.clientWidth,
          text: [text.left, text.right], button: [own.left, own.right]};
}"""


def assert_label_fits(button: Locator, what: str) -> None:
    expect(button).to_be_visible()
    found = button.evaluate(TEXT_INSIDE)
    assert found["fits"], f"{what}: the label overflows its button: {found}"


@pytest.mark.parametrize("width", [320, 390])
def test_pager_buttons_hold_their_labels_on_a_phone(tablet, server, width):
    page = screen(tablet, width)
    open_link(page, server, ["ors"], age(15))
    pager = page.locator(".pager")
    expect(pager).to_be_visible()
    assert_label_fits(pager.locator(".prev"), f"Back on question 1 at {width} px")
    assert_label_fits(pager.locator(".next"), f"Next at {width} px")
    for _ in range(3):
        pager.locator(".next").tap()
    expect(page.locator("button.send")).to_be_visible()
    assert_label_fits(pager.locator(".prev"), f"Back on the last question at {width} px")
    assert_label_fits(page.locator("button.send"), f"Send at {width} px")
    assert_no_page_scroll(page, f"pager at {width} px")
    run_axe(page, f"last question at {width} px")


COUNTER = re.compile(r"\b\d+ af \d+\b")

VISIBLE_COUNTERS = """(pattern) => {
  const re = new RegExp(pattern);
  return [...document.querySelectorAll("main *")]
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && re.test(n.textContent)))
    .filter((el) => el.checkVisibility() && el.getClientRects().length)
    .map((el) => el.textContent.trim());
}"""


def mark_every_line(page: Page) -> None:
    """Tap the middle of every line, paging on as a phone shows them one by one."""
    items = page.locator("fieldset.item")
    for i in range(items.count()):
        expect(items.nth(i)).to_be_visible()
        items.nth(i).locator(".track").tap()
        if page.locator(".pager .next").is_visible():
            page.locator(".pager .next").tap()


@pytest.mark.parametrize("width", SCREENS)
def test_one_progress_counter_at_a_time(tablet, server, width):
    page = screen(tablet, width)
    open_link(page, server, ["cors", "child-meeting"], age(9))
    counters = page.evaluate(VISIBLE_COUNTERS, COUNTER.pattern)
    assert len(counters) == 1, f"questionnaire 1 at {width} px shows {counters}"
    mark_every_line(page)
    with page.expect_navigation():
        page.locator("button.send").tap()
    expect(page.locator("fieldset.item.smiley").first).to_be_visible()
    counters = page.evaluate(VISIBLE_COUNTERS, COUNTER.pattern)
    assert len(counters) == 1, f"questionnaire 2 at {width} px shows {counters}"


# --- errors that were corrected ------------------------------------------------------

@pytest.mark.parametrize("width", [320, 390])
def test_a_corrected_question_loses_its_error_on_a_phone(tablet, server, width):
    page = screen(tablet, width)
    open_link(page, server, ["ors"], age(15))
    items = page.locator("fieldset.item")
    notice = page.locator(".untouched")
    # The first three are answered, the last one forgotten.
    for i in range(3):
        expect(items.nth(i)).to_be_visible()
        items.nth(i).locator(".track").tap()
        page.locator(".pager .next").tap()
    expect(items.nth(3)).to_be_visible()
    page.locator("button.send").tap()
    expect(notice).to_be_visible()
    expect(items.nth(3)).to_have_class(re.compile(r"\bhas-error\b"))
    run_axe(page, f"a forgotten question at {width} px")
    track = items.nth(3).locator(".track")
    before = box(track)
    track.tap()
    expect(notice).to_be_hidden()
    # Nothing moves under the finger when the error goes.
    after = box(track)
    assert (after["x"], after["width"]) == (before["x"], before["width"]), (before, after)
    expect(items.nth(3)).not_to_have_class(re.compile(r"\bhas-error\b"))
    expect(page.locator("form.answers .error:visible")).to_have_count(0)


def test_a_message_from_the_server_goes_once_the_question_is_answered(tablet, server):
    """The server refused a value (here: one the page was made to send): the phone opens
    on that question, and marking the line again removes the server's message."""
    page = screen(tablet, 390)
    open_link(page, server, ["ors"], age(15))
    mark_every_line(page)
    page.locator("input[name=socially]").evaluate("(input) => { input.value = '11'; }")
    with page.expect_navigation():
        page.locator("button.send").tap()
    refused = page.locator("fieldset#item-socially")
    expect(refused).to_be_visible()
    expect(refused.locator("p.error")).to_be_visible()
    expect(page.locator(".pager .where")).to_have_text("Spørgsmål 3 af 4")
    run_axe(page, "a refused answer on a phone")
    refused.locator(".track").tap()
    expect(refused.locator("p.error")).to_have_count(0)
    expect(refused).not_to_have_class(re.compile(r"\bhas-error\b"))


# --- the code and unlock pages -------------------------------------------------------

@pytest.mark.parametrize("width", SCREENS)
def test_the_code_field_is_big_and_asks_for_capitals_without_corrections(tablet, server, width):
    page = screen(tablet, width)
    page.goto(server.url("/r/code"))
    field = page.locator("#code")
    for name, value in {"autocapitalize": "characters", "autocomplete": "off",
                        "autocorrect": "off", "spellcheck": "false"}.items():
        expect(field).to_have_attribute(name, value)
    expect(field).to_have_attribute("type", "text")
    found, start = box(field), box(page.locator("button.primary"))
    assert found["height"] >= 56 and found["width"] >= min(260, width - 100), found
    assert found["height"] >= start["height"] - SLACK, (found, start)
    assert float(field.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)")) >= 20
    field.fill("abcd-2345")
    assert field.evaluate("(el) => getComputedStyle(el).textTransform") == "uppercase"
    assert_no_page_scroll(page, f"code page at {width} px")
    run_axe(page, f"code page at {width} px")


def hand_over(page: Page, server) -> str:
    """anna hands the tablet over for a new case's child; returns the meeting's path."""
    flows.log_in(page, "anna")
    page.goto(server.url("/cases/new"))
    flows.create_case(page, flows.unique_reference("LAY"), birth_year=age(9))
    meeting = flows.create_meeting(page)
    form = page.locator("form[action$='/invitations']")
    form.locator("input[name=participants]").first.check()
    with page.expect_navigation():
        form.locator("button[name=handover]").click()
    expect(page.locator("form.answers")).to_be_visible()
    return meeting


@pytest.mark.parametrize("width", [320, 1024])
def test_the_unlock_field_is_a_big_password_field(tablet, server, width):
    page = screen(tablet, width)
    hand_over(page, server)
    page.goto(server.url("/unlock"))
    field = page.locator("#password")
    expect(field).to_have_attribute("type", "password")
    expect(field).to_have_attribute("autocomplete", "current-password")
    expect(field).to_have_attribute("autocapitalize", "none")
    found = box(field)
    assert found["height"] >= 56 and found["width"] >= min(260, width - 100), found
    assert_no_page_scroll(page, f"unlock page at {width} px")
    run_axe(page, f"unlock page at {width} px")


# --- focus rings ---------------------------------------------------------------------

FOCUS_RING = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  // A visually hidden radio button shows its focus on its label.
  let shown = el;
  const own = getComputedStyle(el);
  if ((own.outlineStyle === "none" || parseFloat(own.outlineWidth) === 0)
      && el.matches("input.choice") && el.nextElementSibling?.matches("label.option")) {
    shown = el.nextElementSibling;
  }
  const style = getComputedStyle(shown);
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const [r, g, b, a] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [r, g, b, a === undefined ? 1 : a];
  };
  const background = (node) => {
    // The first opaque background colour from ``node`` outwards; the canvas is white.
    let colour = [255, 255, 255];
    const layers = [];
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    for (const c of layers.reverse()) colour = colour.map((v, i) => c[i] * c[3] + v * (1 - c[3]));
    return colour;
  };
  const rect = shown.getBoundingClientRect();
  const width = parseFloat(style.outlineWidth), offset = parseFloat(style.outlineOffset);
  const d = offset + width / 2;  // the middle of the ring, from the border box
  const points = [[rect.left - d, rect.top + rect.height / 2], [rect.right + d, rect.top + rect.height / 2],
                  [rect.left + rect.width / 2, rect.top - d], [rect.left + rect.width / 2, rect.bottom + d]];
  const behind = [];
  for (const [x, y] of points) {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) continue;
    // What lies under the ring: the first element there that is not the focused one.
    const under = document.elementsFromPoint(x, y)
      .find((n) => n !== shown && !shown.contains(n) && n !== el);
    behind.push(background(offset < 0 ? shown : (under || document.documentElement)));
  }
  return {element: el.outerHTML.slice(0, 120), style: style.outlineStyle, width,
          colour: parse(style.outlineColor), behind};
}"""


def luminance(rgb) -> float:
    def channel(v: float) -> float:
        v /= 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def assert_focus_rings_contrast(page: Page, what: str, limit: int = 60) -> int:
    """Tab through the page; every focus ring is ≥ 2 px wide with ≥ 3:1 against what it
    is drawn on. Returns how many elements were checked."""
    page.evaluate("document.activeElement?.blur(); window.scrollTo(0, 0)")
    seen: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        ring = page.evaluate(FOCUS_RING)
        if ring is None or ring["element"] in seen[:1]:
            break
        seen.append(ring["element"])
        assert ring["style"] not in ("none", "hidden") and ring["width"] >= 2, (what, ring)
        assert ring["behind"], (what, ring)
        for background in ring["behind"]:
            ratio = contrast(ring["colour"], background)
            assert ratio >= 3, (f"{what}: focus ring {ring['colour']} on {background} "
                                f"has {ratio:.2f}:1 around {ring['element']}")
    assert seen, f"{what}: nothing took the focus"
    return len(seen)


def test_focus_rings_stand_out_on_respondent_pages(tablet, server):
    page = screen(tablet, 1024)
    open_link(page, server, ["cors", "child-meeting"], age(9))
    # Language, per question the line and skip (and read-aloud where the browser speaks), Send.
    assert assert_focus_rings_contrast(page, "line questionnaire") >= 10
    mark_every_line(page)
    with page.expect_navigation():
        page.locator("button.send").tap()
    # A chosen smiley (blue, on light blue) shows the ring as well as an unchosen one.
    page.locator("fieldset.item").first.locator("label.option").nth(8).tap()
    assert assert_focus_rings_contrast(page, "smiley questionnaire") >= 6
    page.goto(server.url("/r/code"))
    assert_focus_rings_contrast(page, "code page")
    phone = screen(tablet, 390)
    open_link(phone, server, ["ors"], age(15))
    phone.locator(".pager .next").tap()  # Back enabled
    assert_focus_rings_contrast(phone, "questionnaire on a phone")
    staff = screen(tablet, 1024)
    hand_over(staff, server)
    staff.goto(server.url("/unlock"))
    assert_focus_rings_contrast(staff, "unlock page")


def test_focus_rings_stand_out_on_staff_pages(tablet, server, database):
    page = screen(tablet, 1024)
    page.goto(server.url("/login"))
    assert_focus_rings_contrast(page, "login page")
    meeting = staff_meeting_with_invitations(page, server, database)
    assert_focus_rings_contrast(page, "meeting page")
    assert meeting in page.url
    page.goto(server.url("/cases"))
    assert_focus_rings_contrast(page, "case list")
    admin = screen(tablet, 1024)
    flows.log_in(admin, "admin")
    admin.goto(server.url("/admin/"))
    assert_focus_rings_contrast(admin, "admin page")


# --- 200 % zoom: wide tables scroll in their own box ----------------------------------

#: A name without a place to break: the invitation table cannot fit it at 200 % zoom.
LONG_LABEL = "PlejefamilienKristiansenØstergaardNielsen"


def staff_meeting_with_invitations(page: Page, server, database) -> str:
    """anna's new case with a child and a network member, both invited; the meeting path."""
    flows.log_in(page, "anna")
    page.goto(server.url("/cases/new"))
    case_path = flows.create_case(page, flows.unique_reference("ZOOM"), birth_year=age(9))
    flows.add_participant(page, "network", LONG_LABEL)
    meeting = flows.create_meeting(page)
    ids = flows.participant_ids(database, case_path)
    flows.invite(page, [ids["child"], ids["network"]])
    expect(page.locator("section[aria-labelledby=status-title] table")).to_be_visible()
    return meeting


def zoomed(tablet, width: int, height: int) -> Page:
    """A 1024×768 tablet at 200 % zoom: half the CSS pixels, twice the device pixels."""
    return tablet(viewport={"width": width, "height": height}, device_scale_factor=2).new_page()


def assert_tables_scroll_in_their_box(page: Page, what: str, must_scroll: bool) -> None:
    assert_no_page_scroll(page, what)
    regions = page.locator(".table-scroll")
    assert regions.count() >= 1, f"{what}: no table in a scroll box"
    scrolled = 0
    for region in regions.all():
        expect(region).to_have_attribute("role", "region")
        expect(region).to_have_attribute("tabindex", "0")
        name = region.get_attribute("aria-label") or page.locator(
            f"#{region.get_attribute('aria-labelledby')}").inner_text()
        assert name.strip(), f"{what}: a scroll box without a name"
        sizes = region.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
        if sizes[0] <= sizes[1]:
            continue
        # Keyboard only: Tab to the box, arrow right, and the table moves, not the page.
        flows.tab_to(page, region, limit=80)
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(el) => el.scrollLeft > 0", arg=region.element_handle())
        assert page.evaluate("scrollX") == 0, f"{what}: the page scrolled"
        scrolled += 1
    if must_scroll:
        assert scrolled, f"{what}: expected a table wider than the screen to scroll in its box"


@pytest.mark.parametrize(("width", "height"), [(512, 384), (320, 640)],
                         ids=["200pc-zoom", "320px"])
def test_wide_tables_scroll_in_their_own_box(tablet, server, database, width, height):
    page = zoomed(tablet, width, height)
    meeting = staff_meeting_with_invitations(page, server, database)
    assert_tables_scroll_in_their_box(page, f"meeting page at {width} px", must_scroll=True)
    run_axe(page, f"meeting page at {width} px")
    page.goto(server.url("/cases"))
    # The list of cases stacks into label–value pairs instead (issue 9: no table wider
    # than the screen): nothing to scroll sideways.
    assert_no_page_scroll(page, f"case list at {width} px")
    right = page.locator("table.case-list").evaluate("el => el.getBoundingClientRect().right")
    assert right <= width, f"case list at {width} px: the table is wider than the screen"
    run_axe(page, f"case list at {width} px")
    assert meeting
    admin = zoomed(tablet, width, height)
    flows.log_in(admin, "admin")
    admin.goto(server.url("/admin/"))
    assert_tables_scroll_in_their_box(admin, f"admin page at {width} px", must_scroll=True)
    run_axe(admin, f"admin page at {width} px")
