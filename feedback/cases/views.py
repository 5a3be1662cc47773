"""The caseworker's pages: cases, participants, meetings, QR codes and the graph."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from feedback.auth.views import start_handover
from feedback.cases import qr
from feedback.cases.forms import (
    FAMILY_LABELS,
    MEETING_MODE_LABELS,
    MEETING_TYPE_LABELS,
    ROLE_LABELS,
    STAFF_ROLE_LABELS,
    CaseForm,
    InviteForm,
    MeetingForm,
    ParticipantForm,
)
from feedback.instruments.loader import registry
from feedback.models import Role
from feedback.respond.views import start_respondent_session
from feedback.services import cases, graph, invitations
from feedback.services.errors import Invalid, NotFound
from feedback.services.instruments import AUTO_FAMILIES, bundle_for

bp = Blueprint("cases", __name__)

MESSAGES = {
    "reference_exists": lambda **kw: _("A case with this reference already exists."),
    "team_not_allowed": lambda **kw: _("You can only create cases in your own teams."),
    "birth_year_range": lambda **kw: _(
        "The birth year must be within 25 years before the case opened."),
    "participant_not_in_case": lambda **kw: _("That person does not take part in this case."),
    "instrument_required": lambda **kw: _("Choose at least one questionnaire."),
    "instrument_twice": lambda **kw: _("A questionnaire was chosen twice."),
    "unknown_instrument": lambda **kw: _("Unknown questionnaire."),
    "handover_one": lambda **kw: _("Choose exactly one person to answer on this tablet."),
    "nothing_fits": lambda who, **kw: _("None of the chosen questionnaires fits %(who)s.",
                                        who=who),
    "meeting_too_old": lambda **kw: _(
        "Links for this meeting would already have expired. Create a new meeting for today."),
    "pack_changed_without_version": lambda **kw: _(
        "The questionnaire was changed without a new version number. Ask the administrator."),
}


def message_for(error: Invalid) -> str:
    """The user's message for a domain error, with its details filled in."""
    default = lambda **kw: _("The input could not be saved.")  # noqa: E731
    return MESSAGES.get(error.code, default)(**error.details)


@bp.before_request
@login_required
def staff_only():
    if current_user.role not in (Role.caseworker, Role.team_lead):
        abort(404)


@bp.app_context_processor
def labels():
    return {"ROLE_LABELS": ROLE_LABELS, "MEETING_TYPE_LABELS": MEETING_TYPE_LABELS,
            "MEETING_MODE_LABELS": MEETING_MODE_LABELS, "STAFF_ROLE_LABELS": STAFF_ROLE_LABELS}


def _case_or_404(case_id: str):
    try:
        return cases.get_case(current_user, case_id)
    except NotFound:
        abort(404)


def _meeting_or_404(meeting_id: str):
    try:
        return cases.get_meeting(current_user, meeting_id)
    except NotFound:
        abort(404)


@bp.route("/cases")
def index():
    return render_template("cases/index.html", rows=cases.list_cases(current_user))


@bp.route("/cases/new", methods=["GET", "POST"])
def new():
    form = CaseForm()
    form.team.choices = [SelectChoice(str(t.id), t.name) for t in cases.teams_for(current_user)]
    if form.validate_on_submit():
        try:
            case = cases.create_case(
                current_user, reference=form.reference.data, team_id=_uuid(form.team.data),
                child_birth_year=form.child_birth_year.data, opened_on=form.opened_on.data,
                child_birth_month=int(form.child_birth_month.data)
                if form.child_birth_month.data else None,
                tags=form.tag_list(),
            )
        except Invalid as error:
            getattr(form, error.details.get("field", "reference")).errors.append(
                message_for(error))
        else:
            return redirect(url_for("cases.show", case_id=case.id))
    status = 422 if form.errors else 200
    return render_template("cases/new.html", form=form), status


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None


def _case_page(case, participant_form=None, meeting_form=None, status=200):
    return render_template(
        "cases/show.html", case=case, graph=graph.outcome_graph(case),
        participant_form=participant_form or ParticipantForm(formdata=None),
        meeting_form=meeting_form or MeetingForm(formdata=None),
    ), status


@bp.route("/cases/<case_id>")
def show(case_id):
    return _case_page(_case_or_404(case_id))


@bp.route("/cases/<case_id>/participants", methods=["POST"])
def add_participant(case_id):
    case = _case_or_404(case_id)
    form = ParticipantForm()
    if not form.validate_on_submit():
        return _case_page(case, participant_form=form, status=422)
    cases.add_participant(current_user, case, form.role.data, form.label.data)
    return redirect(url_for("cases.show", case_id=case.id, _anchor="participants"))


@bp.route("/cases/<case_id>/meetings", methods=["POST"])
def add_meeting(case_id):
    case = _case_or_404(case_id)
    form = MeetingForm()
    if not form.validate_on_submit():
        return _case_page(case, meeting_form=form, status=422)
    meeting = cases.create_meeting(current_user, case, held_on=form.held_on.data,
                                   type=form.type.data, mode=form.mode.data)
    return redirect(url_for("cases.meeting", meeting_id=meeting.id))


def _invite_form(meeting, formdata=True) -> InviteForm:
    form = InviteForm() if formdata else InviteForm(formdata=None)
    form.participants.choices = [
        SelectChoice(str(p.id), ROLE_LABELS[p.role] + (f" ({p.label})" if p.label else ""))
        for p in meeting.case.participants
    ]
    lang = str(get_locale())
    families = {pack.family for pack in registry().values()}
    form.instruments.choices = [SelectChoice(f, FAMILY_LABELS[f]) for f in AUTO_FAMILIES
                                if f in families]
    form.versions.choices = [
        SelectChoice(pack.id, f"{pack.id.upper()}: {pack.text(pack.title, lang)}")
        for pack in sorted(registry().values(), key=lambda p: (p.family, p.min_age))
    ]
    if not formdata:
        form.instruments.data = ["outcome"]
    return form


def _meeting_page(meeting, form, status=200, links=()):
    return render_template(
        "cases/meeting.html", meeting=meeting, case=meeting.case, form=form,
        invitations=invitations.meeting_invitations(meeting), links=links,
    ), status


@bp.route("/meetings/<meeting_id>")
def meeting(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    return _meeting_page(meeting, _invite_form(meeting, formdata=False))


@bp.route("/meetings/<meeting_id>/invitations", methods=["POST"])
def invite(meeting_id):
    meeting = _meeting_or_404(meeting_id)
    form = _invite_form(meeting)
    if not form.validate_on_submit():
        return _meeting_page(meeting, form, status=422)
    by_id = {str(p.id): p for p in meeting.case.participants}
    handover = "handover" in request.form
    try:
        if handover and len(form.participants.data) != 1:
            raise Invalid("handover_one")
        bundles = []
        for pid in form.participants.data:
            packs = bundle_for(by_id[pid], meeting, form.choices())
            if not packs:
                raise Invalid("nothing_fits", who=_who(by_id[pid]))
            bundles.append((by_id[pid], packs))
        issued = [invitations.invite(current_user, meeting, p, packs) for p, packs in bundles]
    except Invalid as error:
        form.participants.errors = [*form.participants.errors, message_for(error)]
        return _meeting_page(meeting, form, status=422)
    if handover:
        return _hand_over(meeting, issued[0])
    links = [_link(i) for i in issued]
    # The tokens exist in clear only now: the codes are shown in this response
    # and never again; "show again" issues a new token (decision 2).
    return _meeting_page(meeting, _invite_form(meeting, formdata=False), links=links)


def _hand_over(meeting, issued):
    """Open the questionnaire on this tablet and lock the staff view until unlocked."""
    token = invitations.open_link(issued.token, request.remote_addr)
    response = redirect(url_for("respond.current"), 303)
    start_respondent_session(response, token)
    start_handover(back=url_for("cases.meeting", meeting_id=meeting.id))
    return response


def _who(participant) -> str:
    return ROLE_LABELS[participant.role] + (f" ({participant.label})" if participant.label else "")


@bp.route("/invitations/<invitation_id>/reissue", methods=["POST"])
def reissue(invitation_id):
    """Show the code again (CSRFProtect has already checked the form's token)."""
    invitation = invitations.get_invitation(current_user, invitation_id)
    if invitation is None:
        abort(404)
    if invitation.complete:
        # Everything was answered: there is nothing left for a new code to open.
        return redirect(url_for("cases.meeting", meeting_id=invitation.meeting_id))
    issued = invitations.reissue(current_user, invitation)
    return _meeting_page(invitation.meeting, _invite_form(invitation.meeting, formdata=False),
                         links=[_link(issued)])


def _link(issued) -> dict:
    base = current_app.config["FEEDBACK_PUBLIC_URL"] or request.host_url.rstrip("/")
    url = base + url_for("respond.open_link", token=issued.token)
    who = _who(issued.invitation.participant)
    return {"invitation": issued.invitation, "url": url, "who": who,
            "code": invitations.format_code(issued.code),
            "code_url": base + url_for("respond.enter_code"),
            "svg": qr.svg(url, label=_("QR code for %(who)s", who=who))}
