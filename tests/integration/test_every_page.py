"""The strict Content-Security-Policy on every page: a walk over every route of the app.

Every rule in the URL map is requested (GET, and POST with an empty form)
signed out, as each staff role and as a respondent, with real ids where the
route takes one. Every answer must carry the policy, none may be a 500, and
no HTML page may hold what the policy would block (inline scripts, inline
event handlers, style attributes or elements), since that would break the
page in the browser.
"""

from __future__ import annotations

import re
import uuid

from feedback.app import CSP
from tests import factories as f
from tests.conftest import FreshGlobalsClient

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<[^>]+\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"<[^>]+\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
]


def _values(w, the_case, meeting, link):
    invitation_id = str(link.invitation.id)
    return {
        "case_id": str(the_case.id), "meeting_id": str(meeting.id),
        "invitation_id": invitation_id, "response_id": str(uuid.uuid4()),
        "batch_id": str(uuid.uuid4()), "token": link.token, "position": 0,
        "filename": "css/respond.css", "participant_id": str(link.invitation.participant_id),
        "user_id": str(w.anna.id), "team_id": str(w.north.id), "name": "outcome",
    }


def _check(reply, what) -> bool:
    """Checks one answer; whether it was a page actually shown (200, HTML)."""
    assert reply.status_code < 500, f"{what}: {reply.status_code}"
    assert reply.headers.get("Content-Security-Policy") == CSP, what
    if reply.mimetype == "text/html":
        html = reply.get_data(as_text=True)
        for pattern, name in INLINE:
            found = pattern.search(html)
            assert not found, f"{what} has {name}: {found.group(0)[:80]}"
    return reply.status_code == 200 and reply.mimetype == "text/html"


def test_every_route_carries_the_strict_policy(app, db):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, the_case)
    link = f.invite(w.anna, meeting, f.child_of(the_case))
    values = _values(w, the_case, meeting, link)
    rules = [r for r in app.url_map.iter_rules()]
    visited, shown = set(), 0
    app.test_client_class = FreshGlobalsClient
    for who in (None, w.anna, w.lene, w.ali, w.admin, "respondent"):
        client = app.test_client()
        if who == "respondent":
            assert client.get(f"/r/{link.token}").status_code == 303
        elif who is not None:
            f.login(client, who)
        for rule in rules:
            url = rule.rule
            for name in rule.arguments:
                value = values.get(name, str(uuid.uuid4()))  # an unknown id: a 404 is fine too
                url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(value), url)
            for method in sorted(rule.methods & {"GET", "POST"}):
                if rule.endpoint in ("auth.logout", "respond.open_link") and method == "POST":
                    continue
                if rule.endpoint == "auth.logout" or (rule.endpoint == "respond.open_link"
                                                      and who == "respondent"):
                    continue  # would end the walk's own session
                reply = client.open(url, method=method, data={} if method == "POST" else None)
                try:
                    shown += _check(reply, f"{method} {url} as {getattr(who, 'username', who)}")
                finally:
                    reply.close()
                visited.add(rule.endpoint)
    assert visited >= {r.endpoint for r in rules} - {"auth.logout"}, "every route was walked"
    assert shown >= 20, "the walk saw the pages themselves, not only refusals"


def test_the_walk_notices_an_inline_script():
    class Reply:
        status_code = 200
        headers = {"Content-Security-Policy": CSP}
        mimetype = "text/html"

        @staticmethod
        def get_data(as_text=True):
            return '<p>ok</p><script>alert(1)</script>'

    try:
        _check(Reply(), "a page")
    except AssertionError as error:
        assert "inline <script>" in str(error)
    else:
        raise AssertionError("an inline script went unnoticed")
