"""gunicorn settings: ``gunicorn -c deploy/gunicorn.conf.py "feedback:create_app()"``.

gthread workers, so a long streamed export does not block or get killed by a
sync worker's timeout (decision 26). Everything can be set from the environment.
"""

import multiprocessing
import os

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
# Query strings may carry a link token on the first visit: log the path only.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
limit_request_line = 4094
