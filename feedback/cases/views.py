"""The caseworker's pages: cases, participants, meetings, QR codes and the graph."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import joinedload, selectinload
from wtforms import SelectChoice

from feedback import bidi, clock, labels, sessions
from feedback.cases import charts, fragments, qr
from feedback.cases.forms import (
    CaseForm,
    CaseListForm,
    CloseForm,
    InviteForm,
    MeetingForm,
    ParticipantForm,
    ReopenForm,
    TransferForm,
    VoidForm,
)
from feedback.errors import message_for
from feedback.models import Case, ResponseVoid
from feedback.services import (
    access,
    cases,
    expected,
    instruments,
    invitations,
    overview,
    responses,
    sittings,
    trajectories,
)
from feedback.services.access import Action
from feedback.services.errors import Invalid, NotFound

bp = Blueprint("cases", __name__)
bp.before_request(sessions.guard(Action.list_cases))


def _case_or_404(case_id: str, options=()):
    try:
        return cases.get_case(sessions.staff_actor(), case_id, options=options)
    except NotFound:
        abort(404)


#: What the case page shows of the case itself, read with it: its team and tags
#: in the same statement, the participants in one more.
CASE_PAGE = (joinedload(Case.team), joinedload(Case.tags), selectinload(Case.participants))


def _meeting_or_404(meeting_id: str):
    try:
        return cases.get_meeting(sessions.staff_actor(), meeting_id)
    except NotFound:
        abort(404)


#: "No rating for a while": more than six weeks.
STALE_DAYS = 42


@bp.route("/cases")
def index():
    """The caseworker's list or the team lead's overview: latest scores, signals, dates."""
    form = CaseListForm(request.args)
    if not form.validate():
        form = CaseListForm(formdata=None)
    rows = overview.case_rows(
        sessions.staff_actor(), sort=form.sort.data, text=form.q.data or "",
        only_signals=form.show.data == "signals",
        stale_days=STALE_DAYS if form.show.data == "stale" else None, status=form.status.data,
        after=current_app.config.get("FEEDBACK_NOT_ON_TRACK_AFTER", 4))
    fmt = charts.Formatter.for_page()
    return render_template("cases/index.html", rows=rows, form=form, fmt=fmt,
                           filtered=bool(request.args))


@bp.route("/cases/new", methods=["GET", "POST"])
def new():
    """Open a new case."""
    actor = sessions.staff_actor()
    form = CaseForm()
    form.team.choices = _team_choices(actor)
    _date_bounds(form.opened_on, cases.opened_window(clock.today()))
    if form.validate_on_submit():
        try:
            case = cases.create_case(actor, team_id=_uuid(form.team.data), **form.case_data())
        except Invalid as error:
            _attach(form, error, "reference")
        else:
            return redirect(url_for("cases.show", case_id=case.id))
    status = 422 if form.errors else 200
    return render_template("cases/new.html", form=form), status


def _team_choices(actor, case=None) -> list[SelectChoice]:
    teams = {t.id: t for t in cases.teams_for(actor)}
    if case is not None:
        teams.setdefault(case.team_id, case.team)
    return [SelectChoice(str(t.id), t.name) for t in sorted(teams.values(), key=lambda t: t.name)]


def _date_bounds(field, window) -> None:
    """Let the browser's date picker offer only the dates the service accepts."""
    first, last = window
    field.render_kw = {**(field.render_kw or {}), "min": first.isoformat(),
                       "max": last.isoformat()}


def _attach(form, error: Invalid, default: str) -> None:
    """Show a service's refusal next to the field it is about."""
    name = error.details.get("field", default)
    field = getattr(form, name, None) or getattr(form, default)
    field.errors = [*field.errors, message_for(error)]


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return None


def _may(actor, case) -> dict[str, bool]:
    return {name: access.may(actor, action, case) for name, action in (
        ("edit", Action.edit_case), ("transfer", Action.transfer_case),
        ("close", Action.close_case), ("void", Action.void_response),
        ("hand_over", Action.hand_over))}


def _chart_notes() -> dict[str, str]:
    """Words the charts print in tables and boxes, in the staff member's language."""
    return {"fallen": _("fallen reliably"), "faces": _("faces version"),
            "low": _("under the cut-off"), "fall": _("fell 1 point or more"),
            "ask": _("ask about"), "no_total": _("no total (an item skipped)"),
            "skipped": _("skipped"), "dont_know": _("don't know"),
            "shares": _("9–10: {top} · 1–3: {bottom} ({n} answers)"),
            "who": _("Respondent"), "date": _("Date"), "meeting": _("Meeting"),
            "version": _("Questionnaire"), "score": _("Score"), "items": _("Items"),
            "band": _("Band"), "note": _("Note"), "voided": _("voided"),
            "no_answers": _("No answers."), "concern": _("under the concern line"),
            "skipped_n": lambda n: ngettext("%(num)d item skipped", "%(num)d items skipped", n)}


def _case_page(case, participant_form=None, meeting_form=None, status=200):
    data = trajectories.for_case(case)
    after = current_app.config.get("FEEDBACK_NOT_ON_TRACK_AFTER", 4)
    opt = charts.page_options(notes=_chart_notes(), not_on_track_after=after,
                              **expected.for_page(case))
    meeting_form = meeting_form or MeetingForm(formdata=None)
    _date_bounds(meeting_form.held_on, cases.meeting_window(case, clock.today()))
    return render_template(
        "cases/show.html", case=case, graphs=charts.case_charts(data, opt),
        timeline=charts.timeline(data, opt), not_on_track_after=after,
        participant_form=participant_form or ParticipantForm(formdata=None),
        meeting_form=meeting_form, may=_may(sessions.staff_actor(), case),
        # Read (with who voided them and why) only when the series saw any.
        voided=responses.voided_responses(case) if data.voided else [],
        reopen_form=ReopenForm(),
    ), status


@bp.route("/cases/<case_id>")
def show(case_id):
    """The case page: graph, meetings and participants."""
    return _case_page(_case_or_404(case_id, CASE_PAGE))


def _edit_page(case, form=None, transfer_form=None, close_form=None, status=200):
    actor = sessions.staff_actor()
    if form is None:
        form = CaseForm(formdata=None, data={
            "reference": case.reference, "team": str(case.team_id),
            "child_birth_year": case.child_birth_year,
            "child_birth_month": str(case.child_birth_month or ""),
            "opened_on": case.opened_on, "tags": ", ".join(t.name for t in case.tags)})
    form.team.choices = _team_choices(actor, case)
    _date_bounds(form.opened_on, cases.opened_window(clock.today()))
    transfer_form = transfer_form or TransferForm(formdata=None,
                                                  responsible=str(case.responsible_id))
    transfer_form.responsible.choices = [
        SelectChoice(str(u.id), u.display_name) for u in cases.transfer_candidates(case)]
    close_form = close_form or CloseForm(formdata=None)
    _date_bounds(close_form.closed_on, cases.close_window(case, clock.today()))
    return render_template("cases/edit.html", case=case, form=form,
                           transfer_form=transfer_form, close_form=close_form,
                           reopen_form=ReopenForm(), may=_may(actor, case)), status


@bp.route("/cases/<case_id>/edit", methods=["GET", "POST"])
def edit(case_id):
    """Correct what was typed about a case."""
    case = _case_or_404(case_id)
    actor = sessions.staff_actor()
    if request.method == "GET":
        return _edit_page(case)
    form = CaseForm()
    form.team.choices = _team_choices(actor, case)
    if form.validate():
        try:
            cases.update_case(actor, case, team_id=_uuid(form.team.data), **form.case_data())
        except Invalid as error:
            _attach(form, error, "reference")
        except NotFound:
            abort(404)
        else:
            return redirect(url_for("cases.show", case_id=case.id))
    return _edit_page(case, form=form, status=422)


@bp.route("/cases/<case_id>/transfer", methods=["POST"])
def transfer(case_id):
    """Make another caseworker of the team responsible for the case."""
    case = _case_or_404(case_id)
    form = TransferForm()
    form.responsible.choices = [SelectChoice(str(u.id), u.display_name)
                                for u in cases.transfer_candidates(case)]
    if form.validate():
        try:
            cases.transfer_case(sessions.staff_actor(), case, form.responsible.data)
        except Invalid as error:
            _attach(form, error, "responsible")
        except NotFound:
            abort(404)
        else:
            # The case may now be out of the caseworker's own list: go to the list.
            return redirect(url_for("cases.index"))
    return _edit_page(case, transfer_form=form, status=422)


@bp.route("/cases/<case_id>/close", methods=["POST"])
def close(case_id):
    """Close the case on a date."""
    case = _case_or_404(case_id)
    form = CloseForm()
    if form.validate():
        try:
            cases.close_case(sessions.staff_actor(), case, form.closed_on.data)
        except Invalid as error:
            _attach(form, error, "closed_on")
        except NotFound:
            abort(404)
        else:
            return redirect(url_for("cases.show", case_id=case.id))
    return _edit_page(case, close_form=form, status=422)


@bp.route("/cases/<case_id>/reopen", methods=["POST"])
def reopen(case_id):
    """Reopen a closed case."""
    case = _case_or_404(case_id)
    if not ReopenForm().validate():
        abort(400)
    try:
        cases.reopen_case(sessions.staff_actor(), case)
    except NotFound:
        abort(404)
    return redirect(url_for("cases.show", case_id=case.id))


@bp.route("/cases/<case_id>/participants", methods=["POST"])
def add_participant(case_id):
    """Add a participant to the case."""
    case = _case_or_404(case_id)
    form = ParticipantForm()
    if form.validate_on_submit():
        try:
            cases.add_participant(sessions.staff_actor(), case, form.role.data,
                                  form.label.data)
        except Invalid as error:
            _attach(form, error, "label")
        else:
            return redirect(url_for("cases.show", case_id=case.id, _anchor="participants"))
    return _case_page(case, participant_form=form, status=422)


@bp.route("/cases/<case_id>/meetings", methods=["POST"])
def add_meeting(case_id):
    """Create a meeting and go to its page."""
    case = _case_or_404(case_id)
    form = MeetingForm()
    if form.validate_on_submit():
        try:
            meeting = cases.create_meeting(sessions.staff_actor(), case,
                                           held_on=form.held_on.data, type=form.type.data,
                                           mode=form.mode.data)
        except Invalid as error:
            _attach(form, error, "held_on")
        else:
            return redirect(url_for("cases.meeting", meeting_id=meeting.id))
    return _case_page(case, meeting_form=form, status=422)


def _invite_form(meeting, formdata=True) -> InviteForm:
    form = InviteForm() if formdata else InviteForm(formdata=None)
    form.participants.choices = [
        SelectChoice(str(p.id), bidi.participant_html(p)) for p in meeting.case.participants
    ]
    form.instruments.choices = [SelectChoice(f, labels.FAMILY_LABELS[f])
                                for f in instruments.families()]
    form.versions.choices = [SelectChoice(pack.id, labels.pack_title(pack))
                             for pack in instruments.installed()]
    if not formdata:
        form.instruments.data = ["outcome"]
    return form


def _meeting_page(meeting, form=None, status=200, links=(), void_errors=None, warnings=()):
    """The meeting page; without an invitation form when no links can be issued, saying why.

    With the form, each person's number of questions for what is ticked, and
    ``warnings`` (sittings) when the form is shown again before issuing.
    """
    refusal = invitations.refusal(meeting)
    notice = None
    if refusal is None and form is None:
        try:
            form = _invite_form(meeting, formdata=False)
        except Invalid as error:  # the instrument packs are broken
            refusal, notice = error.code, message_for(error)
    if refusal is not None and notice is None:
        notice = message_for(Invalid(refusal))
    plan = []
    if refusal is None:
        ticked = set(form.participants.data or [])
        plan = [s for s in sittings.plan(meeting, form.choices())
                if not ticked or str(s.participant.id) in ticked]
    return render_template(
        "cases/meeting.html", meeting=meeting, case=meeting.case,
        form=form if refusal is None else None, notice=notice,
        sittings=plan, question_limit=sittings.limit(), warnings=warnings,
        invitations=invitations.meeting_invitations(meeting), links=links,
        may=_may(sessions.staff_actor(), meeting.case), void_errors=void_errors or {},
        responses=responses.meeting_responses(meeting), void_reason_max=ResponseVoid.REASON_MAX,
        **_live_context(meeting),
    ), status


def _live_context(meeting) -> dict:
    # The live results, staff ratings and family view live in their own module.
    from feedback.cases import live

    return live.page_context(meeting)


@bp.route("/meetings/<meeting_id>")
def meeting(meeting_id):
    """The meeting page: invite respondents, see who has answered."""
    return _meeting_page(_meeting_or_404(meeting_id))


@bp.route("/meetings/<meeting_id>/invitations", methods=["POST"])
def invite(meeting_id):
    """Issue links (or hand the tablet over) for the chosen people."""
    meeting = _meeting_or_404(meeting_id)
    try:
        form = _invite_form(meeting)
    except Invalid:
        return _meeting_page(meeting, status=422)
    if form.preview.data:  # "Count the questions": nothing is issued
        return _meeting_page(meeting, form)
    if not form.validate_on_submit():
        return _meeting_page(meeting, form, status=422)
    warnings = [] if form.confirmed.data else _warnings(meeting, form)
    if warnings:
        return _meeting_page(meeting, form, warnings=warnings)
    actor = sessions.staff_actor()
    try:
        if "handover" in request.form:
            token = invitations.hand_over(actor, meeting, form.participants.data,
                                          form.choices(), form.subject.data)
        else:
            issued = invitations.invite_many(actor, meeting, form.participants.data,
                                             form.choices(), form.subject.data)
    except Invalid as error:
        form.participants.errors = [*form.participants.errors, message_for(error)]
        return _meeting_page(meeting, form, status=422)
    except NotFound:
        abort(404)
    if "handover" in request.form:
        return _hand_over(meeting, token)
    # The tokens exist in clear only now: the codes are shown in this response
    # and never again; "show again" issues a new token (decision 2).
    return _meeting_page(meeting, links=[_link(i) for i in issued])


def _warnings(meeting, form) -> list:
    """The chosen people's sittings that need a second look before links are issued.

    Above the question limit, or two packs that ask much the same: the form is
    shown again with the warnings, the organisation's preferred pack selected
    instead of the other, and pressing again issues the links.
    """
    chosen = [p for p in meeting.case.participants if str(p.id) in form.participants.data]
    plan = [s for s in sittings.plan(meeting, form.choices(), chosen)
            if s.too_long or s.overlaps]
    if not plan:
        return []
    keep = sittings.without_unpreferred(form.choices(), plan)
    form.instruments.data = [c for c in form.instruments.data or [] if c in keep]
    form.versions.data = [c for c in form.versions.data or [] if c in keep]
    form.confirmed.data = "1"
    return plan


def _hand_over(meeting, token):
    """Open the questionnaire on this tablet and lock the staff view until unlocked."""
    response = redirect(url_for("respond.current"), 303)
    sessions.start_respondent_session(response, token)
    sessions.start_handover(back=url_for("cases.meeting", meeting_id=meeting.id))
    return response


def _invitation_or_404(invitation_id):
    try:
        return invitations.get_invitation(sessions.staff_actor(), invitation_id)
    except NotFound:
        abort(404)


@bp.route("/invitations/<invitation_id>/reissue", methods=["POST"])
def reissue(invitation_id):
    """Show the code again (CSRFProtect has already checked the form's token)."""
    invitation = _invitation_or_404(invitation_id)
    if invitation.complete or invitations.refusal(invitation.meeting):
        # Everything was answered, or no link would work: nothing to show again.
        return redirect(url_for("cases.meeting", meeting_id=invitation.meeting_id))
    issued = invitations.reissue(sessions.staff_actor(), invitation)
    return _meeting_page(invitation.meeting, links=[_link(issued)])


@bp.route("/invitations/<invitation_id>/handover", methods=["POST"])
def continue_here(invitation_id):
    """Continue a person's unanswered questionnaires on this tablet, with their invitation."""
    invitation = _invitation_or_404(invitation_id)
    try:
        token = invitations.continue_here(sessions.staff_actor(), invitation)
    except NotFound:
        abort(404)
    except Invalid:
        return redirect(url_for("cases.meeting", meeting_id=invitation.meeting_id))
    return _hand_over(invitation.meeting, token)


@bp.route("/responses/<response_id>/void", methods=["POST"])
def void(response_id):
    """Void a response given by the wrong person, with a reason."""
    actor = sessions.staff_actor()
    try:
        response = responses.get_response(actor, response_id)
    except NotFound:
        abort(404)
    form = VoidForm()
    if form.validate():
        try:
            responses.void(actor, response, form.reason.data)
        except Invalid as error:
            form.reason.errors = [*form.reason.errors, message_for(error)]
        except NotFound:
            abort(404)
        else:
            return redirect(url_for("cases.meeting", meeting_id=response.meeting_id))
    return _meeting_page(response.meeting, status=422,
                         void_errors={response.id: form.reason.errors})


def _link(issued) -> dict:
    base = current_app.config["FEEDBACK_PUBLIC_URL"] or request.host_url.rstrip("/")
    url = base + url_for("respond.open_link", token=issued.token)
    participant = issued.invitation.participant
    return {"invitation": issued.invitation, "url": url,
            "who": bidi.participant_html(participant),
            "code": invitations.format_code(issued.code),
            "code_url": base + url_for("respond.enter_code"),
            "svg": qr.svg(url, label=_("QR code for %(who)s",
                                       who=bidi.participant_text(participant)))}


_NO_ID = "00000000-0000-0000-0000-000000000000"


@bp.app_template_global()
def timeline_items(timeline) -> fragments.Html:
    """The case page's timeline as list items (cases/fragments.py), meetings linked."""
    from feedback.labels import MEETING_TYPE_LABELS

    kinds = {kind.value: str(label) for kind, label in MEETING_TYPE_LABELS.items()}
    return fragments.timeline(timeline, url_for("cases.meeting", meeting_id=_NO_ID), _NO_ID,
                              kinds)
