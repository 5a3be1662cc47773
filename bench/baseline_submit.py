"""The raw baseline for submitting a questionnaire: plain WSGI with sqlite3 or psycopg.

Run under the same gunicorn configuration as the app
(``gunicorn -c deploy/gunicorn.conf.py bench.baseline_submit:app``), on a copy
of the app's database. It does what the service must do for one
questionnaire page, and nothing more:

* check the respondent cookie (an HMAC of the token id) and the form's CSRF
  token (the same HMAC the app uses), parse and range-check every value;
* in one write transaction (SQLite: ``BEGIN IMMEDIATE`` with WAL,
  ``synchronous=FULL`` and a busy timeout, as the app): look up the token,
  check the idempotency key (``submission_id``), spend the questionnaire
  with the conditional ``used_at`` update, insert the response, its answer
  rows and the audit row, and commit before answering;
* answer ``303 See Other`` to ``/r/``, as the app does.

Environment: ``BENCH_DATABASE`` (SQLite path or PostgreSQL URL),
``BENCH_DATABASE_KIND`` (``sqlite`` or ``postgresql``), ``FEEDBACK_SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import sqlite3
import threading
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

# The same clock as the app's: started where FEEDBACK_CLOCK_START says, then running on.
_START = os.environ.get("FEEDBACK_CLOCK_START")
CLOCK_OFFSET = (datetime.fromisoformat(_START) - datetime.now(UTC)) if _START else timedelta(0)


def clock_now() -> datetime:
    """Now, on the app's clock."""
    return datetime.now(UTC) + CLOCK_OFFSET

KIND = os.environ.get("BENCH_DATABASE_KIND", "sqlite")
DSN = os.environ.get("BENCH_DATABASE", "")
KEY = os.environ.get("FEEDBACK_SECRET_KEY", "").encode()
SQLITE = KIND == "sqlite"
COOKIE = "feedback_baseline"
GRACE = timedelta(minutes=30)
MAX_BODY = 64 * 1024
_DECIMAL = re.compile(r"([0-9]{1,2})(?:\.([0-9]))?")
_WHOLE = re.compile(r"([0-9]{1,2})")

SECURITY_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "
     "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
     "form-action 'self'"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    ("Cache-Control", "no-store"),
]
REDIRECT_BODY = (b'<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n'
                 b'<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the '
                 b'target URL: <a href="/r/">/r/</a>. If not, click the link.\n')


def cookie_for(token_id: str, key: bytes | None = None) -> str:
    """The baseline's respondent cookie: the token id and its HMAC."""
    mac = hmac.new(key or KEY, f"cookie:{token_id}".encode(), hashlib.sha256).hexdigest()
    return f"{token_id}.{mac}"


def csrf_for(token_id: str) -> str:
    """The same per-link CSRF token as the app's (feedback.respond.forms.LinkCSRF)."""
    return hmac.new(KEY, f"respond-csrf:{token_id}".encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- database

_local = threading.local()


def _connect():
    if SQLITE:
        conn = sqlite3.connect(DSN, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn
    import psycopg

    return psycopg.connect(DSN)


def connection():
    """One connection per worker thread, kept open (as the app's pool does)."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = _connect()
    return conn


def sql(statement: str) -> str:
    return statement if SQLITE else statement.replace("?", "%s")


def db_id(value: uuid.UUID):
    """UUIDs as SQLAlchemy stores them: 32 hex digits on SQLite, native on PostgreSQL."""
    return value.hex if SQLITE else value


def db_time(value: datetime):
    """Timestamps as the app stores them: naive UTC."""
    naive = value.astimezone(UTC).replace(tzinfo=None)
    return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if SQLITE else naive


def read_time(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


TOKEN = sql("""
    SELECT t.invitation_id, t.revoked_at, i.expires_at, i.meeting_id, i.participant_id,
           i.subject, it.instrument_version_id
    FROM invitation_tokens t
    JOIN invitations i ON i.id = t.invitation_id
    JOIN invitation_items it ON it.invitation_id = t.invitation_id AND it.position = ?
    WHERE t.id = ?""")
BY_SUBMISSION = sql("SELECT id FROM responses WHERE submission_id = ?")
SPEND = sql("""UPDATE invitation_items SET used_at = ?
               WHERE invitation_id = ? AND position = ? AND used_at IS NULL""")
RESPONSE = sql("""
    INSERT INTO responses (id, submission_id, meeting_id, participant_id, staff_user_id,
                           invitation_id, instrument_version_id, subject, total_tenths,
                           submitted_at, locale)
    VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)""")
ANSWER = sql("""INSERT INTO answers (response_id, item_key, position, value_tenths, missing_code)
                VALUES (?, ?, ?, ?, ?)""")
AUDIT = sql("""
    INSERT INTO audit_events (at, actor_id, actor_kind, action, object_type, object_id,
                              outcome, detail, remote_addr)
    VALUES (?, NULL, 'respondent', 'response.submit', 'response', ?, 'ok', NULL, ?)""")
DEFINITION = sql("SELECT definition FROM instrument_versions WHERE id = ?")

# Parsed instrument definitions by version id: frozen rows, so a per-process cache.
_specs: dict = {}
_specs_lock = threading.Lock()


def spec_for(conn, version_id) -> dict:
    found = _specs.get(version_id)
    if found is None:
        raw = conn.execute(DEFINITION, (version_id,)).fetchone()[0]
        definition = json.loads(raw) if isinstance(raw, str) else raw
        found = {
            "scoring": definition["scoring"],
            "items": [(item["key"], item["response"]) for item in definition["items"]],
        }
        with _specs_lock:
            _specs[version_id] = found
    return found


class Refused(Exception):
    def __init__(self, status: str):
        self.status = status


def parse_value(raw: str, response: dict) -> tuple[int | None, str | None]:
    """(tenths, missing code), refusing what the app refuses."""
    if raw == "skipped":
        return None, "skipped"
    if raw == "dont_know" and response.get("dont_know"):
        return None, "dont_know"
    decimals = response["step_tenths"] == 1 or response["kind"] == "faces"
    match = (_DECIMAL if decimals else _WHOLE).fullmatch(raw)
    if not match:
        raise Refused("422 Unprocessable Entity")
    tenths = int(match.group(1)) * 10 + int((match.groups() + (None,))[1] or 0)
    if not response["min"] * 10 <= tenths <= response["max"] * 10:
        raise Refused("422 Unprocessable Entity")
    if response["kind"] == "faces":
        span, points = (response["max"] - response["min"]) * 10, response["points"]
        allowed = {response["min"] * 10 + round(span * n / (points - 1)) for n in range(points)}
        if tenths not in allowed:
            raise Refused("422 Unprocessable Entity")
    elif response["kind"] != "line" and tenths % 10:
        raise Refused("422 Unprocessable Entity")
    return tenths, None


def total(spec: dict, values: list[int | None]) -> int | None:
    if spec["scoring"] == "none" or any(v is None for v in values):
        return None
    if spec["scoring"] == "mean":
        return round(sum(values) / len(values))
    return sum(values)


# --------------------------------------------------------------------------- request


def _token_from_cookie(environ) -> str:
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            token_id, _, _mac = value.partition(".")
            if hmac.compare_digest(cookie_for(token_id), value):
                return token_id
    raise Refused("404 Not Found")


def _form(environ) -> dict[str, str]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused("400 Bad Request") from None
    if length > MAX_BODY:
        raise Refused("413 Request Entity Too Large")
    body = environ["wsgi.input"].read(length)
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=True, strict_parsing=True,
                          encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Refused("400 Bad Request") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form or "\x00" in value:
            raise Refused("422 Unprocessable Entity")
        form[name] = value
    return form


def submit(environ, position: int) -> None:
    token_id = _token_from_cookie(environ)
    form = _form(environ)
    if not hmac.compare_digest(form.pop("csrf_token", ""), csrf_for(token_id)):
        raise Refused("400 Bad Request")
    try:
        submission_id = uuid.UUID(form.pop("submission_id", ""))
    except ValueError:
        raise Refused("400 Bad Request") from None
    conn = connection()
    now = clock_now()
    if SQLITE:
        conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(TOKEN, (position, db_id(uuid.UUID(token_id)))).fetchone()
        if row is None:
            raise Refused("404 Not Found")
        invitation_id, revoked, expires, meeting_id, participant_id, subject, version_id = row
        if revoked is not None or now > read_time(expires) + GRACE:
            raise Refused("404 Not Found")
        spec = spec_for(conn, version_id)
        if set(form) != {key for key, _ in spec["items"]}:
            raise Refused("422 Unprocessable Entity")
        answers = [parse_value(form[key], response) for key, response in spec["items"]]
        if conn.execute(BY_SUBMISSION, (db_id(submission_id),)).fetchone() is not None:
            raise Refused("303 See Other")  # a repeat: the first receipt stands
        if conn.execute(SPEND, (db_time(now), invitation_id, position)).rowcount != 1:
            raise Refused("303 See Other")  # already answered
        response_id = uuid.uuid4()
        conn.execute(RESPONSE, (db_id(response_id), db_id(submission_id), meeting_id,
                                participant_id, invitation_id, version_id, subject,
                                total(spec, [v for v, _ in answers]), db_time(now), "da"))
        rid = db_id(response_id)
        conn.cursor().executemany(ANSWER, [
            (rid, key, n, value, missing)
            for n, ((key, _), (value, missing)) in enumerate(zip(spec["items"], answers,
                                                                 strict=True))])
        conn.execute(AUDIT, (db_time(now), str(response_id), environ.get("REMOTE_ADDR")))
        conn.commit() if not SQLITE else conn.execute("COMMIT")
    except BaseException:
        conn.rollback() if not SQLITE else conn.execute("ROLLBACK")
        raise


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    status, body, extra = "404 Not Found", b"not found\n", []
    if environ["REQUEST_METHOD"] == "GET" and path == "/":
        status, body = "200 OK", b"baseline\n"
    elif environ["REQUEST_METHOD"] == "POST" and path.startswith("/r/q/"):
        try:
            submit(environ, int(path.rsplit("/", 1)[1]))
            status = "303 See Other"
        except Refused as refused:
            status = refused.status
        except ValueError:
            status = "404 Not Found"
        if status.startswith("303"):
            body, extra = REDIRECT_BODY, [("Location", "/r/")]
    start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Length", str(len(body))), *extra, *SECURITY_HEADERS])
    return [body]
