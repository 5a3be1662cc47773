"""The Dockerfile (a structural lint: hadolint is not packaged here), compose.yaml and
feedback.env.example, checked against each other and against the app's own code.
test_containers.py builds and runs them where the machine allows containers.
"""

from __future__ import annotations

import re

from tests.deploy.support import COMPOSE, DOCKERFILE, ENV_EXAMPLE, GUNICORN_CONF, NGINX_CONF, ROOT

SECRET_NAME = re.compile(r"SECRET|PASSW|TOKEN|PSEUDONYM|PRIVATE|_KEY\b|CREDENTIAL", re.I)
#: Files that hold secrets or local state and must never be built into the image.
NEVER_COPIED = re.compile(r"(^|/)(instance|\.git|\.venv|certs|feedback\.env|\.env)(/|$)|\.pem$|"
                          r"\.key$|\.sqlite")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    steps = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, arg = line.partition(" ")
            steps.append((op.upper(), " ".join(arg.split())))
    return steps


def lint_dockerfile(text: str) -> list[str]:
    """What is wrong with a Dockerfile for this service; empty when nothing is."""
    steps = dockerfile_instructions(text)
    ops = [op for op, _ in steps]
    problems = []
    if "FROM" not in ops:
        return ["no FROM"]
    first_from = ops.index("FROM")
    base_args = [arg for op, arg in steps[:first_from] if op == "ARG"]
    base = steps[first_from][1].split()[0]
    named = re.fullmatch(r"\$\{?(\w+)\}?", base)
    if not named or not any(a.split("=")[0] == named.group(1) for a in base_args):
        problems.append(f"the base image must be a build argument declared before FROM: {base}")
    elif not any(a == f"{named.group(1)}=python:3.11-slim" for a in base_args):
        problems.append("the base defaults to the official python:3.11-slim")
    users = [arg for op, arg in steps if op == "USER"]
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the app must not run as root (a last USER that is not root)")
    else:
        last_user = max(i for i, op in enumerate(ops) if op == "USER")
        for op in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
            if op in ops and ops.index(op) < last_user:
                problems.append(f"{op} comes before USER")
    checks = [arg for op, arg in steps if op == "HEALTHCHECK"]
    if not checks or "/health" not in checks[-1] or checks[-1].upper().startswith("NONE"):
        problems.append("a HEALTHCHECK on /health")
    for op, arg in steps:
        if op in ("ENV", "ARG", "LABEL"):
            for name in re.findall(r"(?:^|\s)([A-Za-z_][\w.]*)=", arg) or [arg.split()[0]]:
                if SECRET_NAME.search(name):
                    problems.append(f"{op} {name}: secrets come from the environment at run time")
        if op in ("COPY", "ADD"):
            for source in arg.split()[:-1]:
                if not source.startswith("--") and NEVER_COPIED.search(source):
                    problems.append(f"{op} {source}: local state or secrets in the image")
        if op == "ADD":
            problems.append("ADD: use COPY (no remote URLs or archives)")
        if op == "RUN" and re.search(r"(curl|wget)[^|]*\|\s*(ba)?sh", arg):
            problems.append("RUN pipes a download into a shell")
        if op == "RUN" and "pip install" in arg and "--trusted-host" in arg:
            problems.append("pip --trusted-host")
    return problems


def test_the_dockerfile_passes_the_lint():
    assert lint_dockerfile(DOCKERFILE.read_text()) == []


def test_the_lint_finds_what_it_looks_for():
    good = DOCKERFILE.read_text()
    assert lint_dockerfile(good.replace("USER feedback", "USER root")) == [
        "the app must not run as root (a last USER that is not root)"]
    assert lint_dockerfile(good.replace("USER feedback", "")) == [
        "the app must not run as root (a last USER that is not root)"]
    no_check = re.sub(r"HEALTHCHECK .*?\n(    .*\n)*", "", good)
    assert lint_dockerfile(no_check) == ["a HEALTHCHECK on /health"]
    fixed = re.sub(r"FROM \$\{BASE\}", "FROM python:3.11-slim", good)
    assert lint_dockerfile(fixed)[0].startswith("the base image must be a build argument")
    leaky = good.replace("USER feedback", "ENV FEEDBACK_SECRET_KEY=abc\nUSER feedback")
    assert lint_dockerfile(leaky) == [
        "ENV FEEDBACK_SECRET_KEY: secrets come from the environment at run time"]
    copied = good.replace("COPY migrations ./migrations",
                          "COPY migrations ./migrations\nCOPY deploy/feedback.env ./")
    assert lint_dockerfile(copied) == [
        "COPY deploy/feedback.env: local state or secrets in the image"]


def test_the_image_compiles_catalogues_and_migrates_before_gunicorn():
    steps = dockerfile_instructions(DOCKERFILE.read_text())
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    assert "pip install ." in runs
    # Catalogues compiled in the image, never taken from the build machine.
    assert runs.index("-name '*.mo' -delete") < runs.index("pybabel compile -d "
                                                            "feedback/translations")
    cmd = [arg for op, arg in steps if op == "CMD"][-1]
    assert cmd.index("flask --app feedback db upgrade") < cmd.index("gunicorn")
    assert "-c deploy/gunicorn.conf.py" in cmd and "0.0.0.0:8000" in cmd
    assert ("EXPOSE", "8000") in steps
    # COPY sources are relative to the build context, the repository root.
    for op, arg in steps:
        if op != "COPY":
            continue
        *sources, _dest = arg.split()
        for source in sources:
            if "*" in source:
                continue  # optional by design (matches nothing: copies nothing)
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"


# --------------------------------------------------------------------------- compose


def _top_level_keys(yaml_text: str, section: str) -> set[str]:
    """Keys one level below a top-level mapping, by indentation."""
    match = re.search(rf"^{section}:\s*\n((?:[ \t].*\n|\s*\n)*)", yaml_text, re.M)
    assert match, f"no top-level {section}:"
    body = match.group(1)
    indent = min(len(m) for m in re.findall(r"^( +)\S", body, re.M))
    return set(re.findall(rf"^ {{{indent}}}([\w.-]+):", body, re.M))


def _service(yaml_text: str, name: str) -> str:
    match = re.search(rf"^  {name}:\n((?:    .*\n|\s*\n)*)", yaml_text, re.M)
    assert match, f"no service {name}"
    return match.group(1)


def test_compose_runs_the_app_behind_nginx_with_postgresql():
    compose = COMPOSE.read_text()
    assert {"db", "app", "nginx"} <= _top_level_keys(compose, "services")
    db, app, nginx = (_service(compose, name) for name in ("db", "app", "nginx"))
    assert "image: postgres:15" in db
    assert "db-data:/var/lib/postgresql/data" in db
    assert "pg_isready" in db
    assert "context: .." in app and "dockerfile: deploy/Dockerfile" in app
    assert re.search(r"db:\s*\n\s*condition: service_healthy", app)
    assert "env_file: feedback.env" in app and "env_file: feedback.env" in db
    assert "ports:" not in app, "only nginx is published"
    assert "image: nginx:stable" in nginx
    assert re.search(r"app:\s*\n(\s*#.*\n)*\s*condition: service_healthy", nginx)
    assert '"443:443"' in nginx and '"80:80"' in nginx
    assert "./certs:/etc/nginx/certs" in nginx
    assert {"db-data", "instance"} <= _top_level_keys(compose, "volumes")


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


def test_compose_documents_stop_migrate_start():
    compose = COMPOSE.read_text()
    stop = compose.index("docker compose stop app")
    migrate = compose.index("docker compose run --rm app flask --app feedback db upgrade")
    start = compose.index("docker compose up -d\n")
    assert stop < migrate < start


# --------------------------------------------------------------------------- settings


def _feedback_env_vars(path, pattern: str) -> set[str]:
    return set(re.findall(pattern + r'\(\s*"(FEEDBACK_[A-Z0-9_]+)"', path.read_text()))


def config_vars() -> set[str]:
    """Every FEEDBACK_* variable feedback/config.py reads with env.get("...")."""
    return _feedback_env_vars(ROOT / "feedback" / "config.py", r"\benv\.get")


def gunicorn_vars() -> set[str]:
    return _feedback_env_vars(GUNICORN_CONF, r"\bos\.environ\.get")


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
