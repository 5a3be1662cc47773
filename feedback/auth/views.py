"""Signing in and out, and the staff language choice."""

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from feedback.auth.forms import LanguageForm, LoginForm
from feedback.extensions import login_manager
from feedback.models import Role
from feedback.services import accounts

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
        user = accounts.authenticate(form.username.data, form.password.data)
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


@bp.route("/language", methods=["POST"])
def language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["locale"] = form.locale.data
    if current_user.is_authenticated:
        accounts.set_locale(current_user, form.locale.data)
    return redirect(local_path(request.form.get("back"), url_for("auth.home")))
