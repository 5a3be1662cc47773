"""The systemd-style install, for real: the shipped nginx configuration with TLS (a
self-signed certificate on loopback) in front of gunicorn started with the shipped
gunicorn.conf.py, then the smoke walk through it (log in, create a case, answer,
export). The same walk runs through the container stack in test_containers.py.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import fresh_database
from tests.deploy.support import (
    ROOT,
    VENV_BIN,
    free_port,
    nginx_binary,
    render_nginx,
    run,
    smoke_walk,
    wait_for,
)

PASSWORD = "smoke-test-password"


def _env(database_url: str, bind: str, public_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    env.update({
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_SECRET_KEY": "https-test-secret",
        "FEEDBACK_PSEUDONYM_KEY": "https-test-pseudonyms",
        "FEEDBACK_BIND": bind,
        "FEEDBACK_PUBLIC_URL": public_url,
        "FEEDBACK_TRUSTED_PROXIES": "1",
        "FEEDBACK_WORKERS": "2",
    })
    return env


def _flask(env: dict[str, str], *args: str) -> None:
    done = run([str(VENV_BIN / "flask"), "--app", "feedback", *args], timeout=120, cwd=ROOT,
               env=env)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


@contextmanager
def _process(args: list[str], log: Path, **kwargs) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, **kwargs)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def test_log_in_create_answer_export_over_https_through_nginx(backend, tmp_path_factory):
    nginx = nginx_binary()
    if not nginx:
        pytest.skip("nginx is not installed (apt-get install nginx-light): no HTTPS smoke test")
    tmp = tmp_path_factory.mktemp("https")
    gunicorn_port = free_port()
    setup = render_nginx(tmp, upstream_port=gunicorn_port)
    base_url = f"https://127.0.0.1:{setup.https_port}"
    cafile = tmp / "fullchain.pem"

    with fresh_database(backend, tmp_path_factory) as database_url:
        env = _env(database_url, f"127.0.0.1:{gunicorn_port}", base_url)
        _flask(env, "db", "upgrade")
        _flask(env, "users", "create", "cw", "--role", "caseworker", "--name", "Case Worker",
               "--team", "Team Nord", "--password", PASSWORD)
        _flask(env, "users", "create", "an", "--role", "analyst", "--name", "An Alyst",
               "--password", PASSWORD)
        gunicorn_log, nginx_log = tmp / "gunicorn.log", tmp / "nginx.log"
        gunicorn = [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py",
                    "feedback:create_app()"]
        with _process(gunicorn, gunicorn_log, cwd=ROOT, env=env) as app, \
                _process(setup.args(nginx, " daemon off;"), nginx_log) as front:
            def alive() -> bool:
                return app.poll() is None and front.poll() is None

            try:
                wait_for(base_url + "/health", cafile, alive=alive)
                smoke_walk(base_url, cafile, caseworker=("cw", PASSWORD),
                           analyst=("an", PASSWORD), team="Team Nord",
                           http_url=f"http://127.0.0.1:{setup.http_port}")
            except AssertionError as error:
                raise AssertionError(
                    f"{error}\n--- gunicorn:\n{gunicorn_log.read_text(errors='replace')[-3000:]}"
                    f"\n--- nginx:\n{nginx_log.read_text(errors='replace')[-3000:]}") from None
    # The schema check ran once, in the master, not in each of the two workers.
    assert gunicorn_log.read_text().count("feedback check: OK") == 1
