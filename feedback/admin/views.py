"""The administrator's pages: users, teams and instrument packs."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, TextAreaField

from feedback import sessions
from feedback.admin.forms import ConfirmForm, ResetForm, RoleForm, TeamForm, UserForm
from feedback.errors import message_for
from feedback.forms import Form
from feedback.services import accounts, instruments, notices
from feedback.services.access import Action
from feedback.services.errors import Invalid, NotFound

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


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    """Create a local user (people from the organisation's login are created at sign-in)."""
    actor = sessions.staff_actor()
    form = UserForm()
    form.teams.choices = [SelectChoice(str(t.id), t.name) for t in accounts.list_teams(actor)]
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.admin_create_user(actor, form.username.data, form.display_name.data,
                                              form.role.data, form.password.data,
                                              form.teams.data)
        except Invalid as invalid:
            error = message_for(invalid)
        else:
            flash(_("The user was created."))
            return redirect(url_for("admin.user", user_id=user.id))
    elif form.errors:
        error = _("Check the fields marked below.")
    return render_template("admin/user_new.html", form=form, error=error), \
        400 if error else 200


def _user_or_404(actor, user_id):
    try:
        return accounts.user_for_admin(actor, user_id)
    except NotFound:
        abort(404)


@bp.route("/users/<user_id>")
def user(user_id):
    """One user: role, teams, where they came from, and what an administrator can do."""
    actor = sessions.staff_actor()
    return _user_page(_user_or_404(actor, user_id))


def _role_form(actor, user, formdata=None) -> RoleForm:
    form = RoleForm(formdata=formdata, data={
        "role": user.role.value, "teams": [str(t) for t in user.team_ids]})
    form.teams.choices = [SelectChoice(str(t.id), t.name) for t in accounts.list_teams(actor)]
    return form


def _user_page(user, error=None, reset_form=None, role_form=None):
    actor = sessions.staff_actor()
    return render_template("admin/user.html", user=user, error=error,
                           reset_form=reset_form or ResetForm(formdata=None),
                           role_form=role_form or _role_form(actor, user),
                           confirm=ConfirmForm(formdata=None)), 400 if error else 200


@bp.route("/users/<user_id>/role", methods=["POST"])
def set_role(user_id):
    """A local user's role and teams."""
    actor = sessions.staff_actor()
    target = _user_or_404(actor, user_id)
    form = _role_form(actor, target, request.form)
    if not form.validate_on_submit():
        return _user_page(target, _("Check the fields marked below."), role_form=form)
    try:
        accounts.admin_set_role(actor, target.id, form.role.data, form.teams.data)
    except Invalid as invalid:
        return _user_page(target, message_for(invalid), role_form=form)
    flash(_("The role and teams were saved."))
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/users/<user_id>/active", methods=["POST"])
def set_active(user_id):
    """Deactivate (ending the user's sessions at once) or reactivate."""
    actor = sessions.staff_actor()
    target = _user_or_404(actor, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        accounts.admin_set_active(actor, target.id, not target.active)
    except Invalid as invalid:
        return _user_page(target, message_for(invalid))
    flash(_("The user was reactivated.") if target.active else
          _("The user was deactivated and signed out everywhere."))
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/users/<user_id>/reset", methods=["POST"])
def reset(user_id):
    """A new password (local users), the unlock PIN cleared, every session ended."""
    actor = sessions.staff_actor()
    target = _user_or_404(actor, user_id)
    form = ResetForm()
    if not form.validate_on_submit():
        return _user_page(target, _("The password must be at least 10 characters."), form)
    try:
        accounts.admin_reset(actor, target.id, form.password.data or None)
    except Invalid as invalid:
        return _user_page(target, message_for(invalid), form)
    flash(_("The user was reset and signed out everywhere."))
    return redirect(url_for("admin.user", user_id=target.id))


@bp.route("/teams/new", methods=["GET", "POST"])
def new_team():
    """Create a team."""
    actor = sessions.staff_actor()
    form = TeamForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.admin_create_team(actor, form.name.data)
        except Invalid as invalid:
            error = message_for(invalid)
        else:
            flash(_("The team was created."))
            return redirect(url_for("admin.index"))
    elif form.errors:
        error = _("Give the team a name.")
    return render_template("admin/team_new.html", form=form, error=error), \
        400 if error else 200


def _team_or_404(actor, team_id):
    try:
        return accounts.team_for_admin(actor, team_id)
    except NotFound:
        abort(404)


def _team_page(actor, team, form=None, error=None):
    return render_template("admin/team.html", team=team, error=error,
                           members=accounts.team_members(actor, team),
                           form=form or TeamForm(formdata=None, data={"name": team.name}),
                           confirm=ConfirmForm(formdata=None)), 400 if error else 200


@bp.route("/teams/<team_id>", methods=["GET", "POST"])
def team(team_id):
    """One team: its members; rename it."""
    actor = sessions.staff_actor()
    found = _team_or_404(actor, team_id)
    form = TeamForm() if request.method == "POST" else None
    if form is not None:
        if not form.validate_on_submit():
            return _team_page(actor, found, form, _("Give the team a name."))
        try:
            accounts.admin_rename_team(actor, found.id, form.name.data)
        except Invalid as invalid:
            return _team_page(actor, found, form, message_for(invalid))
        flash(_("The team was renamed."))
        return redirect(url_for("admin.team", team_id=found.id))
    return _team_page(actor, found)


@bp.route("/teams/<team_id>/active", methods=["POST"])
def set_team_active(team_id):
    """Deactivate (no new cases) or reactivate a team."""
    actor = sessions.staff_actor()
    found = _team_or_404(actor, team_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.admin_set_team_active(actor, found.id, not found.active)
    flash(_("The team was reactivated.") if found.active else
          _("The team was deactivated: no new cases can be created in it."))
    return redirect(url_for("admin.team", team_id=found.id))
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
