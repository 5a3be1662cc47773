"""What people do in the browser, step by step: shared by the e2e test modules.

Selectors go by id, name, class and role, not by visible text: the catalogue
changes. Only a few Danish texts are fixed and asserted literally (see ``DANISH``).
"""

from __future__ import annotations

import io
import math
import re
import uuid
from datetime import date

import zxingcpp
from PIL import Image
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from feedback.models import Participant
from tests.conftest import TODAY

PASSWORD = "demo-feedback"


#: The Danish texts that are fixed by the product; everything else may be reworded.
DANISH = {
    "log_in": "Log ind", "my_cases": "Mine sager", "show_qr": "Vis QR-koder",
    "send": "Send", "skip": "Spring over", "thanks": "Tak!",
    "new_code": "Bed din rådgiver om en ny kode.",
}


def unique_reference(prefix: str = "E2E") -> str:
    # Upper case: can never turn up by chance inside the CSV's lower-case hex ids.
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


# --- staff ------------------------------------------------------------------------

def log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    button = page.locator("main form button.primary")
    expect(button).to_have_text(DANISH["log_in"])
    button.click()
    expect(page.locator("form.logout")).to_be_visible()


def create_case(page: Page, reference: str, *, team: str = "Team Nord", birth_year: int = 2011,
                opened_on: date | None = None) -> str:
    """Fill /cases/new; returns the new case's path (/cases/<id>)."""
    page.fill("#reference", reference)
    page.select_option("#team", label=team)
    page.fill("#child_birth_year", str(birth_year))
    page.fill("#opened_on", (opened_on or TODAY).isoformat())
    page.locator("main form button.primary").click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    expect(page.locator("h1")).to_contain_text(reference)
    return "/cases/" + page.url.rsplit("/cases/", 1)[1].split("#")[0]


def add_participant(page: Page, role: str, label: str = "") -> None:
    form = page.locator("#participants form")
    before = page.locator("ul.participants li").count()
    form.locator("select#role").select_option(role)
    form.locator("#label").fill(label)
    form.locator("button").click()
    expect(page.locator("ul.participants li")).to_have_count(before + 1)


def create_meeting(page: Page, *, held_on: date | None = None, type: str = "follow_up",
                   mode: str = "in_person") -> str:
    """Use the case page's new-meeting form; returns the meeting's path."""
    form = page.locator("#meetings form")
    form.locator("#held_on").fill((held_on or TODAY).isoformat())
    form.locator("#type").select_option(type)
    form.locator("#mode").select_option(mode)
    form.locator("button.primary").click()
    page.wait_for_url("**/meetings/*")
    return "/meetings/" + page.url.rsplit("/meetings/", 1)[1]


def participant_ids(database, case_path: str) -> dict[str, str]:
    """Role → participant id (as the form's checkbox values) for the case's participants."""
    case_id = uuid.UUID(case_path.rsplit("/", 1)[1])
    rows = database.all(select(Participant.role, Participant.id)
                        .where(Participant.case_id == case_id))
    return {role.value: str(pid) for role, pid in rows}


def invite(page: Page, participant_values: list[str]) -> Locator:
    """Tick who answers (ORS stays ticked) and show the codes; returns the QR cards."""
    form = page.locator("form[action$='/invitations']")
    for value in participant_values:
        form.locator(f"input[name=participants][value='{value}']").check()
    # ORS stays ticked: offered as the pack itself, or as its family ("outcome": ORS,
    # CORS or YCORS by age), depending on the installed packs.
    ors = form.locator("input[name=instruments][value=ors], "
                       "input[name=instruments][value=outcome]")
    expect(ors).to_have_count(1)
    expect(ors).to_be_checked()
    button = form.locator("button.primary")
    expect(button).to_have_text(DANISH["show_qr"])
    button.tap()
    cards = page.locator("li.qr-card")
    expect(cards).to_have_count(len(participant_values))
    return cards


def decode_qr(svg: Locator) -> str:
    """Read a QR code off the screen, as a phone camera would."""
    png = svg.screenshot()
    with Image.open(io.BytesIO(png)) as image:
        found = zxingcpp.read_barcodes(image.convert("L"))
    assert len(found) == 1, f"expected one QR code in the image, found {len(found)}"
    return found[0].text


# --- respondents: the line scales -----------------------------------------------------

def js_round(x: float) -> int:
    """JavaScript's Math.round (halves go up), not Python's banker's rounding."""
    return math.floor(x + 0.5)


def line_value(x: float, width: float) -> float:
    """What respond.js makes of a pointer ``x`` px into a 0–10 track ``width`` px wide."""
    ratio = min(1.0, max(0.0, x / width))
    return js_round(ratio * 100) / 10


def x_for(value: float, width: float) -> float:
    """An x on the track that respond.js reads as ``value``, at least 1 px from the next value.

    The middle of the value's interval; the caller still computes the expected value
    from the x with :func:`line_value`, exactly as the page does.
    """
    x = value / 10 * width
    half_interval = width / 200  # one tenth of the scale is width/100 px
    assert half_interval >= 1.5, f"track too narrow ({width:.0f} px) for unambiguous taps"
    return x


def track_box(track: Locator) -> dict:
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    assert box is not None and box["width"] > 300, box
    return box


def mark_by_tap(track: Locator, value: float) -> float:
    box = track_box(track)
    x = x_for(value, box["width"])
    track.tap(position={"x": x, "y": box["height"] / 2})
    return line_value(x, box["width"])


def mark_by_drag(page: Page, track: Locator, start: float, end: float) -> float:
    box = track_box(track)
    y = box["y"] + box["height"] / 2
    x0, x1 = x_for(start, box["width"]), x_for(end, box["width"])
    page.mouse.move(box["x"] + x0, y)
    page.mouse.down()
    page.mouse.move(box["x"] + x1, y, steps=12)
    page.mouse.up()
    return line_value(x1, box["width"])


def tab_to(page: Page, target: Locator, limit: int = 25) -> None:
    """Press Tab until ``target`` has the focus (keyboard only, no clicks)."""
    handle = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(el) => document.activeElement === el", handle):
            return
    raise AssertionError(f"Tab never reached {target} in {limit} presses")
