"""gunicorn settings: ``gunicorn -c deploy/gunicorn.conf.py "feedback:create_app()"``.

gthread workers, so a long streamed export does not block or get killed by a
sync worker's timeout (decision 26). Everything can be set from the environment.
"""

import multiprocessing
import os
import re

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


def on_starting(server):
    """Refuse to start when an instrument pack is broken or differs from its frozen version.

    Runs once, in the master, before any worker: a broken pack directory stops
    the service with a clear message instead of answering pages with errors.
    """
    from feedback import create_app
    from feedback.extensions import db
    from feedback.services.instruments import check_installation

    app = create_app()
    with app.app_context():
        try:
            problems = check_installation()
        finally:
            # The workers fork from here: they must not share the master's connections.
            db.session.remove()
            db.engine.dispose()
    if problems:
        # gunicorn prints a RuntimeError as "Error: ..." and exits with status 1.
        raise RuntimeError("the instrument packs need fixing before the service can start:\n"
                           + "\n".join(problems))
