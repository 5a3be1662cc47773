"""Shared by the deploy tests: paths, tools, certificates, nginx rendered for a test,
and the smoke walk through a real HTTPS front (log in, create a case, answer, export).
"""

from __future__ import annotations

import csv
import gzip
import http.cookiejar
import io
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.conftest import hidden_inputs

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "feedback.conf"
SYSTEMD = DEPLOY / "systemd"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "feedback.env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
OPERATIONS = ROOT / "docs" / "operations.md"
VENV_BIN = ROOT / ".venv" / "bin"

#: Where the shipped nginx configuration expects its certificate, key and logs.
CERT = "/etc/nginx/certs/fullchain.pem"
KEY = "/etc/nginx/certs/privkey.pem"
NGINX_LOG_DIR = "/var/log/nginx/"
UPSTREAM = "server 127.0.0.1:8000;"

#: The first view of a questionnaire as sent to a tablet (quality.md).
PAGE_BUDGET = 14 * 1024
IMMUTABLE = "public, max-age=31536000, immutable"
HASHED_STATIC = re.compile(r"^/static/.+\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
ORS_VALUES = {"individually": "3.5", "interpersonally": "7", "socially": "10", "overall": "0.1"}


def run(args: list[str], timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False,
                          **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::", 0))
    except OSError:
        return False
    return True


def nginx_binary() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def nginx_version(nginx: str) -> tuple[int, ...]:
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", run([nginx, "-v"]).stderr)
    return tuple(int(x) for x in found.groups()) if found else (0, 0, 0)


def make_certificate(directory: Path, name: str = "127.0.0.1") -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` (and localhost): (fullchain.pem, privkey.pem)."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed for a test certificate"
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    made = run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", f"/CN={name}", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(key), "-out", str(cert)])
    assert made.returncode == 0, made.stderr
    return cert, key


@dataclass
class NginxSetup:
    main: Path  #: the main configuration, to give to ``nginx -c``
    prefix: Path
    http_port: int
    https_port: int

    def args(self, nginx: str, *extra: str) -> list[str]:
        args = [nginx, "-p", f"{self.prefix}/", "-c", str(self.main),
                "-g", f"pid {self.prefix}/nginx.pid; error_log stderr;{''.join(extra)}"]
        if nginx_version(nginx) >= (1, 19, 5):
            args[1:1] = ["-e", "stderr"]  # not even the built-in error log path
        return args


def render_nginx(directory: Path, *, upstream_port: int = 8000) -> NginxSetup:
    """deploy/nginx/feedback.conf with test paths and ports, inside a main configuration.

    Only what a test machine needs changes: certificate paths, log and temp
    directories, free high ports instead of 80/443 (and no IPv6 where the
    machine has none), and the upstream's port.
    """
    nginx = nginx_binary()
    assert nginx
    cert, key = make_certificate(directory)
    text = NGINX_CONF.read_text()
    for path in (CERT, KEY, NGINX_LOG_DIR, UPSTREAM):
        assert path in text, path
    (directory / "logs").mkdir()
    (directory / "temp").mkdir()
    text = text.replace(CERT, str(cert)).replace(KEY, str(key))
    text = text.replace(NGINX_LOG_DIR, f"{directory}/logs/")
    text = text.replace(UPSTREAM, f"server 127.0.0.1:{upstream_port};")
    ports = {"80": free_port(), "443": free_port()}
    text, count = re.subn(r"(\blisten\s+(?:\[::\]:)?)(80|443)\b",
                          lambda m: f"{m.group(1)}{ports[m.group(2)]}", text)
    assert count >= 2
    if not has_ipv6():
        text = re.sub(r"^\s*listen\s+\[::\].*$", "", text, flags=re.M)
    server_conf = directory / "feedback.conf"
    server_conf.write_text(text)

    # Temporary files under the test directory too, so that no root-owned path is needed.
    configure = run([nginx, "-V"]).stderr
    temp_paths = ["client_body"] + [m for m in ("proxy", "fastcgi", "uwsgi", "scgi")
                                    if f"--without-http_{m}_module" not in configure]
    temps = "\n".join(f"    {m}_temp_path {directory}/temp/{m};" for m in temp_paths)
    # As root, nginx's workers would run as nobody and could not use the test's
    # private directories.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = directory / "nginx.conf"
    main.write_text(f"{user}events {{}}\nhttp {{\n{temps}\n    include {server_conf};\n}}\n")
    return NginxSetup(main, directory, ports["80"], ports["443"])


# --------------------------------------------------------------------------- HTTP


@dataclass
class Page:
    status: int
    headers: Message
    body: bytes  #: as sent on the wire (still compressed when Content-Encoding says so)

    @property
    def text(self) -> str:
        raw = self.body
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        return raw.decode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A client with its own cookies, trusting one CA, that does not follow redirects."""

    def __init__(self, base_url: str, cafile: Path | None = None):
        self.base_url = base_url.rstrip("/")
        context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects(),
            urllib.request.HTTPSHandler(context=context))

    def open(self, method: str, path: str, data: dict | None = None,
             headers: dict | None = None) -> Page:
        url = path if "://" in path else self.base_url + path
        body = urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(  # noqa: S310 - a test's own https:// URL
            url, data=body, method=method, headers=headers or {})
        try:
            response = self.opener.open(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            return Page(response.status, response.headers, response.read())

    def get(self, path: str, **headers) -> Page:
        return self.open("GET", path, headers=headers)

    def post(self, path: str, data: dict) -> Page:
        return self.open("POST", path, data)

    def form(self, path: str, data: dict) -> Page:
        """POST ``data`` with the hidden fields (CSRF token) of the form on ``path``."""
        return self.post(path, {**hidden_inputs(self.get(path).text), **data})

    def log_in(self, username: str, password: str) -> None:
        done = self.form("/login", {"username": username, "password": password})
        assert done.status == 302, (done.status, done.text[:500])


def wait_for(url: str, cafile: Path | None = None, timeout: float = 60,
             alive=lambda: True) -> Page:
    """GET ``url`` until it answers 200; fails after ``timeout`` seconds or when ``alive()`` fails."""
    browser = Browser(url, cafile)
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline and alive():
        try:
            page = browser.get("")
            if page.status == 200:
                return page
            last = page.status
        except (urllib.error.URLError, ConnectionError, TimeoutError, ssl.SSLError) as error:
            last = error
        time.sleep(0.25)
    raise AssertionError(f"{url} did not answer 200 within {timeout:.0f} s: {last}")


# --------------------------------------------------------------------------- the smoke walk


def _one(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    assert found, f"not on the page: {pattern}"
    return found.group(1)


def smoke_walk(base_url: str, cafile: Path, *, caseworker: tuple[str, str],
               analyst: tuple[str, str], team: str, http_url: str | None = None) -> None:
    """Log in, create a case, answer on a phone, export: all over HTTPS through nginx.

    Also what only the real front shows: HSTS, the redirect from plain HTTP, gzip
    on the respondent's page and script, hashed static files cached immutably,
    and the first view within its budget as sent on the wire.
    """
    if http_url:
        plain = Browser(http_url).get("/login")
        assert plain.status == 301
        assert plain.headers["Location"].startswith("https://")

    health = Browser(base_url, cafile).get("/health")
    assert (health.status, health.text) == (200, "ok\n")
    assert "Set-Cookie" not in health.headers

    staff = Browser(base_url, cafile)
    staff.log_in(*caseworker)
    new_case = staff.get("/cases/new")
    assert new_case.status == 200
    assert new_case.headers["Strict-Transport-Security"].startswith("max-age=")
    team_id = _one(r'<option value="([0-9a-f-]{36})"[^>]*>\s*' + re.escape(team), new_case.text)
    # The server's own date (the form's default): nothing here depends on the test's clock.
    today = _one(r'name="opened_on"[^>]*value="(\d{4}-\d\d-\d\d)"', new_case.text)
    created = staff.post("/cases/new", {
        **hidden_inputs(new_case.text), "reference": "SMOKE-1", "team": team_id,
        # 13 or 14 at the meeting: the ORS.
        "child_birth_year": str(int(today[:4]) - 14), "child_birth_month": "",
        "opened_on": today, "tags": ""})
    assert created.status == 302, created.text[:500]
    case_path = urlsplit(created.headers["Location"]).path
    case_page = staff.get(case_path)
    made = staff.post(f"{case_path}/meetings", {
        **hidden_inputs(case_page.text), "held_on": today, "type": "first", "mode": "in_person"})
    assert made.status == 302, made.text[:500]
    meeting_path = urlsplit(made.headers["Location"]).path
    meeting = staff.get(meeting_path)
    child = _one(r'name="participants"[^>]*value="([^"]+)"', meeting.text)
    shown = staff.post(f"{meeting_path}/invitations", {
        **hidden_inputs(meeting.text), "participants": [child], "instruments": ["outcome"]})
    assert shown.status == 200, shown.text[:500]
    link = _one(r'href="(' + re.escape(base_url) + r'/r/[^"]+)"', shown.text)

    phone = Browser(base_url, cafile)
    opened = phone.get(link)
    assert opened.status == 303
    page = phone.get("/r/", **{"Accept-Encoding": "gzip"})
    assert page.status == 200
    assert page.headers["Content-Encoding"] == "gzip"
    html = page.text
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert len(assets) == 2 and all(HASHED_STATIC.match(a) for a in assets), assets
    wire = [len(page.body)]
    for asset in assets:
        got = phone.get(asset, **{"Accept-Encoding": "gzip"})
        assert got.status == 200
        assert got.headers["Content-Encoding"] == "gzip", (asset, got.headers["Content-Type"])
        assert got.headers.get_all("Cache-Control") == [IMMUTABLE], asset
        assert got.headers["Strict-Transport-Security"].startswith("max-age=")
        wire.append(len(got.body))
    assert sum(wire) <= PAGE_BUDGET, f"first view is {sum(wire)} bytes on the wire: {wire}"
    # A hash that is not the file's current one names nothing, and is not cached.
    stale = re.sub(r"\.[0-9a-f]{12}\.", ".000000000000.", assets[0])
    gone = phone.get(stale)
    assert gone.status == 404 and IMMUTABLE not in (gone.headers.get("Cache-Control") or "")

    action = _one(r'action="(/r/q/\d+)"', html)
    sent = phone.post(action, {**hidden_inputs(html), **ORS_VALUES})
    assert sent.status == 303, sent.text[:500]
    assert "Tak" in phone.get("/r/").text

    analysis = Browser(base_url, cafile)
    analysis.log_in(*analyst)
    export = analysis.get("/reports/export.csv")
    assert export.status == 200
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["item"], r["value"]) for r in rows] == [
        ("individually", "3.5"), ("interpersonally", "7.0"), ("socially", "10.0"),
        ("overall", "0.1")]
    assert "SMOKE-1" not in export.text
