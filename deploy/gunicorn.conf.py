"""gunicorn settings: ``gunicorn -c deploy/gunicorn.conf.py "feedback:create_app()"``.

gthread workers, so a long streamed export does not block or get killed by a
sync worker's timeout (decision 26). Everything can be set from the environment.
Before it starts any worker, the master runs ``flask --app feedback check``
once and refuses to start when it finds a problem (a database schema older or
newer than the code, ...).
"""

import gc
import itertools
import multiprocessing
import os
import re
import subprocess
import sys

from gunicorn.glogging import Logger

bind = os.environ.get("FEEDBACK_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("FEEDBACK_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("FEEDBACK_THREADS", "4"))
# A worker that stops answering is replaced; streamed exports keep sending, so they are safe.
timeout = int(os.environ.get("FEEDBACK_WORKER_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Behind nginx on the same host; trust its X-Forwarded-* only from there.
forwarded_allow_ips = os.environ.get("FEEDBACK_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("FEEDBACK_ACCESS_LOG", "-")
errorlog = "-"
# The path only, never the query string.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'

_LINK = re.compile(r"^/r/[A-Za-z0-9_-]{16,}$")


class RedactingLogger(Logger):
    """The first visit's path carries the link token (/r/<token>): never log it."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        if _LINK.match(atoms.get("U", "")):
            atoms["U"] = "/r/<token>"
        return atoms


logger_class = RedactingLogger
limit_request_line = 4094
# gunicorn 25+ opens a control socket in ~/.gunicorn, shared by every gunicorn
# of the user and not writable under the hardened systemd unit: not needed here.
control_socket_disable = True


#: gunicorn's exit status when ``flask check`` fails (EX_CONFIG in sysexits.h);
#: the systemd unit does not restart on it (RestartPreventExitStatus=).
CHECK_FAILED = 78


def on_starting(server):
    """Refuse to start on a database (or setup) this code does not fit.

    The check runs in a child process, so the master itself never imports the
    app: workers started by a reload (HUP) still load the code afresh.
    """
    check = [sys.executable, "-m", "flask", "--app", "feedback", "check"]
    if subprocess.run(check, check=False).returncode != 0:
        server.log.error("Not starting: `flask --app feedback check` found the problems above.")
        sys.exit(CHECK_FAILED)


def post_worker_init(worker):
    """Move what loading the app created out of the garbage collector's sight.

    A worker holds a large, long-lived heap (Flask, SQLAlchemy, the packs, the
    translations) that every full collection would walk again; frozen, only
    what requests allocate is scanned. Measured on submitting: about 15 % less
    CPU per request (issue 8).
    """
    gc.collect()
    gc.freeze()


#: After these many requests a worker freezes again what it has kept since
#: (then every ``FEEDBACK_GC_REFREEZE`` requests): its first requests fill its
#: caches (compiled SQL and templates, answer forms, definitions, catalogues).
REFREEZE_AT = (5, 50, 500)
REFREEZE_EVERY = int(os.environ.get("FEEDBACK_GC_REFREEZE", "5000"))
_served = itertools.count(1)


def post_request(worker, req, environ, resp):
    """Freeze the worker's caches as they fill, so full collections stay short.

    Left unfrozen, a worker's caches are walked by every full collection, and a
    page that builds many objects (a case with a long history) triggers one
    often enough to show in its slowest requests: the case page's p95 was about
    1.5 ms (7 %) higher without this (bench/case_page.py).

    After the first requests only what is not yet frozen is collected: a few
    milliseconds. Every ``REFREEZE_EVERY`` requests the heap is unfrozen first,
    so the full collection can free whatever was frozen and has since become
    garbage (a request in flight in another thread when the heap was frozen);
    that walks the whole heap (30–100 ms, the worker's threads waiting), so it is
    rare. Done at request 50 and 500 too, it stalled a worker twice in every
    short load and cost submitting about 5 % of its throughput (bench/submit.py).
    """
    served = next(_served)
    if served in REFREEZE_AT:
        gc.collect()
        gc.freeze()
    elif served % REFREEZE_EVERY == 0:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
