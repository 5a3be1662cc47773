"""Signing in and out, and the staff language choice."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from feedback.auth.forms import LanguageForm, LoginForm, UnlockForm
from feedback.extensions import login_manager
from feedback.models import Role
from feedback.services import accounts, throttle

#: In the staff session while the tablet is handed to a respondent.
HANDOVER = "handover"
UNLOCK_LIMIT = 5

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(session_id: str):
    return accounts.load_session_user(session_id)


def local_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if urlsplit(target).netloc:
        return default
    return target


def home_for(user) -> str:
    if user.role == Role.analyst:
        return url_for("reports.index")
    if user.role == Role.admin:
        return url_for("admin.index")
    return url_for("cases.index")


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        keys = (f"login:{form.username.data.strip().lower()[:100]}",
                f"login-addr:{request.remote_addr}")
        limit = current_app.config["FEEDBACK_LOGIN_THROTTLE"]
        if throttle.blocked(keys[0], limit) or throttle.blocked(keys[1], 3 * limit):
            abort(429)
        user = accounts.authenticate(form.username.data, form.password.data)
        if user is None:
            throttle.record_failure(*keys)
        if user is not None:
            session.clear()
            login_user(user)
            session["locale"] = user.locale
            return redirect(local_path(request.args.get("next"), home_for(user)))
        error = _("Wrong username or password.")
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.before_app_request
def enforce_handover_lock():
    """While the tablet is handed over, only the questionnaire and the unlock page answer.

    Enforced here, on the server, for every request of this browser's staff
    session: typing a staff URL, pressing Back or opening a new tab all land
    on the questionnaire.
    """
    if not session.get(HANDOVER):
        return None
    if request.blueprint in ("respond", "health") or request.endpoint in ("static", "auth.unlock"):
        return None
    return redirect(url_for("respond.current"))


def start_handover(back: str) -> None:
    """Lock this staff session to the respondent pages until the caseworker unlocks it."""
    session[HANDOVER] = {"back": back}


@bp.route("/unlock", methods=["GET", "POST"])
def unlock():
    """Back to the staff view: the caseworker's password, with failures throttled."""
    if not session.get(HANDOVER) or not current_user.is_authenticated:
        session.pop(HANDOVER, None)
        return redirect(url_for("auth.login"))
    form = UnlockForm()
    error = None
    key = f"unlock:{current_user.id}"
    if form.validate_on_submit():
        if accounts.verify_password(current_user, form.password.data):
            back = session.pop(HANDOVER).get("back")
            return redirect(local_path(back, url_for("cases.index")))
        throttle.record_failure(key)
        if throttle.blocked(key, UNLOCK_LIMIT):
            # Too many tries on a handed-over tablet: end the staff session.
            logout_user()
            session.clear()
            return redirect(url_for("auth.login"))
        error = _("Wrong password.")
    return render_template("auth/unlock.html", form=form, error=error), 401 if error else 200


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        accounts.set_locale(current_user, form.locale.data)
    return redirect(local_path(request.form.get("back"), url_for("auth.home")))
