"""deploy/nginx/feedback.conf: `nginx -t` on it, and the directives the service relies on.

``nginx -t`` runs on the file as shipped inside a generated main configuration
with a self-signed certificate (skipped without nginx); the text checks always
run. test_https.py serves the smoke walk through the same file.
"""

from __future__ import annotations

import re

import pytest

from feedback.assets import HASHED_NAME
from tests.deploy.support import (
    CERT,
    KEY,
    NGINX_CONF,
    NGINX_LOG_DIR,
    nginx_binary,
    render_nginx,
    run,
)


def _block(text: str, header: str) -> str:
    """The body of the first ``header { ... }`` block (braces balanced)."""
    match = re.search(re.escape(header) + r"\s*\{", text)
    assert match, f"no block {header!r}"
    depth, start = 1, match.end()
    for pos in range(start, len(text)):
        if text[pos] == "{":
            depth += 1
        elif text[pos] == "}":
            depth -= 1
            if depth == 0:
                return text[start:pos]
    raise AssertionError(f"unbalanced block {header!r}")


def _directives(body: str) -> list[str]:
    """Directives of a block and its sub-blocks, without comments, whitespace collapsed."""
    lines = [line.split("#", 1)[0] for line in body.splitlines()]
    flat = re.sub(r"[{}]", ";", " ".join(lines))
    return [" ".join(d.split()) for d in flat.split(";") if d.strip()]


def _servers(text: str) -> tuple[str, str]:
    """Bodies of the HTTP (redirect) and the TLS server blocks, in that order."""
    starts = [m.start() for m in re.finditer(r"^server\s*\{", text, re.M)]
    assert len(starts) == 2, "one HTTP redirect server and one TLS server"
    plain, tls = (_block(text[start:], "server") for start in starts)
    return plain, tls


def _locations(tls_body: str) -> dict[str, list[str]]:
    """Each location of the TLS server (by its match text) and its directives."""
    found = re.findall(r"location\s+((?:~\*?\s+)?\"[^\"]+\"|\S+)\s*\{", tls_body)
    return {loc: _directives(_block(tls_body, f"location {loc}")) for loc in found}


def _log_format(text: str, name: str) -> str:
    match = re.search(r"log_format\s+" + name + r"\s+(.*?);", text, re.S)
    assert match, f"no log_format {name}"
    return match.group(1)


def test_tls_redirect_hsts_and_forwarding():
    text = NGINX_CONF.read_text()
    assert re.search(r"upstream\s+feedback_app\s*\{[^}]*server\s+127\.0\.0\.1:8000;", text)
    plain_body, tls_body = _servers(text)
    plain, tls = _directives(plain_body), _directives(tls_body)
    assert "listen 80" in plain
    assert "return 301 https://$host$request_uri" in plain
    assert "listen 443 ssl" in tls
    assert f"ssl_certificate {CERT}" in tls
    assert f"ssl_certificate_key {KEY}" in tls
    assert "ssl_protocols TLSv1.2 TLSv1.3" in tls
    hsts = [d for d in tls if d.startswith("add_header Strict-Transport-Security")]
    assert hsts and re.search(r"max-age=\d{7,}", hsts[0]) and hsts[0].endswith("always")
    # The app sets its own CSP; nginx must not send a second one.
    assert "Content-Security-Policy" not in " ".join(tls)
    assert "proxy_set_header X-Forwarded-Proto $scheme" in tls
    cache = [d for d in _directives(text) if d.startswith(("proxy_cache", "proxy_store"))]
    assert not cache, f"responses must never be cached by nginx: {cache}"


def test_gzip_covers_what_the_app_sends():
    tls = _directives(_servers(NGINX_CONF.read_text())[1])
    assert "gzip on" in tls
    gzip_types = set(next(d for d in tls if d.startswith("gzip_types ")).split()[1:])
    # The app sends scripts as text/javascript (Python's mimetypes); text/html is
    # always compressed, and nginx warns when it is listed again.
    assert {"text/css", "text/javascript", "application/javascript", "image/svg+xml",
            "text/csv"} <= gzip_types
    assert "text/html" not in gzip_types


def test_what_the_app_sends_is_compressed(static_app):
    tls = _directives(_servers(NGINX_CONF.read_text())[1])
    gzip_types = set(next(d for d in tls if d.startswith("gzip_types ")).split()[1:])
    client = static_app.test_client()
    for path in ("/static/js/respond.js", "/static/css/respond.css"):
        sent = client.get(path)
        sent.close()
        assert sent.mimetype in gzip_types, (path, sent.mimetype)


def test_export_streams_and_uploads_have_their_own_limit():
    tls_body = _servers(NGINX_CONF.read_text())[1]
    assert "client_max_body_size 1m" in _directives(tls_body)
    locations = _locations(tls_body)
    export = locations["/reports/export"]
    assert "proxy_buffering off" in export  # decision 26
    assert "proxy_read_timeout 3600s" in export
    assert "proxy_pass http://feedback_app" in export
    upload = locations["/reports/import"]
    assert "client_max_body_size 200m" in upload
    assert "proxy_pass http://feedback_app" in upload


def test_only_hashed_static_names_are_cached_for_a_year():
    locations = _locations(_servers(NGINX_CONF.read_text())[1])
    lasting = {loc: ds for loc, ds in locations.items()
               if any("immutable" in d or d.startswith("expires") for d in ds)}
    assert len(lasting) == 1, f"one location caches for long: {sorted(lasting)}"
    (location, directives), = lasting.items()
    assert location.startswith("~ ")
    pattern = location[2:].strip().strip('"')
    # nginx's pattern and the app's hashed names (assets.py) are the same set.
    for name, hashed in [("/static/css/respond.5e70cb7320ce.css", True),
                         ("/static/js/respond.6b7c67573867.js", True),
                         ("/static/css/respond.css", False),
                         ("/static/css/respond.5E70CB7320CE.css", False),
                         ("/static/css/respond.5e70cb7320c.css", False),
                         ("/reports/x.5e70cb7320ce.css", False)]:
        assert bool(re.match(pattern, name)) is hashed, name
        in_app = name.startswith("/static/") and HASHED_NAME.match(name[len("/static/"):])
        assert bool(in_app) is hashed, name
    assert "proxy_hide_header Cache-Control" in directives
    assert 'add_header Cache-Control "public, max-age=31536000, immutable"' in directives
    assert "proxy_pass http://feedback_app" in directives
    # Plain names keep the app's Cache-Control (no-cache, revalidated with an ETag).
    plain = locations["/static/"]
    assert plain == ["proxy_pass http://feedback_app"]


def test_a_location_with_its_own_headers_repeats_hsts():
    tls_body = _servers(NGINX_CONF.read_text())[1]
    hsts = next(d for d in _directives(tls_body)
                if d.startswith("add_header Strict-Transport-Security"))
    for location, directives in _locations(tls_body).items():
        if any(d.startswith("add_header") for d in directives):
            # nginx drops the server's add_header where a location has its own.
            assert hsts in directives, location


def test_nginx_logs_no_tokens_or_query_strings():
    text = NGINX_CONF.read_text()
    # $request is the whole request line, query string included.
    leaky = r"\$(request|request_uri|args|arg_\w+|query_string|is_args|http_referer)\b"
    general = _log_format(text, "feedback")
    respondent = _log_format(text, "feedback_respondent")
    for fmt in (general, respondent):
        assert not re.search(leaky, fmt), fmt
    assert "$uri" in general
    assert "$uri" not in respondent, "the /r/<token> path must not be logged"
    plain, tls = (_directives(body) for body in _servers(text))
    assert "access_log off" in plain, "http:// requests may carry /r/<token> too"
    assert f"access_log {NGINX_LOG_DIR}access.log feedback" in tls
    respondent_location = _locations(_servers(text)[1])["/r/"]
    log = next(d for d in respondent_location if d.startswith("access_log "))
    assert log == "access_log off" or log.split()[-1] == "feedback_respondent"


def test_nginx_accepts_the_config(tmp_path):
    nginx = nginx_binary()
    if not nginx:
        pytest.skip("nginx is not installed (apt-get install nginx-light): `nginx -t` not run")
    setup = render_nginx(tmp_path)
    result = run(setup.args(nginx)[:1] + ["-t"] + setup.args(nginx)[1:])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "syntax is ok" in output and "test is successful" in output, output
    assert "[warn]" not in output and "[emerg]" not in output, output
