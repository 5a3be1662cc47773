"""Every respondent's first page tells what the answers are used for and who sees them.

The organisation sets the text in Danish and English on an admin page; until
it does, a default text is shown (in the respondent's language).
"""

from __future__ import annotations

from sqlalchemy import select

from feedback.models import AuditEvent
from tests import factories as f
from tests.conftest import FreshGlobalsClient

OWN_DA = "Kun din sagsbehandler i Testkommune læser dine svar.\nDe slettes efter to år."
OWN_EN = "Only your caseworker in Testkommune reads your answers."


def _respondent(app, w, packs=("ors",)):
    the_case = f.case(w.anna, w.north)
    link = f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case), packs)
    app.test_client_class = FreshGlobalsClient
    browser = app.test_client()
    assert browser.get(f"/r/{link.token}").status_code == 303
    return browser


def _page(browser) -> str:
    return browser.get("/r/").get_data(as_text=True)


def test_the_first_page_shows_the_default_notice_in_the_respondents_language(app, db):
    w = f.world()
    browser = _respondent(app, w)
    page = _page(browser)
    assert "Hvem ser dine svar" in page
    assert "sagsbehandler" in page and "statistik" in page
    browser.post("/r/language", data={"locale": "en"})
    page = _page(browser)
    assert "Who sees your answers" in page and "for statistics" in page


def test_the_organisations_own_notice_replaces_the_default(app, db, client):
    w = f.world()
    f.login(client, w.admin)
    form = client.get("/admin/notice")
    assert form.status_code == 200
    saved = client.post("/admin/notice", data={"notice_da": OWN_DA, "notice_en": OWN_EN})
    assert saved.status_code == 302
    assert client.get(saved.headers["Location"]).status_code == 200
    audited = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "organisation.notice"))
    assert audited is not None and audited.actor_id == w.admin.id

    browser = _respondent(app, w)
    page = _page(browser)
    assert "<p>Kun din sagsbehandler i Testkommune læser dine svar.</p>" in page
    assert "<p>De slettes efter to år.</p>" in page
    assert "statistik" not in page
    browser.post("/r/language", data={"locale": "en"})
    assert OWN_EN in _page(browser)


def test_a_notice_that_is_too_long_is_refused_and_nothing_changes(app, db, client):
    w = f.world()
    f.login(client, w.admin)
    reply = client.post("/admin/notice", data={"notice_da": "x" * 1001, "notice_en": OWN_EN})
    assert reply.status_code == 422
    assert "1000" in reply.get_data(as_text=True)
    db.session.refresh(w.org)
    assert w.org.notice_da is None and w.org.notice_en is None


def test_only_administrators_change_the_notice(app, db, client):
    w = f.world()
    f.login(client, w.anna)
    assert client.get("/admin/notice").status_code == 403
    assert client.post("/admin/notice", data={"notice_da": "x"}).status_code == 403
    db.session.refresh(w.org)
    assert w.org.notice_da is None
