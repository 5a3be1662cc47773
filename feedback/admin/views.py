"""The administrator's overview: users, teams and instrument packs."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField

from feedback import sessions
from feedback.errors import message_for
from feedback.forms import Form
from feedback.services import accounts, instruments, notices
from feedback.services.access import Action
from feedback.services.errors import Invalid

bp = Blueprint("admin", __name__)
bp.before_request(sessions.guard(Action.admin))


@bp.route("/")
def index():
    """The administrator's overview of users, teams and packs."""
    actor = sessions.staff_actor()
    try:
        packs, problems = instruments.installed(), []
    except Invalid:
        # A broken pack directory: say what is wrong instead of failing the page.
        packs, problems = [], instruments.check_installation()
    return render_template("admin/index.html", users=accounts.list_users(actor),
                           teams=accounts.list_teams(actor), pack_problems=problems,
                           packs=sorted(packs, key=lambda p: (p.family, p.id)))


class NoticeForm(Form):
    """The organisation's notice to respondents, in Danish and English."""

    notice_da = TextAreaField(_l("In Danish"))
    notice_en = TextAreaField(_l("In English (also shown for other languages)"))


@bp.route("/notice", methods=["GET", "POST"])
def notice():
    """What respondents are told their answers are used for and who sees them."""
    actor = sessions.staff_actor()
    organisation = notices.organisation_of(actor)
    form = NoticeForm(data={"notice_da": organisation.notice_da or "",
                            "notice_en": organisation.notice_en or ""})
    status = 200
    if form.validate_on_submit():
        try:
            notices.set_notice(actor, form.notice_da.data, form.notice_en.data)
        except Invalid as error:
            getattr(form, error.details.get("field", "notice_da")).errors = [message_for(error)]
            status = 422
        else:
            return redirect(url_for("admin.notice", saved=1))
    return render_template("admin/notice.html", form=form, default=notices.default_notice(),
                           maximum=organisation.NOTICE_MAX,
                           saved=request.args.get("saved") == "1" and status == 200), status
