"""Who is at the browser: the staff session, the respondent cookie and the hand-over lock.

Shared by the respondent, case and sign-in pages, so no blueprint needs another.
The respondent cookie is separate from the staff session (decision 6): a staff
timeout never loses a child's answers, and unlocking a handed-over tablet ends
the respondent's session so the next person cannot answer in the child's name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from feedback import clock
from feedback.services import access, accounts
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Forbidden

#: The respondent's cookie: which token this browser answers for, and in which language.
RESPONDENT_COOKIE = "feedback_respondent"
#: In the staff session: the id of its row in ``staff_sessions`` (checked on every request).
STAFF_SESSION = "sid"


# --- where to go next -------------------------------------------------------------

#: Longer targets are not ours: no page of this site has such a path.
_TARGET_MAX = 2000


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default``.

    Redirect targets come from the request (``next``, ``back``): only a
    same-origin relative path without control characters is followed, so a
    link can neither send staff off-site nor inject headers into the redirect.
    """
    if not isinstance(target, str) or not target or len(target) > _TARGET_MAX:
        return default
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


# --- the respondent ---------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="feedback.respondent")


def _respondent_path() -> str:
    return url_for("respond.current")


def read_respondent() -> None:
    """Read the respondent cookie into ``g.respondent`` and ``g.respondent_locale``."""
    g.respondent = None
    raw = request.cookies.get(RESPONDENT_COOKIE)
    if raw:
        try:
            g.respondent = _serializer().loads(raw)
        except BadSignature:
            g.respondent = None
    locale = (g.respondent or {}).get("l")
    g.respondent_locale = locale if locale in current_app.config["FEEDBACK_LOCALES"] else "da"


def set_respondent_cookie(response, token_id: str, locale: str, expires) -> None:
    """Bind this browser to a token, in a language, until the link expires.

    The lifetime is sent as Max-Age, not as a date: a tablet whose clock is
    wrong must not drop the cookie (or keep it) because of its own clock.
    """
    grace = timedelta(minutes=current_app.config["FEEDBACK_LINK_GRACE_MINUTES"])
    max_age = max(0, int((expires + grace - clock.now()).total_seconds()))
    response.set_cookie(
        RESPONDENT_COOKIE, _serializer().dumps({"t": token_id, "l": locale}),
        max_age=max_age, path=_respondent_path(), httponly=True, samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def start_respondent_session(response, token) -> None:
    """Bind this browser to ``token``'s invitation with the respondent cookie."""
    locale = getattr(g, "respondent_locale", None) or "da"
    set_respondent_cookie(response, str(token.id), locale, token.invitation.expires_at)


def end_respondent_session(response) -> None:
    """Forget the respondent this browser answered for."""
    response.delete_cookie(RESPONDENT_COOKIE, path=_respondent_path(), httponly=True,
                           samesite="Lax", secure=current_app.config["SESSION_COOKIE_SECURE"])


def respondent_token_id() -> str | None:
    """The token id in this browser's respondent cookie, if any."""
    return (getattr(g, "respondent", None) or {}).get("t")


# --- the staff session ------------------------------------------------------------

#: Endpoints a page calls in the background (polling): they neither count as
#: activity for the idle time-out nor are audited on each call.
PASSIVE_ENDPOINTS: set[str] = set()


def passive(endpoint: str) -> None:
    """Mark ``endpoint`` as background polling: it does not extend the session's idle time."""
    PASSIVE_ENDPOINTS.add(endpoint)


def staff_user(user_id: str):
    """Flask-Login's user loader: the user, while this browser's staff session is open."""
    return accounts.session_user(session.get(STAFF_SESSION), user_id,
                                 touch=request.endpoint not in PASSIVE_ENDPOINTS)


def sign_in(user) -> None:
    """Start a staff session for ``user`` in this browser (after checking the password).

    The old session's contents are dropped first, so nothing set before
    signing in (a hand-over lock, a language) carries over.
    """
    session.clear()
    session[STAFF_SESSION] = str(accounts.start_session(user).id)
    login_user(user)


def sign_out(reason: str = "logout") -> None:
    """End this browser's staff session on the server, then forget the cookie's contents.

    A copy of the cookie taken earlier no longer opens anything.
    """
    sid = session.get(STAFF_SESSION)
    if sid:
        actor = staff_actor() if current_user.is_authenticated else None
        accounts.end_session(sid, reason, actor)
    logout_user()
    session.clear()


# --- who acts ---------------------------------------------------------------------

def current_actor(invitation_id=None) -> Actor:
    """The actor behind this request, for the services (decision 31).

    On respondent pages the respondent acts, even on a tablet a caseworker
    handed over: the child's answers are the child's.
    """
    if request.blueprint == "respond":
        return Actor.respondent(invitation_id, request.remote_addr)
    if current_user and current_user.is_authenticated:
        return Actor.staff(current_user._get_current_object(), request.remote_addr)
    return Actor.anonymous(request.remote_addr)


def staff_actor() -> Actor:
    """The signed-in staff member as an actor (use behind :func:`login_required`)."""
    return Actor.staff(current_user._get_current_object(), request.remote_addr)


def guard(*actions: Action) -> Callable:
    """A blueprint ``before_request`` guard: signed-in staff whose role may enter an area.

    Anyone not signed in goes to the login page; a role that may use none of
    ``actions`` gets 403, audited.
    """

    def check():
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        actor = staff_actor()
        if not any(access.may_enter(actor, a) for a in actions):
            try:
                access.require_area(actor, actions[0])
            except Forbidden:
                abort(403)
        return None

    return check


def area(action: Action) -> Callable:
    """A view decorator: 403 (audited) unless the signed-in user may enter ``action``'s area."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                access.require_area(staff_actor(), action)
            except Forbidden:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


# --- the hand-over lock -----------------------------------------------------------

def start_handover(back: str) -> None:
    """Lock this staff session to the respondent pages until the caseworker unlocks it.

    The lock is kept in the session's row in the database, so every worker and
    host enforces it and no earlier copy of the cookie gets round it.
    """
    accounts.set_handover(session.get(STAFF_SESSION), back or "/")


#: The one staff page a tablet shown to the family may still open.
FAMILY_ENDPOINT = "cases.family_view"
#: The session key holding the family view's lines; the lock itself is in the database.
FAMILY = "family_view"


def start_family_view(back: str, meeting_id: str, participant_ids: list[str]) -> None:
    """Lock this staff session to the family view of these lines until the caseworker unlocks.

    The choice of lines lives in the session, not in the address, so nobody
    holding the tablet can change whose lines are shown.
    """
    accounts.set_handover(session.get(STAFF_SESSION), back or "/")
    g.handover_back = back or "/"
    session[FAMILY] = {"meeting": meeting_id, "participants": list(participant_ids)}


def family_view() -> dict | None:
    """The family view this browser is locked to (``meeting``, ``participants``), if any."""
    return session.get(FAMILY) if handover_active() else None


def locked_home() -> str:
    """Where a locked tablet goes back to: the family view or the questionnaire."""
    return url_for(FAMILY_ENDPOINT) if family_view() else url_for("respond.current")


def handover_active() -> bool:
    """Whether this browser's staff session is locked to the respondent pages."""
    if "handover_back" not in g:
        # The row (read with its user) stays referenced for the rest of the request,
        # so the user loader finds both in the session's identity map (which holds
        # objects weakly) instead of reading them again.
        g.staff_session_row = row = accounts.open_session(session.get(STAFF_SESSION))
        g.handover_back = row.handover_back if row is not None else None
    return bool(g.handover_back)


def end_handover() -> str | None:
    """Unlock the staff view; returns where the caseworker was when they handed over."""
    handover_active()
    back, g.handover_back = g.handover_back, None
    session.pop(FAMILY, None)
    if back:
        accounts.set_handover(session.get(STAFF_SESSION), None)
    return back


#: Endpoints a locked tablet may still reach, besides the respondent pages.
#: Unlocking by signing in again at the provider passes through its callback.
_OPEN_WHILE_LOCKED = {"static", "auth.unlock", "auth.unlock_oidc", "auth.oidc_callback"}


def enforce_handover_lock():
    """While the tablet is handed over, only the questionnaire and the unlock page answer.

    Enforced on the server for every request of this browser's staff session:
    typing a staff URL, pressing Back or opening a new tab all land on the
    questionnaire.
    """
    if request.endpoint in _OPEN_WHILE_LOCKED or request.blueprint == "health":
        return None  # static files, the unlock page, load balancers' checks
    if request.blueprint == "respond" and FAMILY not in session:
        return None  # the questionnaire itself, without a database read
    if not handover_active():
        return None
    if family_view():
        # Shown to the family: the graph, and nothing else (not the questions either).
        return None if request.endpoint == FAMILY_ENDPOINT else redirect(locked_home())
    if request.blueprint == "respond":
        return None
    return redirect(url_for("respond.current"))


def register(app: Flask) -> None:
    """Install the hand-over lock for every request, and its test for the templates."""
    app.before_request(enforce_handover_lock)
    app.jinja_env.globals["handover_active"] = handover_active
