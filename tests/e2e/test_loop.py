"""The loop in Chromium on a tablet: case → meeting → QR → answers → graph → CSV.

Steps 3–9 of the issue, as a caseworker (anna), a child and an analyst would do
them, against the real server under gunicorn (CSRF and CSP on).
"""

from __future__ import annotations

import csv
import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from feedback.models import Answer, Invitation, Participant, Response
from feedback.services.exports import pseudonym
from tests.conftest import TODAY
from tests.e2e import flows
from tests.e2e.flows import DANISH

pytestmark = pytest.mark.e2e

LONG_COLUMNS = [
    "response_id", "case_id", "respondent_id", "respondent_role", "subject", "team",
    "case_status", "case_opened", "case_closed", "child_birth_year", "child_age_at_meeting",
    "meeting_id", "meeting_date", "meeting_type", "instrument", "instrument_version", "family",
    "item", "value", "missing_code", "submitted_at", "locale",
]
ORS_ITEMS = ["individually", "interpersonally", "socially", "overall"]
HEX16 = re.compile(r"[0-9a-f]{16}")


def _responses(database, invitation_id: str) -> list[Response]:
    with database.session() as s:
        rows = s.scalars(select(Response).where(
            Response.invitation_id == uuid.UUID(invitation_id))).all()
        for r in rows:
            r.answers  # noqa: B018 - load while the session is open
        s.expunge_all()
        return list(rows)


def _role_of(database, invitation_id: str) -> str:
    return database.scalar(
        select(Participant.role).join(Invitation, Invitation.participant_id == Participant.id)
        .where(Invitation.id == uuid.UUID(invitation_id))).value


def _start_case(page, database, axe, *, roles, check_pages=False):
    """Anna: new case with participants, a meeting today; returns (case path, role → id)."""
    page.goto("/cases")
    if check_pages:
        axe(page, "my cases")
    page.locator("main a.button.primary[href$='/cases/new']").click()
    page.wait_for_url("**/cases/new")
    if check_pages:
        axe(page, "new case")
    reference = flows.unique_reference()
    case_path = flows.create_case(page, reference)
    for role, label in roles:
        flows.add_participant(page, role, label)
    meeting_path = flows.create_meeting(page, type="follow_up", mode="in_person")
    return reference, case_path, meeting_path, flows.participant_ids(database, case_path)


def test_caseworker_child_and_analyst_walk_the_loop(server, tablet, axe, database):
    today = TODAY

    # 3. Anna logs in on the tablet.
    staff = tablet().new_page()
    staff.goto("/login")
    expect(staff.locator("html")).to_have_attribute("lang", "da")
    axe(staff, "login page")
    flows.log_in(staff, "anna")

    # 4. "My cases", a new case, a mother ("M") and a father.
    expect(staff).to_have_url(re.compile(r"/cases$"))
    expect(staff.locator("header nav a[href='/cases']")).to_have_text(DANISH["my_cases"])
    reference, case_path, meeting_path, people = _start_case(
        staff, database, axe, roles=[("mother", "M"), ("father", "")], check_pages=True)
    assert set(people) == {"child", "mother", "father"}

    # 5.–6. A meeting dated today; the child and the mother answer ORS.
    cards = flows.invite(staff, [people["child"], people["mother"]])
    assert meeting_path in staff.url
    expect(staff.locator("svg.qr")).to_have_count(2)
    axe(staff, "meeting page with QR codes")
    first = cards.first
    invitation_id = first.get_attribute("data-invitation")
    assert _role_of(database, invitation_id) == "child"
    decoded = flows.decode_qr(first.locator("svg.qr"))
    text_link = first.locator(".link-text a")
    assert decoded == text_link.inner_text().strip() == text_link.get_attribute("href")
    assert decoded.startswith(server.base_url + "/r/")
    token = decoded.rsplit("/", 1)[1]

    # 7. The child opens the scanned link on a second tablet.
    child = tablet().new_page()
    posts = []
    child.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    opened = child.goto(decoded)
    assert opened.status == 200
    assert child.url == server.url("/r/") and token not in child.url
    assert opened.request.redirected_from is not None
    expect(child.locator("html")).to_have_attribute("lang", "da")
    tracks = child.locator(".scale.line .track[role=slider]")
    expect(tracks).to_have_count(4)
    axe(child, "questionnaire")

    expect(child.locator("label.skip")).to_have_count(4)
    expect(child.locator("label.skip").first).to_have_text(DANISH["skip"])

    # Nothing marked: Send does not send, and says why.
    send = child.locator("button.send")
    expect(send).to_have_text(DANISH["send"])
    send.tap()
    notice = child.locator(".untouched")
    expect(notice).to_be_visible()
    expect(notice).not_to_be_empty()
    expect(tracks.first).to_be_focused()
    assert child.url == server.url("/r/") and posts == []
    assert _responses(database, invitation_id) == []

    # The server refuses untouched lines too (a browser that skipped the script).
    with child.expect_navigation() as refused:
        # From a timer, so this evaluate has returned before the page goes away.
        child.evaluate("setTimeout(() => document.querySelector('form.answers').submit())")
    assert refused.value.status == 422
    expect(child.locator("fieldset.item.has-error")).to_have_count(4)
    assert _responses(database, invitation_id) == []
    tracks = child.locator(".scale.line .track[role=slider]")

    # Mark the four lines: a tap, a drag, the keyboard, a tap near the left end.
    expected = {}
    expected["individually"] = flows.mark_by_tap(tracks.nth(0), 7.3)
    expected["interpersonally"] = flows.mark_by_drag(child, tracks.nth(1), 2.0, 5.6)
    tracks.nth(2).focus()
    for key in ("End", "ArrowLeft", "ArrowLeft"):
        child.keyboard.press(key)
    expected["socially"] = 9.8
    expected["overall"] = flows.mark_by_tap(tracks.nth(3), 0.2)
    assert expected == {"individually": 7.3, "interpersonally": 5.6, "socially": 9.8,
                        "overall": 0.2}
    for n, key in enumerate(ORS_ITEMS):
        expect(tracks.nth(n)).to_have_attribute("aria-valuenow", f"{expected[key]:.1f}")
    expect(child.locator(".untouched")).to_be_hidden()

    send = child.locator("button.send")
    send.tap()
    done = child.locator(".done")
    expect(done).to_be_visible()
    expect(done.locator("h1")).to_have_text(DANISH["thanks"])
    assert child.url == server.url("/r/")
    axe(child, "thank-you page")

    stored = _responses(database, invitation_id)
    assert len(stored) == 1
    values = {a.item_key: a.value_tenths for a in stored[0].answers}
    tenths = {k: round(v * 10) for k, v in expected.items()}
    assert values == tenths
    assert all(a.missing_code is None for a in stored[0].answers)
    assert stored[0].total_tenths == sum(tenths.values())
    assert stored[0].locale == "da"

    # The same link again, on a fresh tablet: the one page for every unusable link.
    again = tablet().new_page()
    reopened = again.goto(decoded)
    assert reopened.status == 404
    expect(again.locator("html")).to_have_attribute("lang", "da")
    expect(again.locator("main")).to_contain_text(DANISH["new_code"])
    expect(again.locator("form")).to_have_count(0)

    # 8. Anna's case page: one line for the child, the cut-off, the numbers as a table.
    staff.goto(case_path)
    graph = staff.locator("figure.graph svg")
    expect(graph).to_be_visible()
    series = graph.locator("g.series")
    expect(series).to_have_count(1)
    expect(series).to_have_attribute("data-role", "child")
    expect(series.locator("polyline")).to_have_count(1)
    expect(series.locator("circle")).to_have_count(1)
    expect(graph.locator("line.cutoff")).to_have_count(1)
    total = f"{sum(tenths.values()) / 10:.1f}".replace(".", ",")  # Danish decimal comma
    table = staff.locator("details.graph-table")
    table.locator("summary").tap()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr td.num")).to_have_text(total)
    axe(staff, "case page with graph")

    # 9. The analyst downloads the long CSV.
    analyst = tablet().new_page()
    flows.log_in(analyst, "analytiker")
    analyst.goto("/reports/")
    axe(analyst, "reports")
    with analyst.expect_download() as download_info:
        analyst.locator("main a[href$='/reports/export.csv']").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8", newline="") as fh:
        content = fh.read()
    rows = list(csv.reader(content.splitlines()))
    assert rows[0] == LONG_COLUMNS
    records = [dict(zip(LONG_COLUMNS, r, strict=True)) for r in rows[1:]]
    ours = [r for r in records if r["meeting_date"] == today.isoformat()
            and r["respondent_role"] == "child"]
    newest = max(r["submitted_at"] for r in ours)
    ours = [r for r in ours if r["submitted_at"] == newest]
    assert len(ours) == 4
    assert [r["item"] for r in ours] == ORS_ITEMS
    assert [r["value"] for r in ours] == [f"{expected[k]:.1f}" for k in ORS_ITEMS]
    assert {r["response_id"] for r in ours} == {
        pseudonym(server.pseudonym_key.encode(), stored[0].id)}
    for r in ours:
        assert r["instrument"] == "ors" and r["instrument_version"] == "1.0"
        assert r["family"] == "outcome" and r["subject"] == "self"  # the child rates itself
        assert r["meeting_type"] == "follow_up" and r["missing_code"] == ""
        assert r["team"] == "Team Nord" and r["case_status"] == "open"
        assert r["child_birth_year"] == "2011" and r["locale"] == "da"
        for column in ("response_id", "case_id", "respondent_id", "meeting_id"):
            assert HEX16.fullmatch(r[column]), (column, r[column])
        assert r["submitted_at"].endswith("Z")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", r["submitted_at"])
    assert reference not in content
    assert case_path.rsplit("/", 1)[1] not in content


def test_mother_answers_with_the_keyboard_and_skips_an_item(server, tablet, axe, database):
    staff = tablet().new_page()
    flows.log_in(staff, "anna")
    _, _, _, people = _start_case(staff, database, axe, roles=[("mother", "M")])
    cards = flows.invite(staff, [people["mother"]])
    invitation_id = cards.first.get_attribute("data-invitation")
    assert _role_of(database, invitation_id) == "mother"
    link = cards.first.locator(".link-text a").get_attribute("href")

    mother = tablet().new_page()
    mother.goto(link)
    assert mother.url == server.url("/r/")
    tracks = mother.locator(".scale.line .track[role=slider]")
    expect(tracks).to_have_count(4)

    # Keyboard only: Tab to each line, set it with keys; skip the third item.
    keys = {
        0: ["ArrowRight", "PageUp", "ArrowRight"],  # first key marks the middle: 5 → 6 → 6.1
        1: ["Home", "ArrowUp", "ArrowUp", "ArrowUp"],  # 0 → 0.3
        3: ["End", "PageDown"],  # 10 → 9
    }
    for n in (0, 1):
        flows.tab_to(mother, tracks.nth(n))
        for key in keys[n]:
            mother.keyboard.press(key)
    skip = mother.locator("input[name=missing-socially]")
    flows.tab_to(mother, skip)
    mother.keyboard.press("Space")
    expect(skip).to_be_checked()
    flows.tab_to(mother, tracks.nth(3))
    for key in keys[3]:
        mother.keyboard.press(key)
    for n, shown in {0: "6.1", 1: "0.3", 3: "9.0"}.items():
        expect(tracks.nth(n)).to_have_attribute("aria-valuenow", shown)
    assert tracks.nth(2).get_attribute("aria-valuenow") is None

    flows.tab_to(mother, mother.locator("button.send"))
    mother.keyboard.press("Enter")
    expect(mother.locator(".done")).to_be_visible()

    stored = _responses(database, invitation_id)
    assert len(stored) == 1
    answers = {a.item_key: (a.value_tenths, a.missing_code) for a in stored[0].answers}
    assert answers == {"individually": (61, None), "interpersonally": (3, None),
                       "socially": (None, "skipped"), "overall": (90, None)}
    assert stored[0].total_tenths is None
    assert database.scalar(select(func.count()).select_from(Answer).where(
        Answer.response_id == stored[0].id, Answer.missing_code == "skipped")) == 1
