"""The ORS page as a tablet gets it: bytes on the wire through the shipped nginx config.

The app runs under gunicorn as in production (behind one proxy, public URL
https), with deploy/nginx/feedback.conf in front of it: the shipped file,
changed only where a test instance must differ (high ports instead of 80 and
443, a self-signed certificate, logs and temporary files in a temporary
directory, the upstream's port). nginx runs as an ordinary user, never as the
machine's service. A link issued through the services is opened over HTTPS
like a phone does; after the token redirect the page and everything it loads
are fetched with ``Accept-Encoding: gzip, deflate, br``, and the bytes of the
bodies as they came over the wire are added up.

Budget (docs/quality.md): at most 14 KB compressed for the first view and at
most 3 requests after the token redirect. There is no baseline; the ratio is
the measurement over the budget.

    python -m bench.page_weight
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from bench import seed
from bench.common import (
    PASSWORD,
    ROOT,
    BenchError,
    Database,
    Report,
    cookie_value,
    free_port,
    gunicorn,
    seeding_app,
    server_env,
    stop_process,
    workspace,
)

NGINX_CONF = ROOT / "deploy" / "nginx" / "feedback.conf"
HOST = "feedback.example.org"
BUDGET_BYTES = 14 * 1024
BUDGET_REQUESTS = 3
ACCEPT_ENCODING = "gzip, deflate, br"


def nginx_path() -> str | None:
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_config(workdir: Path, upstream_port: int) -> tuple[Path, int]:
    """The shipped server config, adapted for a test instance; returns (main config, TLS port)."""
    text = NGINX_CONF.read_text()
    cert, key = workdir / "fullchain.pem", workdir / "privkey.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
         f"/CN={HOST}", "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True, check=False)
    if made.returncode != 0:
        raise BenchError(f"openssl could not make a test certificate: {made.stderr}")
    replacements = {
        "/etc/nginx/certs/fullchain.pem": str(cert),
        "/etc/nginx/certs/privkey.pem": str(key),
        "/var/log/nginx/": f"{workdir}/logs/",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
    }
    for old, new in replacements.items():
        if old not in text:
            raise BenchError(f"deploy/nginx/feedback.conf no longer has {old!r}: adapt the bench")
        text = text.replace(old, new)
    ports = {"80": str(free_port()), "443": str(free_port())}
    text = re.sub(r"(\blisten\s+(?:\[::\]:)?)(80|443)\b",
                  lambda m: m.group(1) + ports[m.group(2)], text)
    if not _has_ipv6():
        text = re.sub(r"^\s*listen\s+\[::\].*$", "", text, flags=re.M)
    (workdir / "logs").mkdir()
    (workdir / "temp").mkdir()
    server_conf = workdir / "feedback.conf"
    server_conf.write_text(text)
    temps = "\n".join(f"    {m}_temp_path {workdir}/temp/{m};"
                      for m in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    mime = "    include /etc/nginx/mime.types;\n" if Path("/etc/nginx/mime.types").exists() else ""
    main = workdir / "nginx.conf"
    # As Debian's /etc/nginx/nginx.conf around the site: MIME types, sendfile.
    main.write_text(f"events {{}}\nhttp {{\n{mime}    default_type application/octet-stream;\n"
                    f"    sendfile on;\n{temps}\n    include {server_conf};\n}}\n")
    return main, int(ports["443"])


def _version(binary: str) -> tuple[int, ...]:
    out = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in found.groups()) if found else (0, 0, 0)


def _unprivileged():
    """Run nginx as nobody when we are root: a test instance, not the machine's service."""
    if os.geteuid() != 0:
        return None
    import pwd

    nobody = pwd.getpwnam("nobody")

    def demote():
        os.setgroups([])
        os.setgid(nobody.pw_gid)
        os.setuid(nobody.pw_uid)

    return demote, nobody


@contextlib.contextmanager
def nginx(workdir: Path, upstream_port: int):
    binary = nginx_path()
    if not binary:
        raise BenchError("nginx is not installed (apt-get install nginx-light)")
    main, port = test_config(workdir, upstream_port)
    args = [binary, "-p", f"{workdir}/", "-c", str(main), "-g",
            f"daemon off; pid {workdir}/nginx.pid; error_log {workdir}/logs/error.log;"]
    if _version(binary) >= (1, 19, 5):
        args[1:1] = ["-e", f"{workdir}/logs/error.log"]  # not even the built-in log path
    demote = _unprivileged()
    if demote:
        fn, user = demote
        for path in [workdir, *workdir.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
    check = subprocess.run([*args[:-2], "-t", *args[-2:]], capture_output=True, text=True,
                           preexec_fn=demote[0] if demote else None, check=False)
    if check.returncode != 0:
        raise BenchError(f"nginx -t refused the adapted config: {check.stderr}")
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=demote[0] if demote else None)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            if process.poll() is not None:
                log = (workdir / "logs" / "error.log").read_text(errors="replace")
                raise BenchError(f"nginx exited: {log[-2000:]}")
            time.sleep(0.05)
        yield port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful
        stop_process(process)


@dataclass
class Fetched:
    path: str
    status: int
    content_type: str
    encoding: str
    wire_bytes: int  # the body as it came over the wire (compressed if it was)
    header_bytes: int
    body: bytes  # decoded


def fetch(port: int, path: str, cookie: str = "") -> Fetched:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        headers = {"Host": HOST, "Accept-Encoding": ACCEPT_ENCODING,
                   "User-Agent": "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) feedback-bench"}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        encoding = response.headers.get("Content-Encoding", "")
        header_bytes = len(f"HTTP/1.1 {response.status} {response.reason}\r\n") + sum(
            len(f"{k}: {v}\r\n") for k, v in response.headers.items()) + 2
        body = raw
        if encoding == "gzip":
            import gzip

            body = gzip.decompress(raw)
        elif encoding:
            raise BenchError(f"{path}: unexpected Content-Encoding {encoding}")
        return Fetched(path, response.status, response.headers.get("Content-Type", ""),
                       encoding, len(raw), header_bytes, body)
    finally:
        conn.close()


def subresources(url: str, fetched: Fetched) -> list[str]:
    """What a browser loads next because of this response (same-origin paths)."""
    text = fetched.body.decode("utf-8", errors="replace")
    found: list[str] = []
    if "html" in fetched.content_type:
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        for tag in re.findall(r"<(?:link|script|img|source|iframe)\b[^>]*>", text):
            if re.search(r'rel="(?:preconnect|dns-prefetch)"', tag):
                continue
            for ref in re.findall(r'\b(?:href|src)="([^"]+)"', tag):
                found.append(ref)
        found += re.findall(r'style="[^"]*url\(([^)]+)\)', text)
    elif "css" in fetched.content_type:
        found += [u.strip("'\" ") for u in re.findall(r"url\(([^)]+)\)", text)]
        found += re.findall(r'@import\s+["\']([^"\']+)', text)
    elif "javascript" in fetched.content_type:
        found += re.findall(r'\bimport\s*(?:[^"\'();]*?\bfrom\s*)?["\']([^"\']+)["\']', text)
        found += re.findall(r'\bimport\(\s*["\']([^"\']+)["\']', text)
        found += re.findall(r'\bfetch\(\s*["\']([^"\']+)["\']', text)
    paths = []
    for ref in found:
        if ref.startswith(("data:", "#", "javascript:", "mailto:")):
            continue
        absolute = urljoin(url, ref)
        if absolute.startswith(f"https://{HOST}/"):
            paths.append(absolute.removeprefix(f"https://{HOST}"))
    return paths


def measure(port: int, token: str) -> list[Fetched]:
    """Open the link, then load the page and everything it pulls in, each once."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        conn.request("GET", f"/r/{token}", headers={"Host": HOST,
                                                   "Accept-Encoding": ACCEPT_ENCODING})
        opened = conn.getresponse()
        opened.read()
        if opened.status != 303:
            raise BenchError(f"opening the link answered {opened.status}")
        cookie = f"feedback_respondent={cookie_value(opened.headers, 'feedback_respondent')}"
        location = urljoin(f"https://{HOST}/r/{token}", opened.headers["Location"])
    finally:
        conn.close()
    page_path = location.removeprefix(f"https://{HOST}")
    queue, seen, loaded = [page_path], set(), []
    while queue:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        fetched = fetch(port, path, cookie if path.startswith("/r/") else "")
        loaded.append(fetched)
        queue += subresources(f"https://{HOST}{path}", fetched)
    return loaded


def run(report: Report, workers: int | None = None) -> None:
    with workspace("page-weight") as workdir:
        database = Database.create("sqlite", workdir, "page_weight")
        with seeding_app(database):
            seed.staff(PASSWORD)
            link = seed.issue_links(seed.CASEWORKER, 1)[0]
        env = server_env(database, FEEDBACK_TRUSTED_PROXIES="1",
                         FEEDBACK_PUBLIC_URL=f"https://{HOST}")
        with gunicorn("feedback:create_app()", env, workdir, "app", probe="/login",
                      workers=workers) as app_server, nginx(workdir, app_server.port) as port:
            loaded = measure(port, link.token)
        _report(report, loaded)


def _report(report: Report, loaded) -> None:
    what = "ORS page first view"
    bad = [f"{f.path} {f.status}" for f in loaded if f.status != 200]
    report.data[what] = [{k: v for k, v in vars(f).items() if k != "body"} for f in loaded]
    if bad:
        report.refuse(what, "not every resource loaded: " + ", ".join(bad))
        return
    total = sum(f.wire_bytes for f in loaded)
    parts = ", ".join(
        f"{f.path} {f.wire_bytes:,} B "
        + (f"{f.encoding}" if f.encoding else f"uncompressed {f.content_type.split(';')[0]}")
        for f in loaded)
    report.ratio(f"{what} bytes", total / BUDGET_BYTES,
                 f"{total:,} B of bodies on the wire through nginx ({parts}); "
                 f"headers {sum(f.header_bytes for f in loaded):,} B more; "
                 f"budget {BUDGET_BYTES:,} B; target ≤ 1")
    report.ratio(f"{what} requests", len(loaded) / BUDGET_REQUESTS,
                 f"{len(loaded)} requests after the token redirect: "
                 + " ".join(f.path for f in loaded) + f"; budget {BUDGET_REQUESTS}; target ≤ 1")


def main(argv=None) -> int:
    report = Report("page_weight")
    try:
        run(report)
    except BenchError as error:
        report.refuse("ORS page first view", str(error))
    report.write()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
