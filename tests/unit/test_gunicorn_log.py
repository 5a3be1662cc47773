"""gunicorn's access log never records a respondent's link token."""

import datetime
import runpy
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"


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
