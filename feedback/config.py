"""Configuration from ``FEEDBACK_*`` environment variables, with safe defaults.

Secrets that are not given are generated once and kept in the instance folder,
so a development install needs no setup and keeps its sessions and pseudonyms
across restarts. Production sets them explicitly (see docs/operations.md).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _instance_secret(instance_path: Path, name: str) -> str:
    path = instance_path / name
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    # O_EXCL: two workers starting at once must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def available_locales(directories: str) -> tuple[str, ...]:
    """Danish, English, then every language with a compiled catalogue.

    ``directories`` is Flask-Babel's ``BABEL_TRANSLATION_DIRECTORIES`` (";"-separated).
    Adding a language (Arabic, say) is a matter of adding its catalogue.
    """
    extra: set[str] = set()
    for directory in filter(None, directories.split(";")):
        base = Path(directory)
        if base.is_dir():
            extra |= {p.name for p in base.iterdir()
                      if (p / "LC_MESSAGES" / "messages.mo").exists()}
    return ("da", "en", *sorted(extra - {"da", "en"}))


def load_config(instance_path: str, env: dict[str, str] | None = None) -> dict:
    """Build the Flask config dict from the environment."""
    env = dict(os.environ if env is None else env)
    instance = Path(instance_path)
    public_url = env.get("FEEDBACK_PUBLIC_URL", "").rstrip("/")
    secure_default = public_url.startswith("https://")
    database_url = env.get("FEEDBACK_DATABASE_URL") or f"sqlite:///{instance / 'feedback.sqlite'}"
    return {
        "SECRET_KEY": env.get("FEEDBACK_SECRET_KEY") or _instance_secret(instance, "secret_key"),
        "FEEDBACK_PSEUDONYM_KEY": env.get("FEEDBACK_PSEUDONYM_KEY")
        or _instance_secret(instance, "pseudonym_key"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "FEEDBACK_PUBLIC_URL": public_url,
        "FEEDBACK_ORGANISATION": env.get("FEEDBACK_ORGANISATION", "Demo Kommune"),
        "FEEDBACK_LINK_VALID_HOURS": int(env.get("FEEDBACK_LINK_VALID_HOURS", "72")),
        "FEEDBACK_LINK_GRACE_MINUTES": int(env.get("FEEDBACK_LINK_GRACE_MINUTES", "30")),
        "FEEDBACK_INSTRUMENTS_DIR": env.get("FEEDBACK_INSTRUMENTS_DIR", ""),
        "MAX_CONTENT_LENGTH": int(env.get("FEEDBACK_MAX_CONTENT_LENGTH", str(64 * 1024))),
        "SESSION_COOKIE_SECURE": _flag(env.get("FEEDBACK_SECURE_COOKIES"), secure_default),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "feedback_staff",
        "REMEMBER_COOKIE_DURATION": 0,
        "PERMANENT_SESSION_LIFETIME": int(env.get("FEEDBACK_STAFF_SESSION_MINUTES", "480")) * 60,
        #: A staff session unused this long ends (checked on the server, every host).
        "FEEDBACK_STAFF_IDLE_MINUTES": int(env.get("FEEDBACK_STAFF_IDLE_MINUTES", "60")),
        "WTF_CSRF_TIME_LIMIT": None,  # bound to the staff session instead of the clock
        # Pages send Referrer-Policy: no-referrer (link tokens must never leak), so
        # browsers send no Referer and Flask-WTF's HTTPS Referer check would refuse
        # every form. The session-bound token and SameSite=Lax cookies remain.
        "WTF_CSRF_SSL_STRICT": False,
        #: How many reverse proxies (nginx) stand in front and set X-Forwarded-*.
        "FEEDBACK_TRUSTED_PROXIES": int(env.get("FEEDBACK_TRUSTED_PROXIES", "0")),
        "BABEL_DEFAULT_LOCALE": "da",
        "BABEL_DEFAULT_TIMEZONE": env.get("FEEDBACK_TIMEZONE", "Europe/Copenhagen"),
        #: "Today", meeting days and link expiry are in this zone (decision 43).
        "FEEDBACK_TIMEZONE": env.get("FEEDBACK_TIMEZONE", "Europe/Copenhagen"),
        #: For demos and browser tests only: the clock starts at this instant and runs on.
        "FEEDBACK_CLOCK_START": env.get("FEEDBACK_CLOCK_START", ""),
        #: ``own``: caseworkers see their own cases; ``team``: every case of their teams.
        "FEEDBACK_CASEWORKER_SCOPE": env.get("FEEDBACK_CASEWORKER_SCOPE", "own"),
        # "Not on track" is judged from this rating of an episode on (issue 9).
        "FEEDBACK_NOT_ON_TRACK_AFTER": int(env.get("FEEDBACK_NOT_ON_TRACK_AFTER", "4")),
        "BABEL_TRANSLATION_DIRECTORIES": str(TRANSLATIONS),
        #: Failed logins per account from one address in 15 minutes (then 429 until the
        #: window ends); five times as many per account from all addresses together.
        "FEEDBACK_LOGIN_THROTTLE": int(env.get("FEEDBACK_LOGIN_THROTTLE", "10")),
        #: Failed logins from one address, whatever the account, in 15 minutes: high
        #: enough for a municipal office behind one address.
        "FEEDBACK_LOGIN_ADDRESS_THROTTLE": int(env.get("FEEDBACK_LOGIN_ADDRESS_THROTTLE",
                                                       "100")),
        "FEEDBACK_LINK_THROTTLE": int(env.get("FEEDBACK_LINK_THROTTLE", "20")),
        #: More questions than this for one person in one sitting gets a warning
        #: on the meeting page (a 9-year-old's CORS + CSRS + smileys is 13).
        "FEEDBACK_QUESTION_LIMIT": int(env.get("FEEDBACK_QUESTION_LIMIT", "15")),
        #: Of two packs that ask much the same, the one the organisation prefers
        #: (pack ids, comma-separated); the meeting page pre-selects it.
        "FEEDBACK_PREFERRED_PACKS": env.get("FEEDBACK_PREFERRED_PACKS", "srs,csrs,ycsrs"),
        #: Whether analysts may import historical answers (administrators always may).
        "FEEDBACK_ANALYST_IMPORT": _flag(env.get("FEEDBACK_ANALYST_IMPORT"), False),
        #: Largest import upload in bytes; uploads are spooled to disk, not held in memory.
        "FEEDBACK_IMPORT_MAX_BYTES": int(env.get("FEEDBACK_IMPORT_MAX_BYTES",
                                                 str(200 * 1024 * 1024))),
        #: Where import reports are kept (default: ``imports/`` in the instance folder).
        "FEEDBACK_IMPORT_REPORTS_DIR": env.get("FEEDBACK_IMPORT_REPORTS_DIR", ""),
        #: Most rows (responses) an .xlsx or .sav export is built with; such files are
        #: built whole in a temporary file, unlike the streamed CSV files.
        "FEEDBACK_EXPORT_FILE_MAX_ROWS": int(env.get("FEEDBACK_EXPORT_FILE_MAX_ROWS",
                                                     "500000")),
        # Sign-in through the organisation's OpenID provider (off unless an issuer is set).
        #: The provider's issuer URL; its discovery document is read from there.
        "FEEDBACK_OIDC_ISSUER": env.get("FEEDBACK_OIDC_ISSUER", "").rstrip("/"),
        "FEEDBACK_OIDC_CLIENT_ID": env.get("FEEDBACK_OIDC_CLIENT_ID", ""),
        "FEEDBACK_OIDC_CLIENT_SECRET": env.get("FEEDBACK_OIDC_CLIENT_SECRET", ""),
        #: The TOML file mapping claims to roles and teams (see docs/operations.md).
        "FEEDBACK_OIDC_ROLE_MAPPING": env.get("FEEDBACK_OIDC_ROLE_MAPPING", ""),
        #: The name on the button: "Sign in with <name>" (default: the organisation).
        "FEEDBACK_OIDC_NAME": env.get("FEEDBACK_OIDC_NAME", ""),
        "FEEDBACK_OIDC_SCOPES": env.get("FEEDBACK_OIDC_SCOPES", "openid profile email"),
        #: Whether the local username and password form is offered beside the provider.
        "FEEDBACK_LOCAL_LOGIN": _flag(env.get("FEEDBACK_LOCAL_LOGIN"), True),
        #: Retention: days after a case closes before ``flask retention run`` removes it.
        "FEEDBACK_RETENTION_CASE_DAYS": int(env.get("FEEDBACK_RETENTION_CASE_DAYS", "1826")),
        #: Whether a closed case's answers stay, anonymised, for statistics (else deleted).
        "FEEDBACK_RETENTION_KEEP_ANONYMISED": _flag(
            env.get("FEEDBACK_RETENTION_KEEP_ANONYMISED"), True),
        #: Days audit rows are kept (decision 28: three years).
        "FEEDBACK_AUDIT_RETENTION_DAYS": int(env.get("FEEDBACK_AUDIT_RETENTION_DAYS", "1096")),
        #: Reports outside a team's own view hide figures on fewer children than this
        #: ("<5"), with secondary suppression; 0 or 1 shows every figure (decision 37).
        "FEEDBACK_REPORT_MIN_CHILDREN": int(env.get("FEEDBACK_REPORT_MIN_CHILDREN", "5")),
        #: Where ``flask backup`` writes (default: ``backups/`` in the instance folder).
        "FEEDBACK_BACKUP_DIR": env.get("FEEDBACK_BACKUP_DIR", ""),
        #: How many of the newest backups ``flask backup`` keeps there (0: all).
        "FEEDBACK_BACKUP_KEEP": int(env.get("FEEDBACK_BACKUP_KEEP", "14")),
    }
