"""Signing in and out, unlocking a handed-over tablet, and the staff language choice."""

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
from flask_login import current_user, login_required

from feedback import sessions
from feedback.auth import oidc
from feedback.auth.forms import LanguageForm, LoginForm, PinForm, ReauthForm, UnlockForm
from feedback.errors import message_for
from feedback.extensions import login_manager
from feedback.models import Role
from feedback.services import accounts, identity
from feedback.services.accounts import UnlockResult
from feedback.services.actors import Actor
from feedback.services.errors import Invalid, Throttled

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


#: In the staff session after signing in at the provider: the ID token, for logging out there.
OIDC_ID_TOKEN = "oidc_id_token"  # noqa: S105 - a session key, not a secret
#: A longer ID token (hundreds of groups) would not fit in the session cookie; logging out
#: at the provider then goes without the hint (the provider may ask which account).
ID_TOKEN_KEPT_MAX = 1800


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with username and password (failures throttled), or at the provider."""
    form = LoginForm()
    error = None
    local = current_app.config["FEEDBACK_LOCAL_LOGIN"]
    if not local and request.method == "POST":
        abort(404)
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
    return render_template("auth/login.html", form=form, error=error, local=local,
                           oidc_enabled=oidc.enabled(), provider=oidc.provider_name(),
                           next=request.args.get("next")), status


def _external(endpoint: str) -> str:
    # The provider must be sent exactly the redirect URI registered with it: the
    # public URL when one is configured, else the one this request came in on.
    base = current_app.config.get("FEEDBACK_PUBLIC_URL")
    return base + url_for(endpoint) if base else url_for(endpoint, _external=True)


def _callback_url() -> str:
    return _external("auth.oidc_callback")


@bp.route("/login/oidc")
def oidc_login():
    """Off to the organisation's provider (code flow with PKCE, state and nonce)."""
    if not oidc.enabled():
        abort(404)
    if sessions.handover_active():
        return redirect(sessions.locked_home())
    back = sessions.local_path(request.args.get("next"), "") or None
    try:
        target = oidc.authorization_redirect_url(_callback_url(), "sign_in", back)
    except (OSError, ValueError, RuntimeError):
        # requests' errors are OSErrors; a broken discovery document is a ValueError.
        return _refused("provider unreachable", unreachable=True)
    return redirect(target)


def _refused(reason: str, unreachable: bool = False):
    identity.refuse(sessions.current_actor(), reason)
    return render_template("auth/oidc_failed.html", provider=oidc.provider_name(),
                           unreachable=unreachable), 503 if unreachable else 400


@bp.route("/login/oidc/callback")
def oidc_callback():
    """The provider sends the browser back here with a code (or an error)."""
    if not oidc.enabled():
        abort(404)
    try:
        answer = oidc.complete(request.args.get("state"))
    except oidc.CallbackRefused as refused:
        return _refused(refused.reason, refused.unreachable)
    if answer.purpose == "unlock":
        return _finish_unlock(answer)
    if sessions.handover_active():
        return redirect(sessions.locked_home())
    outcome, user = identity.sign_in(oidc.issuer(), answer.claims,
                                     Actor.anonymous(request.remote_addr))
    if outcome != identity.Outcome.signed_in:
        sessions.sign_out("no_role")
        return render_template("auth/no_access.html", provider=oidc.provider_name(),
                               suspended=outcome == identity.Outcome.suspended), 403
    sessions.sign_in(user)
    session["locale"] = user.locale
    if len(answer.id_token) <= ID_TOKEN_KEPT_MAX:
        session[OIDC_ID_TOKEN] = answer.id_token
    return redirect(sessions.local_path(answer.back, home_for(user)))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """Sign out: the session ends on the server too, so a copied cookie stops working.

    Someone who signed in at the provider is signed out there too, where the
    provider offers that (its ``end_session_endpoint``).
    """
    id_token = session.get(OIDC_ID_TOKEN)
    federated = current_user.is_federated
    sessions.sign_out()
    if federated and oidc.enabled():
        target = oidc.logout_url(id_token, _external("auth.login"))
        if target:
            return redirect(target)
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
        error = _("Wrong PIN.") if not current_user.has_password else _("Wrong password.")
    return _unlock_page(form, error)


def _unlock_page(form, error=None, reauth_error=None):
    user = current_user
    federated = user.is_federated and oidc.enabled()
    status = 401 if (error or reauth_error) else 200
    return render_template("auth/unlock.html", form=form, error=error,
                           reauth_error=reauth_error, provider=oidc.provider_name(),
                           offer_secret=user.has_password or bool(user.pin_hash),
                           offer_reauth=federated, resume=sessions.locked_home(),
                           family=sessions.family_view() is not None), status


@bp.route("/unlock/oidc", methods=["POST"])
def unlock_oidc():
    """Unlock by signing in again at the provider: a fresh sign-in, not a remembered one."""
    if (not sessions.handover_active() or not current_user.is_authenticated
            or not current_user.is_federated or not oidc.enabled()):
        return redirect(url_for("auth.unlock"))
    if not ReauthForm().validate_on_submit():
        abort(400)
    try:
        target = oidc.authorization_redirect_url(
            _callback_url(), "unlock", prompt="login", max_age=0)
    except (OSError, ValueError, RuntimeError):
        return _unlock_page(UnlockForm(formdata=None),
                            reauth_error=_("The sign-in service cannot be reached. "
                                           "Try again, or use your PIN."))
    return redirect(target)


def _finish_unlock(answer):
    if not sessions.handover_active() or not current_user.is_authenticated:
        sessions.end_handover()
        return redirect(url_for("auth.login"))
    if identity.reauthenticated(sessions.staff_actor(), oidc.issuer(), answer.claims,
                                answer.asked_at):
        back = sessions.end_handover()
        response = redirect(sessions.local_path(back, url_for("cases.index")))
        sessions.end_respondent_session(response)
        return response
    return _unlock_page(UnlockForm(formdata=None), reauth_error=_(
        "That was not the caseworker who handed over the tablet, or the sign-in was not "
        "new. Only the caseworker can unlock it."))


@bp.route("/account/pin", methods=["GET", "POST"])
@login_required
def pin():
    """Set a PIN for unlocking a handed-over tablet (for those without a local password)."""
    form = PinForm()
    error = None
    done = False
    if form.validate_on_submit():
        if form.pin.data != form.repeat.data:
            error = _("The two PINs are not the same.")
        else:
            try:
                accounts.set_pin(sessions.staff_actor(), form.pin.data)
                done = True
            except Invalid as invalid:
                error = message_for(invalid)
    elif form.errors:
        error = _("Type a PIN of 6 to 12 digits, twice.")
    return render_template("auth/pin.html", form=form, error=error, done=done), \
        400 if error else 200


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
