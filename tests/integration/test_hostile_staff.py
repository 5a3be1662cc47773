"""Every hostile input class into every field of every staff and respondent form.

Each form is sent once per field with that field replaced by a hostile value,
on SQLite and PostgreSQL, with CSRF protection on (as in production: the CSRF
check reading the form first is what once hid NUL bytes from the refusal).
Whatever arrives: no 500; NUL bytes and invalid UTF-8 (URL-encoded and
multipart alike) are 400; other refusals re-show the form with a message;
nothing is stored when refused; what is accepted is stored exactly as typed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from sqlalchemy import func, select

from feedback.models import (
    Case,
    CaseTag,
    Invitation,
    InvitationItem,
    InvitationToken,
    Meeting,
    Participant,
    Response,
    ResponseVoid,
    StaffSession,
)
from feedback.services import cases, invitations
from tests import factories as f
from tests.conftest import TODAY, FreshGlobalsClient, hidden_inputs

#: The hostile classes. Per kind of field where the class has a natural form.
HOSTILE = {
    "nul": "ab\x00cd",
    "invalid_utf8": b"ab\xff\xfecd",
    "crlf": "/cases\r\nSet-Cookie: stolen=1",
    "overlong": "x" * 10_000,
    "bidi": "\u202eSAG-42\u202c \u2067x\u2069",
    "script": "<script>alert(1)</script>",
    "template": "{{7*7}}",
    "out_of_window": {"date": "9999-12-31", "int": "9999", "text": "2999-01-01"},
}
CLASSES = list(HOSTILE)

#: What must happen, by kind of field and class: "400", "refused" (the form again with
#: a message, nothing stored), "stored" (accepted, stored exactly), "default"
#: (a redirect target replaced by the default page) or "not_stored" (any answer but a
#: 500, nothing stored: passwords, codes and the like are compared, never stored).
TEXT = {"crlf": "refused", "overlong": "refused", "bidi": "stored", "script": "stored",
        "template": "stored", "out_of_window": "stored"}
EXPECTED = {
    "text": TEXT,
    "choice": dict.fromkeys(CLASSES, "refused"),
    "date": dict.fromkeys(CLASSES, "refused"),
    "int": dict.fromkeys(CLASSES, "refused"),
    "compared": dict.fromkeys(CLASSES, "not_stored"),
    "redirect": dict.fromkeys(CLASSES, "default"),
    "score": dict.fromkeys(CLASSES, "refused"),
}


def hostile(cls: str, kind: str) -> str | bytes:
    value = HOSTILE[cls]
    return value.get(kind, value["text"]) if isinstance(value, dict) else value


def expected(cls: str, kind: str) -> str:
    if cls in ("nul", "invalid_utf8"):
        return "400"
    return EXPECTED[kind][cls]


# --- sending forms as a browser (or an attacker) would -----------------------------

def _bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def urlencoded(fields: dict) -> bytes:
    pairs = []
    for key, values in fields.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append(quote_from_bytes(_bytes(key)) + "=" + quote_from_bytes(_bytes(value)))
    return "&".join(pairs).encode("ascii")


def multipart(fields: dict, boundary: str = "hostileboundary7MA4YWxk") -> bytes:
    out = b""
    for key, values in fields.items():
        for value in values if isinstance(values, list) else [values]:
            out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n"
                    .encode() + _bytes(value) + b"\r\n")
    return out + f"--{boundary}--\r\n".encode()


def send(client, url: str, fields: dict, encoding: str = "urlencoded"):
    if encoding == "multipart":
        return client.post(url, data=multipart(fields),
                           content_type="multipart/form-data; boundary=hostileboundary7MA4YWxk")
    return client.post(url, data=urlencoded(fields),
                       content_type="application/x-www-form-urlencoded")


# --- the world the forms act on ---------------------------------------------------

@dataclass
class Ctx:
    app: object
    db: object
    w: f.World = None
    case: Case = None
    mother: Participant = None
    meeting: Meeting = None
    response: Response = None
    staff: object = None  # anna's signed-in client
    csrf: str = ""
    extra: dict = field(default_factory=dict)

    def client(self):
        return self.app.test_client()

    def sign_in(self, client, user=None) -> str:
        """Log ``client`` in (anna by default) through the form; returns its CSRF token."""
        token = hidden_inputs(client.get("/login").get_data(as_text=True))["csrf_token"]
        user = user or self.w.anna
        response = client.post("/login", data={"csrf_token": token, "username": user.username,
                                               "password": f.PASSWORD})
        assert response.status_code == 302
        page = client.get("/cases").get_data(as_text=True)
        return hidden_inputs(page)["csrf_token"]


def _answer_link(ctx: Ctx, participant) -> Response:
    """An answered ORS for ``participant`` at the meeting (something to void)."""
    link = f.invite(ctx.w.anna, ctx.meeting, participant)
    respondent = ctx.client()
    respondent.get(f"/r/{link.token}")
    page = respondent.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    values = {"individually": "5", "interpersonally": "6", "socially": "7", "overall": "8"}
    assert respondent.post(action, data={**hidden_inputs(page), **values}).status_code == 303
    return ctx.db.session.scalar(select(Response).where(
        Response.invitation_id == link.invitation.id))


@pytest.fixture
def ctx(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    app.test_client_class = FreshGlobalsClient
    c = Ctx(app, db)
    c.w = f.world()
    c.case = f.case(c.w.anna, c.w.north, reference="SAG-1", tags=["trial"])
    c.mother = cases.add_participant(f.actor(c.w.anna), c.case, "mother", "Søs")
    c.meeting = f.meeting(c.w.anna, c.case, held_on=TODAY)
    c.response = _answer_link(c, c.mother)
    c.staff = c.client()
    c.csrf = c.sign_in(c.staff)
    return c


# --- what is stored ---------------------------------------------------------------

COUNTED = (Case, CaseTag, Participant, Meeting, Invitation, InvitationItem, InvitationToken,
           Response, ResponseVoid, StaffSession)


def snapshot(db) -> dict:
    """Everything a form could store: row counts, and the case's own fields."""
    db.session.expire_all()
    counts = {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
              for m in COUNTED}
    open_sessions = db.session.scalar(select(func.count()).select_from(StaffSession)
                                      .where(StaffSession.ended_at.is_(None)))
    rows = db.session.execute(select(
        Case.reference, Case.team_id, Case.responsible_id, Case.child_birth_year,
        Case.child_birth_month, Case.opened_on, Case.closed_on).order_by(Case.reference)).all()
    labels = db.session.scalars(select(Participant.label).order_by(Participant.label)).all()
    return {**counts, "open_sessions": open_sessions, "cases": rows, "labels": labels}


# --- the forms --------------------------------------------------------------------

@dataclass
class Form:
    name: str
    #: field name → kind (text, choice, date, int, compared, redirect, score)
    fields: dict[str, str]
    #: (ctx) → (client, url, valid fields); a redirect target given as "?next" is sent
    #: in the query string.
    prepare: Callable[[Ctx], tuple]
    #: (ctx, field) → the value stored for that field after an accepted submission.
    stored: Callable[[Ctx, str], object] = None
    #: The default page a refused redirect target leads to.
    default: str = ""
    #: The status of an accepted submission.
    accepted: tuple = (302, 303)


def _staff(ctx, url, fields):
    return ctx.staff, url, {"csrf_token": ctx.csrf, **fields}


def _case_fields(reference="SAG-NEW"):
    return {"reference": reference, "child_birth_year": "2012", "child_birth_month": "3",
            "opened_on": "2026-01-10", "tags": "trial, pilot"}


def _new_case(ctx):
    return _staff(ctx, "/cases/new", {**_case_fields(), "team": str(ctx.w.north.id)})


def _edit_case(ctx):
    return _staff(ctx, f"/cases/{ctx.case.id}/edit",
                  {**_case_fields("SAG-EDITED"), "team": str(ctx.w.north.id)})


def _stored_case_text(ctx, name):
    ctx.db.session.expire_all()
    if name == "reference":
        return ctx.db.session.scalars(select(Case.reference)).all()
    return ctx.db.session.scalars(select(CaseTag.name)).all()


def _participant(ctx):
    return _staff(ctx, f"/cases/{ctx.case.id}/participants", {"role": "father", "label": "Bo"})


def _meeting(ctx):
    return _staff(ctx, f"/cases/{ctx.case.id}/meetings",
                  {"held_on": TODAY.isoformat(), "type": "network", "mode": "video"})


def _invite(ctx):
    father = cases.add_participant(f.actor(ctx.w.anna), ctx.case, "father")
    return _staff(ctx, f"/meetings/{ctx.meeting.id}/invitations",
                  {"participants": [str(father.id)], "instruments": ["outcome"],
                   "versions": ["srs"]})


def _transfer(ctx):
    return _staff(ctx, f"/cases/{ctx.case.id}/transfer", {"responsible": str(ctx.w.bo.id)})


def _close(ctx):
    return _staff(ctx, f"/cases/{ctx.case.id}/close", {"closed_on": TODAY.isoformat()})


def _void(ctx):
    return _staff(ctx, f"/responses/{ctx.response.id}/void",
                  {"reason": "The mother answered for the child."})


def _stored_reason(ctx, name):
    ctx.db.session.expire_all()
    return ctx.db.session.scalars(select(ResponseVoid.reason)).all()


def _stored_label(ctx, name):
    ctx.db.session.expire_all()
    return ctx.db.session.scalars(select(Participant.label)).all()


def _login(ctx):
    client = ctx.client()
    token = hidden_inputs(client.get("/login").get_data(as_text=True))["csrf_token"]
    return client, "/login?next", {"csrf_token": token, "username": "anna",
                                   "password": f.PASSWORD, "?next": "/cases/new"}


def _unlock(ctx):
    child = f.child_of(ctx.case)
    response = ctx.staff.post(f"/meetings/{ctx.meeting.id}/invitations", data={
        "csrf_token": ctx.csrf, "participants": [str(child.id)], "instruments": ["outcome"],
        "handover": "1"})
    assert response.status_code == 303
    return ctx.staff, "/unlock", {"csrf_token": ctx.csrf, "password": f.PASSWORD}


def _language(ctx):
    return _staff(ctx, "/language", {"locale": "en", "back": "/cases/new"})


def _new_respondent(ctx):
    """Somebody new at the meeting with an unanswered ORS: (their link, a browser)."""
    person = cases.add_participant(f.actor(ctx.w.anna), ctx.case, "other_carer")
    return f.invite(ctx.w.anna, ctx.meeting, person), ctx.client()


def _respondent(ctx):
    link, client = _new_respondent(ctx)
    assert client.get(f"/r/{link.token}").status_code == 303
    return client


def _answers(ctx):
    client = _respondent(ctx)
    page = client.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    return client, action, {**hidden_inputs(page), "individually": "5", "interpersonally": "6",
                            "socially": "7", "overall": "8"}


def _code(ctx):
    link, client = _new_respondent(ctx)
    return client, "/r/code", {"code": invitations.format_code(link.code)}


def _respondent_language(ctx):
    return _respondent(ctx), "/r/language", {"locale": "en"}


CASE_FIELDS = {"reference": "text", "team": "choice", "child_birth_year": "int",
               "child_birth_month": "choice", "opened_on": "date", "tags": "text"}
FORMS = [
    Form("login", {"username": "compared", "password": "compared", "?next": "redirect"}, _login,
         default="/cases"),
    Form("new case", CASE_FIELDS, _new_case, _stored_case_text),
    Form("edit case", CASE_FIELDS, _edit_case, _stored_case_text),
    Form("participant", {"role": "choice", "label": "text"}, _participant, _stored_label),
    Form("meeting", {"held_on": "date", "type": "choice", "mode": "choice"}, _meeting),
    Form("invite", {"participants": "choice", "instruments": "choice", "versions": "choice",
                    "subject": "choice", "confirmed": "compared", "preview": "compared"},
         _invite, accepted=(200,)),  # the page with the QR codes
    Form("transfer", {"responsible": "choice"}, _transfer),
    Form("close", {"closed_on": "date"}, _close),
    Form("void", {"reason": "text"}, _void, _stored_reason),
    Form("unlock", {"password": "compared"}, _unlock),
    Form("language", {"locale": "choice", "back": "redirect"}, _language, default="/"),
    Form("answers", {"individually": "score", "overall": "score"}, _answers),
    Form("code", {"code": "compared"}, _code),
    # An unknown language is ignored (the page stays in the one chosen before).
    Form("respondent language", {"locale": "compared"}, _respondent_language),
]


def _split(url: str, fields: dict) -> tuple[str, dict]:
    """Fields named "?name" go in the query string (URL-encoded bytes, as sent)."""
    query = {k[1:]: v for k, v in fields.items() if k.startswith("?")}
    body = {k: v for k, v in fields.items() if not k.startswith("?")}
    path = url.split("?")[0]
    return (path + "?" + urlencoded(query).decode() if query else path), body


def _message_shown(page: str) -> bool:
    return 'class="error"' in page or "<h1>" in page


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.name)
def test_hostile_input_in_every_field(ctx, form, cls):
    for name, kind in form.fields.items():
        want = expected(cls, kind)
        for encoding in ("urlencoded", "multipart") if want == "400" else ("urlencoded",):
            client, url, valid = form.prepare(ctx)
            before = snapshot(ctx.db)
            target, body = _split(url, {**valid, name: hostile(cls, kind)})
            response = send(client, target, body, encoding)
            where = f"{form.name}.{name} ← {cls} ({encoding})"
            page = response.get_data(as_text=True)
            assert response.status_code != 500, where
            if want == "400":
                assert response.status_code == 400, where
                assert snapshot(ctx.db) == before, f"{where}: something was stored"
            elif want == "refused":
                assert 400 <= response.status_code < 500, (where, response.status_code)
                assert _message_shown(page), f"{where}: no message"
                assert snapshot(ctx.db) == before, f"{where}: something was stored"
            elif want == "default":
                assert response.status_code in (302, 303), (where, response.status_code)
                location = urlsplit(response.headers["Location"])
                assert location.path == form.default and not location.query, where
            elif want == "stored":
                assert response.status_code in form.accepted, (where, response.status_code)
                assert hostile(cls, kind).strip() in form.stored(ctx, name), where
            else:  # not_stored: compared, never kept
                after = snapshot(ctx.db)
                for key in ("cases", "labels", "response_voids", "responses"):
                    assert after[key] == before[key], where
            # Each field starts again from a clean world: undo what was accepted.
            ctx.db.session.rollback()
            _reset(ctx)


def _reset(ctx):
    """Undo an accepted submission so the next field starts from the same world."""
    db = ctx.db
    db.session.execute(ResponseVoid.__table__.delete())
    db.session.execute(CaseTag.__table__.delete().where(CaseTag.case_id != ctx.case.id))
    for extra in db.session.scalars(select(Case).where(Case.id != ctx.case.id)):
        db.session.execute(Participant.__table__.delete().where(Participant.case_id == extra.id))
        db.session.delete(extra)
    case = db.session.get(Case, ctx.case.id)
    case.reference, case.team_id, case.responsible_id = "SAG-1", ctx.w.north.id, ctx.w.anna.id
    case.child_birth_year, case.child_birth_month = 2012, None
    case.opened_on, case.closed_on = date(2026, 1, 5), None
    db.session.execute(CaseTag.__table__.delete().where(CaseTag.case_id == ctx.case.id))
    db.session.add(CaseTag(case_id=ctx.case.id, name="trial"))
    db.session.commit()
    # Signed out or handed over by the previous field: start a fresh browser.
    ctx.staff = ctx.client()
    ctx.csrf = ctx.sign_in(ctx.staff)


def test_a_refused_redirect_target_never_reaches_the_location_header(ctx):
    """CR/LF, other hosts and non-paths: after a successful login, the default page."""
    for target in ("/cases\r\nSet-Cookie: x=1", "/cases\nX: y", "//evil.example/",
                   "https://evil.example/", "/\\evil.example", "javascript:alert(1)",
                   "/cases\u2028x", "/cases\x7f", "cases", "/" + "a" * 3000):
        client = ctx.client()
        token = hidden_inputs(client.get("/login").get_data(as_text=True))["csrf_token"]
        response = client.post("/login?" + urlencoded({"next": target}).decode(),
                               data={"csrf_token": token, "username": "anna",
                                     "password": f.PASSWORD})
        assert response.status_code == 302, target
        assert response.headers["Location"] == "/cases", target
    client = ctx.client()
    token = hidden_inputs(client.get("/login").get_data(as_text=True))["csrf_token"]
    response = client.post("/login?next=/cases/new%3Fx%3D1",
                           data={"csrf_token": token, "username": "anna",
                                 "password": f.PASSWORD})
    assert response.headers["Location"] == "/cases/new?x=1"  # a real local path is kept


@pytest.mark.parametrize("where", ["path", "query"])
@pytest.mark.parametrize("bad", ["%00", "%ff%fe"])
def test_nul_and_invalid_utf8_in_the_path_or_query_are_400(ctx, where, bad):
    if where == "path":
        # As gunicorn passes it: the unescaped bytes as latin-1 characters (Werkzeug's
        # test client would decode them as UTF-8, replacing what is invalid).
        raw = bytes.fromhex(bad.replace("%", "")).decode("latin-1")
        response = ctx.staff.get("/", environ_overrides={
            "PATH_INFO": f"/cases/{ctx.case.id}{raw}"})
    else:
        response = ctx.staff.get(f"/cases/{ctx.case.id}?x={bad}")
    assert response.status_code == 400
    assert "<h1>" in response.get_data(as_text=True)  # the service's own error page


def test_a_valid_submission_of_every_form_is_accepted(ctx):
    """The baselines the hostile tests start from really work (else they prove nothing)."""
    for form in FORMS:
        client, url, valid = form.prepare(ctx)
        target, body = _split(url, valid)
        response = send(client, target, body)
        assert response.status_code in form.accepted, (form.name, response.status_code,
                                                    response.get_data(as_text=True)[:2000])
        ctx.db.session.rollback()
        _reset(ctx)


def test_uuid_of_a_different_kind_changes_nothing(ctx):
    """A response id that is no UUID, or not this actor's, is 404 and audited."""
    before = snapshot(ctx.db)
    for rid in ("not-a-uuid", str(uuid.uuid4()), "%00"):
        response = ctx.staff.post(f"/responses/{rid}/void",
                                  data={"csrf_token": ctx.csrf, "reason": "x"})
        assert response.status_code in (400, 404), rid
    assert snapshot(ctx.db) == before
