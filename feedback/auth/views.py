"""Signing in and out, unlocking a handed-over tablet, and the staff language choice."""

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from feedback import sessions
from feedback.auth.forms import LanguageForm, LoginForm, UnlockForm
from feedback.extensions import login_manager
from feedback.models import Role
from feedback.services import accounts
from feedback.services.accounts import UnlockResult
from feedback.services.actors import Actor
from feedback.services.errors import Throttled

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(user_id: str):
    """Flask-Login's user loader: only while this browser's staff session is open."""
    return sessions.staff_user(user_id)


def home_for(user) -> str:
    """Where a staff member lands after signing in."""
    if user.role == Role.analyst:
        return url_for("reports.index")
    if user.role == Role.admin:
        return url_for("admin.index")
    return url_for("cases.index")


@bp.route("/")
def home():
    """The front page: the signed-in user's home, or the login page."""
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password; failures are throttled."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data,
                                         Actor.anonymous(request.remote_addr))
        except Throttled:
            abort(429)
        if user is not None:
            sessions.sign_in(user)
            session["locale"] = user.locale
            return redirect(sessions.local_path(request.args.get("next"), home_for(user)))
        error = _("Wrong username or password.")
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out: the session ends on the server too, so a copied cookie stops working."""
    sessions.sign_out()
    return redirect(url_for("auth.login"))


@bp.route("/unlock", methods=["GET", "POST"])
def unlock():
    """Back to the staff view: the caseworker's password, with failures throttled."""
    if not sessions.handover_active() or not current_user.is_authenticated:
        sessions.end_handover()
        return redirect(url_for("auth.login"))
    form = UnlockForm()
    error = None
    if form.validate_on_submit():
        result = accounts.unlock(sessions.staff_actor(), form.password.data)
        if result == UnlockResult.unlocked:
            back = sessions.end_handover()
            response = redirect(sessions.local_path(back, url_for("cases.index")))
            # The next person holding the tablet must not answer in the child's name.
            sessions.end_respondent_session(response)
            return response
        if result == UnlockResult.locked_out:
            # Too many tries on a handed-over tablet: end the staff session.
            sessions.sign_out("unlock_failures")
            return redirect(url_for("auth.login"))
        error = _("Wrong password.")
    return render_template("auth/unlock.html", form=form, error=error,
                           resume=sessions.locked_home(),
                           family=sessions.family_view() is not None), 401 if error else 200


@bp.route("/language", methods=["POST"])
def language():
    """Switch the staff interface language."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        accounts.set_locale(current_user, form.locale.data)
    return redirect(sessions.local_path(request.form.get("back"), url_for("auth.home")))
