"""The deployment files in deploy/ and docs/operations.md, checked for real.

* nginx: ``nginx -t`` on deploy/nginx/feedback.conf inside a generated main
  configuration, with a self-signed certificate (skipped without nginx or
  openssl), plus text checks of the directives that always run.
* systemd: ``systemd-analyze verify`` on copies of the units whose missing
  executables are replaced by ``true`` (skipped without systemd-analyze).
* compose.yaml, feedback.env.example, the Dockerfile, gunicorn.conf.py and
  docs/operations.md: plain-text checks against the app's own code.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
NGINX_CONF = DEPLOY / "nginx" / "feedback.conf"
SYSTEMD = DEPLOY / "systemd"
UNITS = ("feedback.service", "feedback-backup.service", "feedback-backup.timer")
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "feedback.env.example"
DOCKERFILE = DEPLOY / "Dockerfile"
OPERATIONS = ROOT / "docs" / "operations.md"

CERT = "/etc/nginx/certs/fullchain.pem"
KEY = "/etc/nginx/certs/privkey.pem"
NGINX_LOG_DIR = "/var/log/nginx/"


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False, **kwargs)


def _feedback_env_vars(path: Path, pattern: str) -> set[str]:
    return set(re.findall(pattern + r'\(\s*"(FEEDBACK_[A-Z0-9_]+)"', path.read_text()))


def config_vars() -> set[str]:
    """Every FEEDBACK_* variable feedback/config.py reads with env.get("...")."""
    return _feedback_env_vars(ROOT / "feedback" / "config.py", r"\benv\.get")


def gunicorn_vars() -> set[str]:
    return _feedback_env_vars(DEPLOY / "gunicorn.conf.py", r"\bos\.environ\.get")


# --------------------------------------------------------------------------- nginx


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


def _log_format(text: str, name: str) -> str:
    match = re.search(r"log_format\s+" + name + r"\s+(.*?);", text, re.S)
    assert match, f"no log_format {name}"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::", 0))
    except OSError:
        return False
    return True


def _nginx_version(nginx: str) -> tuple[int, ...]:
    out = _run([nginx, "-v"]).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in found.groups()) if found else (0, 0, 0)


def test_nginx_conf_has_the_required_directives():
    text = NGINX_CONF.read_text()
    assert re.search(r"upstream\s+feedback_app\s*\{[^}]*server\s+127\.0\.0\.1:8000;", text)

    plain_body, tls_body = _servers(text)
    plain, tls = _directives(plain_body), _directives(tls_body)
    assert "listen 80" in plain
    assert "return 301 https://$host$request_uri" in plain
    assert "listen 443 ssl" in tls
    assert f"ssl_certificate {CERT}" in tls
    assert f"ssl_certificate_key {KEY}" in tls
    assert "client_max_body_size 1m" in tls
    assert "gzip on" in tls
    gzip_types = next(d for d in tls if d.startswith("gzip_types ")).split()[1:]
    # text/html is always compressed; nginx warns when it is listed again.
    assert set(gzip_types) == {"text/css", "application/javascript", "image/svg+xml", "text/csv"}
    hsts = [d for d in tls if d.startswith("add_header Strict-Transport-Security")]
    assert hsts and re.search(r"max-age=\d{7,}", hsts[0]) and hsts[0].endswith("always")
    # The app sets its own CSP; nginx must not send a second one.
    assert "Content-Security-Policy" not in " ".join(tls)
    assert "proxy_set_header X-Forwarded-Proto $scheme" in tls

    export = _directives(_block(tls_body, "location /reports/export"))
    assert "proxy_buffering off" in export
    assert "proxy_read_timeout 3600s" in export
    assert "proxy_pass http://feedback_app" in export
    static = _directives(_block(tls_body, "location /static/"))
    assert "expires 7d" in static and "proxy_pass http://feedback_app" in static
    respondent = _directives(_block(tls_body, "location /r/"))
    assert "proxy_pass http://feedback_app" in respondent
    log = next(d for d in respondent if d.startswith("access_log "))
    assert log == "access_log off" or log.split()[-1] == "feedback_respondent"
    cache = [d for d in _directives(text) if d.startswith(("proxy_cache", "proxy_store"))]
    assert not cache, f"responses must never be cached by nginx: {cache}"
    # add_header in a location would drop the server's HSTS header there.
    for location in re.findall(r"location\s+(\S+)\s*\{", tls_body):
        assert "add_header" not in _block(tls_body, f"location {location}"), location


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


def test_nginx_accepts_the_config(tmp_path):
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if not nginx:
        pytest.skip("nginx is not installed (apt-get install nginx-light): `nginx -t` not run")
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.skip("openssl CLI is not installed: cannot make a test certificate")

    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    made = _run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", "/CN=feedback.example.org", "-keyout", str(key), "-out", str(cert)])
    assert made.returncode == 0, made.stderr

    text = NGINX_CONF.read_text()
    for path in (CERT, KEY, NGINX_LOG_DIR):
        assert path in text, path
    (tmp_path / "logs").mkdir()
    (tmp_path / "temp").mkdir()
    text = text.replace(CERT, str(cert)).replace(KEY, str(key))
    text = text.replace(NGINX_LOG_DIR, f"{tmp_path}/logs/")
    # `nginx -t` binds the listen addresses: ports 80 and 443 need root, so
    # use free high ports instead; and IPv6 only where the machine has it.
    ports = {"80": str(_free_port()), "443": str(_free_port())}
    text, count = re.subn(r"(\blisten\s+(?:\[::\]:)?)(80|443)\b",
                          lambda m: m.group(1) + ports[m.group(2)], text)
    assert count >= 2
    if not _has_ipv6():
        text = re.sub(r"^\s*listen\s+\[::\].*$", "", text, flags=re.M)
    server_conf = tmp_path / "feedback.conf"
    server_conf.write_text(text)

    # Temporary files under tmp_path too, so that no root-owned path is needed.
    configure = _run([nginx, "-V"]).stderr
    temp_paths = ["client_body"] + [m for m in ("proxy", "fastcgi", "uwsgi", "scgi")
                                    if f"--without-http_{m}_module" not in configure]
    temps = "\n".join(f"    {m}_temp_path {tmp_path}/temp/{m};" for m in temp_paths)
    main = tmp_path / "nginx.conf"
    main.write_text(f"events {{}}\nhttp {{\n{temps}\n    include {server_conf};\n}}\n")

    args = [nginx, "-t", "-p", f"{tmp_path}/", "-c", str(main),
            "-g", f"pid {tmp_path}/nginx.pid; error_log stderr;"]
    if _nginx_version(nginx) >= (1, 19, 5):
        args[2:2] = ["-e", "stderr"]  # not even the built-in error log path
    result = _run(args)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "syntax is ok" in output and "test is successful" in output, output
    assert "[warn]" not in output and "[emerg]" not in output, output


def test_compose_rewrites_the_nginx_upstream_it_mounts():
    compose = COMPOSE.read_text()
    conf = NGINX_CONF.read_text()
    assert "./nginx/feedback.conf:/etc/nginx/feedback.conf" in compose
    sed = re.search(r"sed '(s/([^/]+)/([^/]+)/)' /etc/nginx/feedback.conf", compose)
    assert sed, "compose must point the upstream at the app service"
    pattern, replacement = sed.group(2), sed.group(3)
    assert len(re.findall(pattern, conf)) == 1, "the sed pattern must match the upstream once"
    assert replacement == "server app:8000;"
    assert "> /etc/nginx/conf.d/default.conf" in compose


# --------------------------------------------------------------------------- systemd


def _rewrite_missing_executables(unit: str) -> str:
    """Point Exec*= lines whose program is not installed here at ``true``.

    Everything else (directives, arguments, sections) stays as written, so
    verify still reports unknown keys, bad values and syntax errors.
    """
    true = shutil.which("true") or "/bin/true"

    def swap(match: re.Match) -> str:
        program = match.group(3)
        return match.group(0) if os.access(program, os.X_OK) else (
            f"{match.group(1)}{match.group(2)}{true}")

    return re.sub(r"^(Exec\w+=)([-@:+!]*)(/\S+)", swap, unit, flags=re.M)


def _verify(analyze: str, directory: Path, names: list[str]) -> tuple[int, str]:
    result = _run([analyze, "verify", "--man=no", *[f"./{name}" for name in names]],
                  cwd=directory)
    return result.returncode, (result.stdout + result.stderr).strip()


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed: units not verified")

    # Can verify run here at all (no systemd as PID 1 in a container)?
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "probe.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    code, out = _verify(analyze, probe, ["probe.service"])
    if code != 0 or out:
        pytest.skip(f"systemd-analyze verify does not work in this environment: {out}")
    # ...and does it report what this test looks for (an unknown directive)?
    (probe / "probe.service").write_text(
        "[Service]\nType=oneshot\nExecStart=/bin/true\nNoSuchDirective=yes\n")
    code, out = _verify(analyze, probe, ["probe.service"])
    assert "NoSuchDirective" in out, "verify should report unknown directives"

    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        (units / name).write_text(_rewrite_missing_executables((SYSTEMD / name).read_text()))
    code, out = _verify(analyze, units, list(UNITS))
    assert code == 0, out
    assert out == "", f"systemd-analyze verify reported:\n{out}"


def test_systemd_units_have_the_required_settings():
    service = (SYSTEMD / "feedback.service").read_text()
    for line in (
        "User=feedback",
        "WorkingDirectory=/opt/feedback",
        "EnvironmentFile=/etc/feedback/feedback.env",
        "ExecStartPre=/opt/feedback/.venv/bin/flask --app feedback db upgrade",
        'ExecStart=/opt/feedback/.venv/bin/gunicorn -c deploy/gunicorn.conf.py '
        '"feedback:create_app()"',
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/feedback",
        "PrivateTmp=yes",
        "ProtectHome=yes",
    ):
        assert re.search("^" + re.escape(line) + "$", service, re.M), line

    backup = (SYSTEMD / "feedback-backup.service").read_text()
    start = re.search(r"^ExecStart=(.*)$", backup, re.M).group(1)
    assert "pg_dump -Fc " in start and "/var/lib/feedback/backups/" in start
    assert re.search(r"^Type=oneshot$", backup, re.M)
    assert 'sqlite3 /var/lib/feedback/feedback.sqlite ".backup ' in backup
    timer = (SYSTEMD / "feedback-backup.timer").read_text()
    assert re.search(r"^OnCalendar=\S", timer, re.M)
    assert re.search(r"^WantedBy=timers.target$", timer, re.M)


# --------------------------------------------------------------------------- compose, env, image


def test_compose_has_the_three_services():
    compose = COMPOSE.read_text()
    services = _top_level_keys(compose, "services")
    assert {"db", "app", "nginx"} <= services, services
    assert "image: postgres:15" in compose
    assert "healthcheck:" in compose and "pg_isready" in compose
    assert re.search(r"db:\s*\n\s*condition: service_healthy", compose)
    assert "context: .." in compose and "dockerfile: deploy/Dockerfile" in compose
    assert compose.count("env_file: feedback.env") >= 1
    assert "image: nginx:stable" in compose
    assert '"443:443"' in compose and '"80:80"' in compose
    assert "./certs:/etc/nginx/certs" in compose
    assert {"db-data"} <= _top_level_keys(compose, "volumes")


def _top_level_keys(yaml_text: str, section: str) -> set[str]:
    """Keys one level below a top-level mapping, by indentation."""
    match = re.search(rf"^{section}:\s*\n((?:[ \t].*\n|\s*\n)*)", yaml_text, re.M)
    assert match, f"no top-level {section}:"
    body = match.group(1)
    indent = min(len(m) for m in re.findall(r"^( +)\S", body, re.M))
    return set(re.findall(rf"^ {{{indent}}}([\w.-]+):", body, re.M))


def test_env_example_lists_every_variable_the_app_reads():
    wanted = config_vars() | gunicorn_vars()
    # The regexes must really find what config.py and gunicorn.conf.py read.
    assert {"FEEDBACK_DATABASE_URL", "FEEDBACK_SECRET_KEY", "FEEDBACK_PSEUDONYM_KEY",
            "FEEDBACK_PUBLIC_URL", "FEEDBACK_LINK_VALID_HOURS", "FEEDBACK_INSTRUMENTS_DIR",
            "FEEDBACK_MAX_CONTENT_LENGTH"} <= config_vars()
    assert {"FEEDBACK_BIND", "FEEDBACK_WORKERS", "FEEDBACK_THREADS"} <= gunicorn_vars()
    example = ENV_EXAMPLE.read_text()
    listed = set(re.findall(r"^#?(FEEDBACK_[A-Z0-9_]+)=", example, re.M))
    assert wanted <= listed, f"missing from feedback.env.example: {sorted(wanted - listed)}"
    assert listed <= wanted, f"not read by the app: {sorted(listed - wanted)}"
    for secret in ("FEEDBACK_SECRET_KEY", "FEEDBACK_PSEUDONYM_KEY", "POSTGRES_PASSWORD"):
        assert re.search(rf"^{secret}=change-me$", example, re.M), secret
    # Both systemd and compose read it: plain KEY=value lines, no quotes.
    for line in example.splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=[^\"' ]*", line), line


def test_gunicorn_config_uses_gthread_workers():
    settings = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread"
    assert settings["threads"] >= 1
    assert "%(q)s" not in settings["access_log_format"], "no query strings in the access log"


def test_dockerfile_builds_from_files_that_exist():
    docker = DOCKERFILE.read_text()
    steps = _dockerfile_instructions(docker)
    assert steps[0] == ("FROM", "python:3.11-slim")
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    assert "pip install ." in runs
    assert "pybabel compile -d feedback/translations" in runs
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0"), "the app must not run as root"
    cmd = [arg for op, arg in steps if op == "CMD"][-1]
    assert cmd.index("flask --app feedback db upgrade") < cmd.index("gunicorn")
    assert "-c deploy/gunicorn.conf.py" in cmd and "0.0.0.0:8000" in cmd
    # COPY sources are relative to the build context, the repository root.
    for op, arg in steps:
        if op != "COPY":
            continue
        *sources, _dest = arg.split()
        for source in sources:
            if "*" in source:
                continue  # optional by design (matches nothing: copies nothing)
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"


def _dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    steps = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, arg = line.partition(" ")
            steps.append((op.upper(), " ".join(arg.split())))
    return steps


# --------------------------------------------------------------------------- docs


def test_operations_guide_documents_variables_and_real_commands():
    from flask_migrate.cli import db as db_group

    from feedback.cli import demo, instruments, users

    text = OPERATIONS.read_text()
    missing = sorted(v for v in config_vars() | gunicorn_vars() if v not in text)
    assert not missing, f"not documented in docs/operations.md: {missing}"

    groups = {"db": db_group, "demo": demo, "users": users, "instruments": instruments}
    used = re.findall(r"flask --app feedback ([\w-]+)(?: ([\w-]+))?", text)
    assert used, "the guide shows the app's commands"
    for group, command in used:
        assert group in groups, f"flask --app feedback {group}: no such command group"
        assert command in groups[group].commands, f"flask --app feedback {group} {command}"
    for role in re.findall(r"--role ([\w|]+)", text):
        assert set(role.split("|")) <= {"caseworker", "team_lead", "analyst", "admin"}, role
