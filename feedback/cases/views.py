"""The caseworker's pages: cases, participants, meetings, QR codes and the graph."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from feedback import labels, sessions
from feedback.cases import charts, qr
from feedback.cases.forms import CaseForm, InviteForm, MeetingForm, ParticipantForm
from feedback.errors import message_for
from feedback.services import cases, instruments, invitations, trajectories
from feedback.services.access import Action
from feedback.services.errors import Invalid, NotFound

bp = Blueprint("cases", __name__)
bp.before_request(sessions.guard(Action.list_cases))


def _case_or_404(case_id: str):
    try:
        return cases.get_case(sessions.staff_actor(), case_id)
    except NotFound:
        abort(404)


def _meeting_or_404(meeting_id: str):
    try:
        return cases.get_meeting(sessions.staff_actor(), meeting_id)
    except NotFound:
        abort(404)


@bp.route("/cases")
def index():
    """The caseworker's or team lead's list of cases."""
    return render_template("cases/index.html", rows=cases.list_cases(sessions.staff_actor()))


@bp.route("/cases/new", methods=["GET", "POST"])
def new():
    """Open a new case."""
    actor = sessions.staff_actor()
    form = CaseForm()
    form.team.choices = [SelectChoice(str(t.id), t.name) for t in cases.teams_for(actor)]
    if form.validate_on_submit():
        try:
            case = cases.create_case(
                actor, reference=form.reference.data, team_id=_uuid(form.team.data),
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
    data = trajectories.for_case(case, families=("outcome",))
    return render_template(
        "cases/show.html", case=case, graph=charts.family_graph(data, "outcome"),
        participant_form=participant_form or ParticipantForm(formdata=None),
        meeting_form=meeting_form or MeetingForm(formdata=None),
    ), status


@bp.route("/cases/<case_id>")
def show(case_id):
    """The case page: graph, meetings and participants."""
    return _case_page(_case_or_404(case_id))


@bp.route("/cases/<case_id>/participants", methods=["POST"])
def add_participant(case_id):
    """Add a participant to the case."""
    case = _case_or_404(case_id)
    form = ParticipantForm()
    if not form.validate_on_submit():
        return _case_page(case, participant_form=form, status=422)
    cases.add_participant(sessions.staff_actor(), case, form.role.data, form.label.data)
    return redirect(url_for("cases.show", case_id=case.id, _anchor="participants"))


@bp.route("/cases/<case_id>/meetings", methods=["POST"])
def add_meeting(case_id):
    """Create a meeting and go to its page."""
    case = _case_or_404(case_id)
    form = MeetingForm()
    if not form.validate_on_submit():
        return _case_page(case, meeting_form=form, status=422)
    meeting = cases.create_meeting(sessions.staff_actor(), case, held_on=form.held_on.data,
                                   type=form.type.data, mode=form.mode.data)
    return redirect(url_for("cases.meeting", meeting_id=meeting.id))


def _invite_form(meeting, formdata=True) -> InviteForm:
    form = InviteForm() if formdata else InviteForm(formdata=None)
    form.participants.choices = [
        SelectChoice(str(p.id), labels.participant_name(p)) for p in meeting.case.participants
    ]
    form.instruments.choices = [SelectChoice(f, labels.FAMILY_LABELS[f])
                                for f in instruments.families()]
    form.versions.choices = [SelectChoice(pack.id, labels.pack_title(pack))
                             for pack in instruments.installed()]
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
    """The meeting page: invite respondents, see who has answered."""
    meeting = _meeting_or_404(meeting_id)
    return _meeting_page(meeting, _invite_form(meeting, formdata=False))


@bp.route("/meetings/<meeting_id>/invitations", methods=["POST"])
def invite(meeting_id):
    """Issue links (or hand the tablet over) for the chosen people."""
    meeting = _meeting_or_404(meeting_id)
    form = _invite_form(meeting)
    if not form.validate_on_submit():
        return _meeting_page(meeting, form, status=422)
    actor = sessions.staff_actor()
    try:
        if "handover" in request.form:
            token = invitations.hand_over(actor, meeting, form.participants.data,
                                          form.choices())
        else:
            issued = invitations.invite_many(actor, meeting, form.participants.data,
                                             form.choices())
    except Invalid as error:
        form.participants.errors = [*form.participants.errors, message_for(error)]
        return _meeting_page(meeting, form, status=422)
    except NotFound:
        abort(404)
    if "handover" in request.form:
        return _hand_over(meeting, token)
    # The tokens exist in clear only now: the codes are shown in this response
    # and never again; "show again" issues a new token (decision 2).
    return _meeting_page(meeting, _invite_form(meeting, formdata=False),
                         links=[_link(i) for i in issued])


def _hand_over(meeting, token):
    """Open the questionnaire on this tablet and lock the staff view until unlocked."""
    response = redirect(url_for("respond.current"), 303)
    sessions.start_respondent_session(response, token)
    sessions.start_handover(back=url_for("cases.meeting", meeting_id=meeting.id))
    return response


@bp.route("/invitations/<invitation_id>/reissue", methods=["POST"])
def reissue(invitation_id):
    """Show the code again (CSRFProtect has already checked the form's token)."""
    actor = sessions.staff_actor()
    try:
        invitation = invitations.get_invitation(actor, invitation_id)
    except NotFound:
        abort(404)
    if invitation.complete:
        # Everything was answered: there is nothing left for a new code to open.
        return redirect(url_for("cases.meeting", meeting_id=invitation.meeting_id))
    issued = invitations.reissue(actor, invitation)
    return _meeting_page(invitation.meeting, _invite_form(invitation.meeting, formdata=False),
                         links=[_link(issued)])


def _link(issued) -> dict:
    base = current_app.config["FEEDBACK_PUBLIC_URL"] or request.host_url.rstrip("/")
    url = base + url_for("respond.open_link", token=issued.token)
    who = labels.participant_name(issued.invitation.participant)
    return {"invitation": issued.invitation, "url": url, "who": who,
            "code": invitations.format_code(issued.code),
            "code_url": base + url_for("respond.enter_code"),
            "svg": qr.svg(url, label=_("QR code for %(who)s", who=who))}
