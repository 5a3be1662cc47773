"""The meeting page in the meeting: answers appear as the child presses Send, then the family view.

A case with four earlier meetings (child and mother) is made on the server's
database; anna's tablet shows today's meeting page while a phone in another
browser context answers through the QR link. The results must appear on the
tablet without a reload. Then the tablet shows the family the chosen lines, at
tablet and phone size, and only anna's password brings the staff view back.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, date, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from feedback.extensions import db as _db
from feedback.models import Answer, Response, Subject, User
from feedback.services import cases, consent
from feedback.services.actors import Actor
from feedback.services.instruments import current, ensure_version
from tests.conftest import TODAY
from tests.e2e import flows
from tests.e2e.respondent import answer_page, app_on, send

SHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "screenshots")
#: Earlier meetings: (date, child's CORS item values, mother's ORS item values).
HISTORY = [
    (date(2025, 9, 10), [3.0, 4.1, 4.5, 3.8], [4.0, 5.0, 4.5, 5.5]),
    (date(2025, 10, 15), [4.0, 4.5, 5.0, 4.2], [4.5, 5.5, 5.0, 5.0]),
    (date(2026, 1, 14), [5.2, 5.0, 5.5, 5.1], None),  # the mother was not there
    (date(2026, 2, 18), [5.8, 6.0, 5.4, 5.9], [6.0, 6.5, 6.0, 6.2]),
]


def _stored(meeting, participant, pack_id, values):
    pack = current(pack_id)
    version = ensure_version(pack)
    response = Response(
        submission_id=uuid.uuid4(), meeting_id=meeting.id, participant_id=participant.id,
        instrument_version_id=version.id, subject=Subject.child,
        total_tenths=sum(round(v * 10) for v in values), locale="da",
        submitted_at=datetime.combine(meeting.held_on, datetime.min.time(), UTC))
    response.answers = [Answer(item_key=i.key, position=n, value_tenths=round(v * 10))
                        for n, (i, v) in enumerate(zip(pack.items, values, strict=True))]
    _db.session.add(response)


def _case_with_history(server) -> tuple[str, str, str, str]:
    """anna's case of a 9-year-old and the mother; returns (case, meeting, child, mother) ids."""
    with app_on(server):
        anna = _db.session.scalar(select(User).where(User.username == "anna"))
        actor = Actor.staff(anna)
        case = cases.create_case(actor, reference=flows.unique_reference("LIVE"),
                                 team_id=anna.memberships[0].team_id,
                                 child_birth_year=TODAY.year - 10, opened_on=date(2025, 9, 1))
        mother = cases.add_participant(actor, case, "mother", "Sara")
        child = case.participants[0]
        for held_on, child_values, mother_values in HISTORY:
            meeting = cases.create_meeting(actor, case, held_on=held_on, type="follow_up",
                                           mode="in_person")
            _stored(meeting, child, "cors", child_values)
            if mother_values:
                _stored(meeting, mother, "ors", mother_values)
            _db.session.commit()
        consent.record(actor, case, child.id, collect=True, show_family=True,
                       show_network=False)
        consent.record(actor, case, mother.id, collect=True, show_family=True,
                       show_network=False)
        today = cases.create_meeting(actor, case, held_on=TODAY, type="follow_up",
                                     mode="in_person")
        return str(case.id), str(today.id), str(child.id), str(mother.id)


def test_answers_arrive_without_reload_and_the_family_sees_only_the_chosen_lines(
        tablet, server, axe):
    case_id, meeting_id, child_id, mother_id = _case_with_history(server)
    staff = tablet().new_page()
    flows.log_in(staff, "anna")
    staff.goto(server.url(f"/meetings/{meeting_id}"))
    cards = flows.invite(staff, [child_id])
    link = cards.first.locator(".link-text a").get_attribute("href")
    expect(staff.locator("#live-results [data-respondent]")).to_have_count(1)
    expect(staff.locator("#live-results .state")).to_have_text("Afventer")
    staff.evaluate("window.__sameDocument = true")

    # The child answers on another tablet (another browser, another cookie jar), presses Send.
    phone = tablet().new_page()
    phone.goto(link)
    given = answer_page(phone, 0)
    send(phone)
    total = sum(tenths for tenths, _missing in given.values())
    shown = f"{total // 10},{total % 10}"

    # On the tablet the result turns up by itself; the page was never reloaded.
    result = staff.locator("#live-results [data-pack=cors] .total")
    expect(result).to_have_text(shown)
    expect(staff.locator("#live-results .state")).to_contain_text("Besvaret")
    assert staff.evaluate("window.__sameDocument === true")
    expect(staff.locator("#live-status")).to_have_text("Nye svar er vist.")
    # The journal summary follows, in Danish with a decimal comma, and copies.
    expect(staff.locator("#journal-da")).to_contain_text(f"Barn (CORS): {shown}, op ")
    staff.context.grant_permissions(["clipboard-read", "clipboard-write"])
    staff.locator("button.copy[data-copy=journal-da]").click()
    copied = staff.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"Barn (CORS): {shown}")

    # The caseworker rates the child on the ruler; it joins the results.
    staff.locator("#ruler label.ruler-value", has_text="7").first.tap()
    with staff.expect_navigation():
        staff.locator("#ruler button.primary").tap()
    expect(staff.locator("#live-results [data-pack=child-ruler] .total")).to_have_text("7")
    expect(staff.locator("#journal-da")).to_contain_text("Børnelinealen: Anna Rådgiver 7.")
    axe(staff, "meeting page with results")
    # The graph arrived with the results; tapping its latest point still shows the details.
    point = staff.locator(f"#live-results svg.chart .pt[aria-label^='Barn'][aria-label*='{shown}']")
    point.focus()
    tip = staff.locator("#live-results svg.chart > .tip").first
    expect(tip).to_have_class("tip shown")
    expect(tip.locator(".tip1")).to_contain_text(shown)
    point.blur()
    staff.locator("#results").screenshot(path=f"{SHOTS}/meeting-results-1024.png")

    # Show the family: the child's own line is ticked; the mother agreed, so add her.
    family = staff.locator("#family form")
    expect(family.locator(f"input[value='{child_id}']")).to_be_checked()
    family.locator(f"input[value='{mother_id}']").check()
    with staff.expect_navigation():
        family.locator("button.primary").tap()
    expect(staff).to_have_url(server.url("/family"))
    wide = staff.locator("svg.wide")
    expect(wide).to_be_visible()
    expect(wide.locator(".line")).to_have_count(2)
    expect(wide.locator(".band")).to_have_count(2)
    # The mother missed the January meeting: her line breaks there (a dashed connector).
    expect(wide.locator(".segment.gap.role-mother")).to_have_count(1)
    expect(wide.locator(".segment.gap.role-child")).to_have_count(0)
    expect(wide.locator("text.value")).to_have_text(["23,3", "24,7"])
    expect(staff.locator(".family-legend li")).to_have_count(2)
    # No signals, no case reference, no staff navigation.
    expect(staff.locator("nav, form.logout, .signal")).to_have_count(0)
    axe(staff, "family view, tablet")
    staff.screenshot(path=f"{SHOTS}/family-1024.png", full_page=True)
    for width, height in ((390, 844), (320, 640)):
        staff.set_viewport_size({"width": width, "height": height})
        assert staff.evaluate("document.documentElement.scrollWidth") <= width
        # Upright on a phone: the taller drawing, so the lines and numbers stay apart.
        expect(staff.locator("svg.tall")).to_be_visible()
        expect(staff.locator("svg.wide")).to_be_hidden()
        axe(staff, f"family view at {width} px")
    staff.set_viewport_size({"width": 390, "height": 844})
    staff.screenshot(path=f"{SHOTS}/family-390.png", full_page=True)

    # The family cannot leave: staff pages lead back here; the password is the way out.
    staff.goto(server.url(f"/cases/{case_id}"))
    expect(staff).to_have_url(server.url("/family"))
    staff.locator(".family-back a").tap()
    expect(staff.locator("#password")).to_be_visible()
    staff.fill("#password", flows.PASSWORD)
    with staff.expect_navigation():
        staff.locator("button.primary").tap()
    expect(staff).to_have_url(server.url(f"/meetings/{meeting_id}"))


def test_consent_is_recorded_on_its_page_and_the_picker_obeys_it(tablet, server, axe):
    case_id, meeting_id, child_id, mother_id = _case_with_history(server)
    staff = tablet().new_page()
    flows.log_in(staff, "anna")
    staff.goto(server.url(f"/meetings/{meeting_id}"))
    expect(staff.locator(f"#family input[value='{mother_id}']")).to_be_enabled()
    with staff.expect_navigation():
        staff.locator("#family a.button").tap()
    expect(staff).to_have_url(server.url(f"/cases/{case_id}/consent"))
    # A 9-year-old: the custody holders decide for the child.
    expect(staff.locator(f"#p-{child_id} .meta")).to_contain_text(
        "Forældremyndighedsindehaverne bestemmer.")
    axe(staff, "consent page")
    mother = staff.locator(f"#p-{mother_id}")
    mother.locator("input[name=show_family]").uncheck()
    with staff.expect_navigation():
        mother.locator("button").tap()
    expect(staff.locator(f"#p-{mother_id} input[name=show_family]")).not_to_be_checked()
    expect(staff.locator(f"#p-{mother_id} input[name=collect]")).to_be_checked()
    staff.goto(server.url(f"/meetings/{meeting_id}"))
    expect(staff.locator(f"#family input[value='{mother_id}']")).to_be_disabled()
    expect(staff.locator(f"#family input[value='{child_id}']")).to_be_checked()
    for width in (390, 320):
        staff.set_viewport_size({"width": width, "height": 800})
        assert staff.evaluate("document.documentElement.scrollWidth") <= width
