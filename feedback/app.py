"""The application factory."""

from __future__ import annotations

import sqlite3
import time
import uuid
from urllib.parse import urlsplit

from flask import Flask, g, request, session
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from feedback import assets, bidi, clock, labels, sessions, wellformed
from feedback.config import available_locales, load_config
from feedback.extensions import babel, csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Create the app: config → extensions → blueprints → errors → CLI.

    Nothing here touches the database; the schema comes from ``flask db upgrade``.
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
    if app.config.get("FEEDBACK_CASEWORKER_SCOPE") not in ("own", "team"):
        raise RuntimeError("FEEDBACK_CASEWORKER_SCOPE must be 'own' or 'team'")
    clock.configure(app.config["FEEDBACK_TIMEZONE"], app.config.get("FEEDBACK_CLOCK_START"))
    app.config.setdefault(
        "FEEDBACK_LOCALES", available_locales(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    proxies = app.config["FEEDBACK_TRUSTED_PROXIES"]
    if proxies:
        # Behind nginx: the client's address (for throttling and the audit log)
        # and scheme come from the proxy's X-Forwarded-* headers.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    # NUL bytes and invalid UTF-8 are judged before Flask or any extension reads a byte.
    app.wsgi_app = wellformed.InputGuard(app.wsgi_app,
                                         lambda: app.config.get("MAX_CONTENT_LENGTH"))
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_hooks(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Initialise the unbound extensions, the labels and the hand-over lock."""
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    app.jinja_env.globals["get_locale"] = get_locale
    labels.register(app)
    bidi.register(app)
    sessions.register(app)
    assets.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _configure_sqlite(db.engine)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _configure_sqlite(engine: Engine) -> None:
    """Durable, concurrent-enough SQLite (quality.md: WAL, synchronous=FULL, busy timeout).

    pysqlite's own transaction handling breaks SAVEPOINT and cannot take the
    write lock up front, so we emit BEGIN ourselves (SQLAlchemy's documented
    recipe) and BEGIN IMMEDIATE where a service asks for a write transaction.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        if conn.get_execution_options().get("sqlite_immediate", False):
            try:
                begin_immediate(conn.connection.dbapi_connection)
            except sqlite3.Error as error:  # to callers as SQLAlchemy's, as any statement's
                raise DBAPIError.instance("BEGIN IMMEDIATE", (), error, sqlite3.Error,
                                          dialect=conn.dialect) from error
        else:
            conn.exec_driver_sql("BEGIN")


#: How long a statement waits for SQLite's locks before it fails (the busy timeout).
BUSY_TIMEOUT_MS = 10_000
#: A writer waiting for the write lock looks again after this pause, doubled each
#: time up to the second value (seconds).
WRITE_LOCK_POLL = (0.0001, 0.002)


def begin_immediate(dbapi_conn, clock=time.monotonic, sleep=time.sleep) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock in short steps.

    SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms between
    attempts, so under many writers the lock is often free while every waiter
    sleeps: with families submitting at once, half the time went to nobody
    holding it (issue 8). Here the waiter looks again after 0.1 ms, doubling
    up to 2 ms, within the connection's own busy timeout; after it, the usual
    "database is locked" error (the service answers 503 and the device keeps
    the answers).
    """
    timeout_ms = dbapi_conn.execute("PRAGMA busy_timeout").fetchone()[0]
    deadline = clock() + timeout_ms / 1000
    pause, longest = WRITE_LOCK_POLL
    dbapi_conn.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _locked(error) or clock() >= deadline:
                    raise
            sleep(pause)
            pause = min(pause * 2, longest)
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")


def _locked(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)


def select_locale() -> str:
    """Respondents and staff choose their language separately; Danish by default."""
    locales = _current_app_locales()
    if request.blueprint == "respond":
        chosen = getattr(g, "respondent_locale", None)
    else:
        chosen = session.get("locale")
        if (chosen is None and not g.get("plain_page")
                and current_user and current_user.is_authenticated):
            chosen = current_user.locale
    if chosen in locales:
        return chosen
    return "da"


def _current_app_locales() -> tuple[str, ...]:
    from flask import current_app

    return current_app.config["FEEDBACK_LOCALES"]


def register_blueprints(app: Flask) -> None:
    """One blueprint per audience; respondents' forms carry their own CSRF token."""
    import feedback.admin.audit  # noqa: F401  (the audit pages join the admin blueprint)
    from feedback.admin.views import bp as admin_bp
    from feedback.auth.views import bp as auth_bp
    from feedback.cases import family, live  # noqa: F401 (routes on the cases blueprint)
    from feedback.cases.views import bp as cases_bp
    from feedback.health import bp as health_bp
    from feedback.reports.views import bp as reports_bp
    from feedback.respond.views import bp as respond_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(respond_bp, url_prefix="/r")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(health_bp)
    # Respondent forms carry their own CSRF token, valid for the life of the
    # link (decision 7), so a staff session timing out never loses answers.
    csrf.exempt(respond_bp)


def register_errorhandlers(app: Flask) -> None:
    """Error pages for HTTP errors (and domain errors' messages) come from one module."""
    from feedback import errors

    errors.register(app)


CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def content_security_policy(app: Flask) -> str:
    """The CSP of every page.

    With sign-in at the organisation's provider, forms may also lead there:
    logging out and unlocking a handed-over tablet are POSTs answered with a
    redirect to the provider, and browsers hold such redirects to ``form-action``.
    """
    issuer = app.config.get("FEEDBACK_OIDC_ISSUER") or ""
    parts = urlsplit(issuer)
    if parts.scheme in ("https", "http") and parts.netloc:
        return CSP.replace("form-action 'self'",
                           f"form-action 'self' {parts.scheme}://{parts.netloc}")
    return CSP


def register_hooks(app: Flask) -> None:
    """Request hooks: malformed input refused first, security headers on every answer."""
    csp = content_security_policy(app)
    @app.before_request
    def request_id():
        g.request_id = uuid.uuid4().hex

    # First of all hooks, before CSRFProtect's: a request the input guard marked
    # (NUL bytes, invalid UTF-8) is answered 400, the same on both databases.
    app.before_request_funcs.setdefault(None, []).insert(0, wellformed.refuse_marked)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if request.is_secure:
            # Served over TLS (directly, or behind a proxy the app trusts): browsers
            # keep to https for a year. nginx sends the same (deploy/nginx).
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint != "static":
            # Case data and questionnaires must not linger in shared caches.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def register_commands(app: Flask) -> None:
    """The ``flask`` commands."""
    from feedback.cli import register

    register(app)
