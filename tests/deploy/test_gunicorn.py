"""deploy/gunicorn.conf.py: gthread workers, an access log without link tokens, and a
master that refuses to start on a database schema the code does not fit.
"""

import datetime
import runpy
import subprocess
from types import SimpleNamespace

from gunicorn.config import Config

from tests.conftest import fresh_database
from tests.deploy.support import GUNICORN_CONF as CONF
from tests.deploy.support import ROOT, VENV_BIN, free_port


def _atoms(path):
    logger = runpy.run_path(str(CONF))["RedactingLogger"](Config())
    environ = {"PATH_INFO": path, "QUERY_STRING": "t=secret", "REQUEST_METHOD": "GET",
               "RAW_URI": path, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1"}
    resp = SimpleNamespace(status="303 See Other", response_length=0, sent=0, headers=[])
    req = SimpleNamespace(headers=[], method="GET", uri=path, path=path, query="", version=(1, 1))
    return logger.atoms(resp, req, environ, datetime.timedelta(milliseconds=5))


def test_link_tokens_are_redacted():
    atoms = _atoms("/r/XZor8AacbvCLhsSnxmrlDw")
    assert atoms["U"] == "/r/<token>"
    assert "XZor8AacbvCLhsSnxmrlDw" not in str(atoms.get("U"))


def test_other_paths_are_kept():
    for path in ("/r/", "/r/q/0", "/r/code", "/cases"):
        assert _atoms(path)["U"] == path


def test_gthread_workers_and_no_query_strings_in_the_log():
    settings = runpy.run_path(str(CONF))
    assert settings["worker_class"] == "gthread"  # decision 26
    assert settings["threads"] >= 1
    assert "%(q)s" not in settings["access_log_format"], "no query strings in the access log"


def test_gunicorn_refuses_to_start_on_a_database_without_the_schema(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory) as url:
        env = {"PATH": "/usr/bin:/bin", "FEEDBACK_DATABASE_URL": url,
               "FEEDBACK_SECRET_KEY": "x", "FEEDBACK_PSEUDONYM_KEY": "y",
               "FEEDBACK_BIND": f"127.0.0.1:{free_port()}", "FEEDBACK_WORKERS": "1"}
        started = subprocess.run(
            [str(VENV_BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "feedback:create_app()"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == runpy.run_path(str(CONF))["CHECK_FAILED"]
    assert "has no schema yet" in started.stderr
    assert "flask --app feedback db upgrade" in started.stderr
    assert "Booting worker" not in started.stderr, "no worker may start"


def test_a_worker_freezes_its_caches_after_its_first_requests(monkeypatch):
    import gc

    calls = []
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setenv("FEEDBACK_GC_REFREEZE", "1000")
    settings = runpy.run_path(str(CONF))
    frozen_after = {}
    for served in range(1, 2001):
        before = len(calls)
        settings["post_request"](None, None, {}, None)
        if len(calls) > before:
            frozen_after[served] = calls[before:]
    # The first requests' caches: collected (only what is not frozen yet) and frozen,
    # without walking the whole heap again.
    assert frozen_after.pop(5) == frozen_after.pop(50) == frozen_after.pop(500) == [
        "collect", "freeze"]
    # Then now and again: unfrozen first (so what became garbage can go), collected,
    # frozen again.
    assert frozen_after == {1000: ["unfreeze", "collect", "freeze"],
                            2000: ["unfreeze", "collect", "freeze"]}
