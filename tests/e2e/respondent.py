"""Respondent steps shared by the browser tests: issuing links and answering by touch.

Invitations are issued through the app's own services on the server's
database; everything a respondent does happens in Chromium with touch.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from feedback import create_app
from feedback.extensions import db as _db
from feedback.models import Answer, InvitationItem, Response, User
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


def tap_middle(fieldset) -> tuple[float, float]:
    track = fieldset.locator(".track")
    box = track.bounding_box()
    x = box["width"] * 0.62
    track.tap(position={"x": x, "y": box["height"] / 2})
    return x, box["width"]
