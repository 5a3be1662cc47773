"""Static URLs carry a hash of the file's content, so a tablet never keeps an old script:
a changed file is a new URL, and only hashed URLs are cached for a year."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from flask import url_for

from feedback import assets
from tests import factories as f

STATIC = Path(assets.__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def _get(client, path: str) -> tuple[int, bytes]:
    sent = client.get(path)
    body = sent.get_data()
    sent.close()  # static files are streamed from an open file
    return sent.status_code, body


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:assets.HASH_LENGTH]


def test_url_for_names_the_content(static_app):
    with static_app.test_request_context():
        for name in ("css/respond.css", "css/staff.css", "js/respond.js"):
            stem, ext = name.rsplit(".", 1)
            assert url_for("static", filename=name) == (
                f"/static/{stem}.{_digest(STATIC / name)}.{ext}")
        # A name that is no file stays as it is (and is a 404 as before).
        assert url_for("static", filename="css/nothing.css") == "/static/css/nothing.css"


def test_the_hashed_url_serves_the_file_for_a_year(static_app):
    client = static_app.test_client()
    with static_app.test_request_context():
        url = url_for("static", filename="js/respond.js")
    sent = client.get(url)
    assert sent.status_code == 200
    assert sent.get_data() == (STATIC / "js/respond.js").read_bytes()
    assert sent.headers["Cache-Control"] == IMMUTABLE
    assert sent.mimetype == "text/javascript"
    sent.close()
    plain = client.get("/static/js/respond.js")
    assert plain.status_code == 200 and plain.headers["Cache-Control"] == "no-cache"
    assert plain.headers["ETag"]
    plain.close()


def test_a_hash_that_is_not_the_files_names_nothing(static_app):
    client = static_app.test_client()
    css_hash = _digest(STATIC / "css/respond.css")
    for path in ("/static/js/respond.000000000000.js",
                 f"/static/js/respond.{css_hash}.js",  # another file's hash
                 f"/static/css/../../app.{css_hash}.py",
                 f"/static/css/nothing.{css_hash}.css"):
        refused = client.get(path)
        assert refused.status_code == 404, path
        assert "immutable" not in refused.headers.get("Cache-Control", ""), path


def test_a_changed_file_gets_a_new_url_and_the_old_one_is_gone(static_app, tmp_path, monkeypatch):
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "app.js"
    script.write_text("console.log(1);\n")
    monkeypatch.setattr(static_app, "static_folder", str(tmp_path))
    client = static_app.test_client()
    with static_app.test_request_context():
        old = url_for("static", filename="js/app.js")
    assert _get(client, old) == (200, b"console.log(1);\n")

    # A new release is a new process: the hash is computed afresh.
    script.write_text("console.log(2);\n")
    assets.content_hash.cache_clear()
    with static_app.test_request_context():
        new = url_for("static", filename="js/app.js")
    assert new != old
    assert _get(client, new) == (200, b"console.log(2);\n")
    assert _get(client, old)[0] == 404


def test_pages_link_only_hashed_static_files(client, db):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    link = f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case))
    client.get(f"/r/{link.token}")
    respondent = client.get("/r/").get_data(as_text=True)
    f.login(client, w.anna)
    staff = client.get("/cases").get_data(as_text=True)
    for html in (respondent, staff):
        linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
        assert linked
        for path in linked:
            assert assets.HASHED_NAME.match(path[len("/static/"):]), path
            sent = client.get(path)
            assert sent.status_code == 200 and sent.headers["Cache-Control"] == IMMUTABLE
            sent.close()
        # The CSP still holds: scripts only from files, never inline.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
