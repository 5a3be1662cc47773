"""Bad connections: answers wait on the device and are stored exactly once."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.respondent import answer_offline, answer_page, issue, responses_for, stored


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
