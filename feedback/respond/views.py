"""The respondent's pages: open a link, answer the bundle, see a thank-you.

The link's token is swapped for a respondent cookie on the first visit, and
the browser is sent to a URL without it (decision 6). Case, meeting,
respondent and instrument always come from that cookie's token, never from
the form.
"""

from __future__ import annotations

from babel import Locale
from flask import (
    Blueprint,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from feedback import sessions
from feedback.respond.forms import CodeForm, answer_form
from feedback.services import invitations, notices, responses
from feedback.services.errors import (
    AlreadyAnswered,
    Invalid,
    LinkUnusable,
    NotFound,
    SubmissionConflict,
    Throttled,
    Unavailable,
)

#: Seconds a respondent's page waits before sending again when the database is busy.
RETRY_AFTER = 5

bp = Blueprint("respond", __name__)

#: Whom the questions are about, said on every questionnaire that rates somebody
#: (codes from :func:`feedback.instruments.wording.about`).
ABOUT = {
    "you": _l("The questions are about you."),
    "your_child": _l("The questions are about your child: answer with how you think your "
                     "child is doing."),
    "the_child": _l("The questions are about the child: answer with how you think the child "
                    "is doing."),
    "yourself": _l("The questions are about you yourself: how you are doing."),
    "meeting": _l("The questions are about the meeting."),
}


@bp.app_context_processor
def languages():
    """Template helpers for the respondent pages."""
    def respondent_languages():
        """(code, name in its own language) for each language a respondent can choose."""
        return [(code, Locale.parse(code).get_display_name(code).capitalize())
                for code in current_app.config["FEEDBACK_LOCALES"]]

    return {"respondent_languages": respondent_languages}


@bp.before_request
def read_cookie():
    """Who this browser answers for."""
    sessions.read_respondent()


def unusable():
    """One page for every bad link: it never says which way the link was bad."""
    return render_template("respond/unusable.html"), 404


def throttled():
    """The page for too many failed links or codes from one address."""
    return render_template("respond/unusable.html", throttled=True), 429


def wants_json() -> bool:
    """Whether the page's script asked for a JSON answer."""
    return request.accept_mimetypes.best == "application/json"


@bp.route("/<token>")
def open_link(token):
    """Swap the link's token for a respondent cookie and drop it from the URL."""
    try:
        row = invitations.open_link(token, sessions.current_actor())
    except LinkUnusable:
        return unusable()
    except Throttled:
        return throttled()
    response = redirect(url_for("respond.current"), 303)
    sessions.start_respondent_session(response, row)
    return response


@bp.route("/code", methods=["GET", "POST"])
def enter_code():
    """Type the short code instead of scanning the QR code."""
    form = CodeForm(request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            row = invitations.open_code(form.code.data, sessions.current_actor())
        except LinkUnusable:
            form.code.errors = [_("This code does not work. Ask your caseworker for a new code.")]
            return render_template("respond/code.html", form=form), 404
        except Throttled:
            return throttled()
        response = redirect(url_for("respond.current"), 303)
        sessions.start_respondent_session(response, row)
        return response
    return render_template("respond/code.html", form=form), 422 if form.errors else 200


def _token():
    token_id = sessions.respondent_token_id()
    if not token_id:
        raise LinkUnusable()
    return invitations.respondent_link(token_id, grace=True)


@bp.route("/")
def current():
    """The next unanswered questionnaire, or the thank-you page."""
    try:
        token = _token()
    except LinkUnusable:
        return unusable()
    position = responses.next_position(token)
    if position is None:
        return render_template("respond/done.html")
    item, instrument = responses.bundle_item(token, position)
    instrument, about = responses.worded(token, instrument)
    form = answer_form(instrument, str(token.id))
    return _questionnaire(token, position, instrument, about, form)


def _questionnaire(token, position, instrument, about, form, status=200, message=None):
    items = token.items
    step = [i.position for i in items].index(position) + 1
    # The organisation's notice of what the answers are used for and who sees them,
    # on the first questionnaire of the link (the respondent's first page).
    notice = (notices.notice_for_meeting(token.meeting_id, g.respondent_locale)
              if not any(i.used_at for i in items) else None)
    return render_template(
        "respond/questionnaire.html", form=form, instrument=instrument, position=position,
        about=ABOUT[about] if about else None,
        step=step, steps=len(items), lang=g.respondent_locale, message=message,
        notice=notice,
    ), status


@bp.route("/q/<int:position>", methods=["POST"])
def submit(position):
    """Store one questionnaire's answers."""
    try:
        token = _token()
        item, instrument = responses.bundle_item(token, position)
        instrument, about = responses.worded(token, instrument)
    except (LinkUnusable, NotFound):
        return _refused(404, "link") if wants_json() else unusable()
    form = answer_form(instrument, str(token.id), request.form)
    if not form.validate():
        status = 400 if form.csrf_failed or form.submission_id_missing else 422
        if wants_json():
            return _refused(status, "invalid", errors=form.errors)
        return _questionnaire(token, position, instrument, about, form, status=status)
    try:
        actor = sessions.current_actor(token.invitation_id)
        receipt = responses.submit(actor, token, position, form.submission_id.data,
                                   form.answers(), g.respondent_locale)
    except SubmissionConflict:
        message = _("These answers were already sent with different values. "
                    "Please ask your caseworker.")
        if wants_json():
            return _refused(422, "conflict")
        return _questionnaire(token, position, instrument, about, form, 422, message)
    except AlreadyAnswered:
        if wants_json():
            return _refused(409, "already_answered")
        return redirect(url_for("respond.current"), 303)
    except Invalid:
        return _refused(400, "invalid") if wants_json() else (unusable()[0], 400)
    except Unavailable:
        # Nothing was stored: never a receipt. The answers stay on the device (the
        # page's script keeps them and sends again; without it, the form below
        # still holds them, with the same submission id, so sending twice is safe).
        if wants_json():
            reply = make_response(_refused(503, "unavailable"))
        else:
            reply = make_response(_questionnaire(token, position, instrument, about, form, 503, _(
                "Your answers have not been sent yet: the system is busy. They are still "
                "here on this device. Wait a moment and press “Send” again.")))
        reply.headers["Retry-After"] = str(RETRY_AFTER)
        return reply
    if wants_json():
        return jsonify(ok=True, response_id=str(receipt.response_id),
                       submitted_at=receipt.submitted_at.isoformat(),
                       next=url_for("respond.current")), 201 if receipt.created else 200
    return redirect(url_for("respond.current"), 303)


def _refused(status: int, code: str, **extra):
    return jsonify(ok=False, error=code, **extra), status


@bp.route("/language", methods=["POST"])
def language():
    """The respondent's own language choice, kept in their cookie."""
    locale = request.form.get("locale", "")
    try:
        token = _token()
    except LinkUnusable:
        return unusable()
    if locale not in current_app.config["FEEDBACK_LOCALES"]:
        locale = g.respondent_locale
    response = redirect(url_for("respond.current"), 303)
    sessions.set_respondent_cookie(response, str(token.id), locale, token.expires_at)
    return response
