"""The image built from deploy/Dockerfile and the stack of deploy/compose.yaml run with
Debian's podman (decision 41), then the smoke walk through its nginx over HTTPS:
log in, create a case, answer, export.

No registry is reachable on these machines, so:

* the base image is built locally (debootstrap into a directory, ``podman import``)
  and given to the Dockerfile as its ``BASE`` build argument, as an operator would
  give the official ``python:3.11-slim`` (set ``FEEDBACK_TEST_CONTAINER_BASE`` to
  use an existing image instead);
* postgres:15 and nginx:stable are replaced, in a rendered copy of compose.yaml,
  by stand-ins built from the same base (tests/deploy/containers/);
* pip installs from a wheelhouse made on this machine, mounted into the build.

Where podman, podman-compose or containers themselves cannot run here, the test
says why and skips; test_https.py walks the same path through Debian's nginx and
gunicorn on the host, and the static checks (test_nginx, test_systemd,
test_container_files) run everywhere.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from tests.deploy.support import (
    COMPOSE,
    ENV_EXAMPLE,
    NGINX_CONF,
    ROOT,
    free_port,
    make_certificate,
    run,
    smoke_walk,
    wait_for,
)

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent / "containers"
LOCAL_BASE = "localhost/feedback-test-debian:bookworm"
MIRROR = os.environ.get("FEEDBACK_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PASSWORD = "container-smoke-password"
#: Used when podman's defaults cannot start a container here (crun on a hybrid cgroup
#: layout, or default rlimits above what this machine allows).
FALLBACK_CONF = """[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
"""


class Podman:
    """podman and podman-compose with one environment (and containers.conf, if needed)."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def __call__(self, *args: str, timeout: float = 600, **kwargs):
        return run(["podman", *args], timeout=timeout, env=self.env, **kwargs)

    def ok(self, *args: str, timeout: float = 600, **kwargs) -> str:
        done = self(*args, timeout=timeout, **kwargs)
        assert done.returncode == 0, f"podman {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def compose(self, directory: Path, project: str, *args: str, timeout: float = 600):
        return run(["podman-compose", "-p", project, "-f", "compose.yaml", *args],
                   timeout=timeout, cwd=directory, env=self.env)


def _base_image(podman: Podman, tmp: Path) -> str:
    """The image to build FROM: given, already built, or debootstrapped now."""
    given = os.environ.get("FEEDBACK_TEST_CONTAINER_BASE")
    if given:
        return given
    if podman("image", "exists", LOCAL_BASE).returncode == 0:
        return LOCAL_BASE
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin")
    if not debootstrap or os.geteuid() != 0:
        pytest.skip("no base image: building one needs debootstrap and root "
                    "(or set FEEDBACK_TEST_CONTAINER_BASE to an image such as python:3.11-slim)")
    rootfs = tmp / "rootfs"
    made = run([debootstrap, "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
                "bookworm", str(rootfs), MIRROR], timeout=1200)
    if made.returncode != 0:
        pytest.skip(f"debootstrap could not build a base image from {MIRROR}: "
                    f"{(made.stdout + made.stderr)[-600:]}")
    archive = tmp / "rootfs.tar"
    packed = run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], timeout=600)
    assert packed.returncode == 0, packed.stderr
    shutil.rmtree(rootfs)
    podman.ok("import", "--change", 'CMD ["/bin/bash"]', str(archive), LOCAL_BASE)
    archive.unlink()
    return LOCAL_BASE


def _podman_that_runs(tmp: Path) -> tuple[Podman, str]:
    """podman set up so that a container starts here, and the base image; else skip."""
    if not shutil.which("podman"):
        pytest.skip("podman is not installed (apt-get install podman podman-compose): "
                    "image and compose stack not run; test_https.py covers nginx + gunicorn")
    if not shutil.which("podman-compose"):
        pytest.skip("podman-compose is not installed (apt-get install podman-compose)")
    env = dict(os.environ)
    podman = Podman(env)
    info = podman("info", timeout=60)
    if info.returncode != 0:
        pytest.skip(f"podman cannot run here: {info.stderr.strip()[-400:]}")
    base = _base_image(podman, tmp)
    tried = podman("run", "--rm", base, "true", timeout=120)
    if tried.returncode != 0 and shutil.which("runc"):
        conf = tmp / "containers.conf"
        conf.write_text(FALLBACK_CONF)
        env["CONTAINERS_CONF"] = str(conf)
        retried = podman("run", "--rm", base, "true", timeout=120)
        if retried.returncode != 0:
            pytest.skip("containers cannot run on this machine: "
                        f"{tried.stderr.strip()[-300:]} / with runc: {retried.stderr.strip()[-300:]}")
    elif tried.returncode != 0:
        pytest.skip(f"containers cannot run on this machine: {tried.stderr.strip()[-400:]}")
    here = "{}.{}".format(*sys.version_info[:2])
    version = podman.ok("run", "--rm", base, "python3", "-c",
                        "import sys; print('{}.{}'.format(*sys.version_info[:2]))").strip()
    if version != here:
        pytest.skip(f"the base has Python {version}; the wheelhouse made here is for {here}")
    return podman, base


def _wheelhouse(tmp: Path) -> tuple[Path, Path]:
    """Every wheel the image needs, made with this machine's pip settings; and a pip.conf."""
    wheels = tmp / "wheels"
    made = run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels),
                str(ROOT), "setuptools>=69", "wheel"], timeout=600)
    assert made.returncode == 0, made.stderr
    for own in wheels.glob("feedback-*.whl"):
        own.unlink()  # the image builds the package from its own copy of the source
    conf = tmp / "pip.conf"
    conf.write_text("[global]\nno-index = true\nfind-links = /wheels\n")
    return wheels, conf


def _render_compose(directory: Path, *, app: str, postgres: str, nginx: str,
                    http_port: int, https_port: int) -> None:
    """compose.yaml and its files in ``directory``, with test images, ports and secrets."""
    text = COMPOSE.read_text()
    swaps = [
        (r"    build:\n      context: \.\.\n      dockerfile: deploy/Dockerfile\n"
         r"    image: feedback:latest\n", f"    image: {app}\n"),
        (r"image: postgres:15\n", f"image: {postgres}\n"),
        (r"image: nginx:stable\n", f"image: {nginx}\n"),
        (r'"80:80"', f'"127.0.0.1:{http_port}:80"'),
        (r'"443:443"', f'"127.0.0.1:{https_port}:443"'),
    ]
    for pattern, replacement in swaps:
        text, count = re.subn(pattern, replacement, text)
        assert count == 1, f"compose.yaml changed shape: {pattern!r} matched {count} times"
    (directory / "compose.yaml").write_text(text)
    (directory / "nginx").mkdir()
    shutil.copy(NGINX_CONF, directory / "nginx" / "feedback.conf")
    (directory / "certs").mkdir()
    make_certificate(directory / "certs")
    env = ENV_EXAMPLE.read_text()
    env = env.replace("https://feedback.example.org", f"https://127.0.0.1:{https_port}")
    # The same password in FEEDBACK_DATABASE_URL and POSTGRES_PASSWORD, as the guide says.
    env = env.replace("change-me", secrets.token_hex(16))
    (directory / "feedback.env").write_text(env)


def _container(podman: Podman, project: str, service: str) -> str:
    names = podman.ok("ps", "--filter", f"label=com.docker.compose.project={project}",
                      "--filter", f"label=com.docker.compose.service={service}",
                      "--format", "{{.Names}}").split()
    assert len(names) == 1, names
    return names[0]


def test_image_and_compose_stack_serve_the_smoke_walk(tmp_path):
    podman, base = _podman_that_runs(tmp_path)
    run_id = uuid.uuid4().hex[:10]
    images = {"app": f"localhost/feedback-test-app:{run_id}",
              "postgres": "localhost/feedback-test-postgres:15",
              "nginx": "localhost/feedback-test-nginx:stable"}
    for name in ("postgres", "nginx"):
        podman.ok("build", "--network", "host", "--build-arg", f"BASE={base}",
                  "-f", str(HERE / f"{name}.Containerfile"), "-t", images[name], str(HERE),
                  timeout=1200)
    wheels, pip_conf = _wheelhouse(tmp_path)
    # --format docker keeps the HEALTHCHECK (podman's default OCI format drops it).
    podman.ok("build", "--format", "docker", "--build-arg", f"BASE={base}",
              "-v", f"{wheels}:/wheels:ro", "-v", f"{pip_conf}:/etc/pip.conf:ro",
              "-f", str(ROOT / "deploy" / "Dockerfile"), "-t", images["app"], str(ROOT),
              timeout=1200)
    project = f"feedbacktest{run_id}"
    stack = tmp_path / "stack"
    stack.mkdir()
    try:
        inspected = json.loads(podman.ok("image", "inspect", images["app"]))[0]
        assert inspected["Config"]["User"] == "feedback"
        assert "/health" in " ".join(inspected["Healthcheck"]["Test"])
        catalogues = podman.ok("run", "--rm", images["app"], "sh", "-c",
                               "ls feedback/translations/*/LC_MESSAGES/")
        assert catalogues.count("messages.mo") == 2, "the catalogues are compiled in the image"

        http_port, https_port = free_port(), free_port()
        _render_compose(stack, app=images["app"], postgres=images["postgres"],
                        nginx=images["nginx"], http_port=http_port, https_port=https_port)
        up = podman.compose(stack, project, "up", "-d")
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
        base_url = f"https://127.0.0.1:{https_port}"
        cafile = stack / "certs" / "fullchain.pem"
        try:
            # podman-compose starts the app before PostgreSQL is ready; the app's
            # migrations then fail and `restart: unless-stopped` starts it again.
            wait_for(base_url + "/health", cafile, timeout=240)
            app = _container(podman, project, "app")
            assert podman.ok("exec", app, "id", "-u").strip() != "0"
            assert podman("healthcheck", "run", app, timeout=60).returncode == 0
            assert "feedback check: OK" in podman.ok("exec", app, "flask", "--app", "feedback",
                                                     "check")
            for user, role, extra in (("cw", "caseworker", ["--team", "Team Nord"]),
                                      ("an", "analyst", [])):
                podman.ok("exec", app, "flask", "--app", "feedback", "users", "create", user,
                          "--role", role, "--name", user.upper(), *extra, "--password", PASSWORD)
            smoke_walk(base_url, cafile, caseworker=("cw", PASSWORD), analyst=("an", PASSWORD),
                       team="Team Nord", http_url=f"http://127.0.0.1:{http_port}")
        except AssertionError as error:
            logs = "\n".join(
                f"--- {service}:\n{podman('logs', '--tail', '40', name).stdout}"
                f"{podman('logs', '--tail', '40', name).stderr}"
                for service in ("db", "app", "nginx")
                for name in podman.ok("ps", "-a", "--filter",
                                      f"label=com.docker.compose.project={project}",
                                      "--filter", f"label=com.docker.compose.service={service}",
                                      "--format", "{{.Names}}").split())
            raise AssertionError(f"{error}\n{logs}") from None
    finally:
        if (stack / "compose.yaml").exists():
            podman.compose(stack, project, "down", "-v")
            podman("network", "rm", f"{project}_default")  # podman-compose 1.0 leaves it
        podman("rmi", "--force", images["app"])
