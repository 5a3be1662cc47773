"""Consent per participant, and "Show the family": the chosen lines, full screen.

The family view locks the tablet like a hand-over (:mod:`feedback.sessions`):
until the caseworker types their password, the tablet shows that view and
nothing else. Which lines it shows is kept in the staff session, checked
against the consent recorded for each person on every view, and audited when
the view starts.
"""

from __future__ import annotations

import uuid

from flask import abort, g, redirect, render_template, request, url_for

from feedback import sessions
from feedback.cases import family_chart
from feedback.cases.views import _case_or_404, _meeting_or_404, _meeting_page, bp
from feedback.errors import message_for
from feedback.models import ParticipantRole
from feedback.services import access, cases, consent, trajectories
from feedback.services.access import Action
from feedback.services.errors import Invalid, NotFound


def _consent_page(case, errors=None, status=200):
    actor = sessions.staff_actor()
    return render_template("cases/consent.html", case=case, consents=consent.for_case(case),
                           errors=errors or {}, OWN_CONSENT_AGE=consent.OWN_CONSENT_AGE,
                           may_edit=access.may(actor, Action.edit_case, case)), status


@bp.route("/cases/<case_id>/consent")
def consents(case_id):
    """Each participant's consent: to answer, to have their line shown to the family or network."""
    return _consent_page(_case_or_404(case_id))


@bp.route("/cases/<case_id>/consent/<participant_id>", methods=["POST"])
def record_consent(case_id, participant_id):
    """Record one participant's consent (audited)."""
    case = _case_or_404(case_id)
    try:
        consent.record(sessions.staff_actor(), case, participant_id,
                       collect=request.form.get("collect") == "1",
                       show_family=request.form.get("show_family") == "1",
                       show_network=request.form.get("show_network") == "1")
    except NotFound:
        abort(404)
    except Invalid as error:
        return _consent_page(case, {participant_id: message_for(error)}, 422)
    return redirect(url_for("cases.consents", case_id=case.id, _anchor=f"p-{participant_id}"))


def default_lines(meeting, consents) -> list[str]:
    """Ticked at first: the child's own line, if the child's line may be shown."""
    return [str(pid) for pid, c in consents.items()
            if c.participant.role == ParticipantRole.child and c.show_family]


@bp.route("/meetings/<meeting_id>/family", methods=["POST"])
def start_family_view(meeting_id):
    """Lock the tablet to the family view of the chosen lines."""
    meeting = _meeting_or_404(meeting_id)
    chosen = request.form.getlist("lines")
    try:
        lines = consent.start_family_view(sessions.staff_actor(), meeting, chosen)
    except NotFound:
        abort(404)
    except Invalid as error:
        g.family_errors = [message_for(error)]
        return _meeting_page(meeting, status=422)
    sessions.start_family_view(url_for("cases.meeting", meeting_id=meeting.id),
                               str(meeting.id), [str(p.id) for p in lines])
    return redirect(url_for("cases.family_view"), 303)


@bp.route("/family")
def family_view():
    """The family's graph: the chosen lines, their cut-off and change band, large and calm."""
    chosen = sessions.family_view()
    if chosen is None:
        return redirect(url_for("cases.index"))
    try:
        meeting = cases.get_meeting(sessions.staff_actor(), chosen["meeting"])
    except NotFound:
        abort(404)
    consents = consent.for_case(meeting.case)
    # Consent withdrawn since the view started: that line goes at once.
    shown = [pid for pid in chosen["participants"]
             if (c := consents.get(_uuid(pid))) is not None and c.show_family]
    graph = family_chart.family_graph(
        trajectories.for_case(meeting.case, families=("outcome",)), shown)
    return render_template("cases/family.html", graph=graph, meeting=meeting,
                           wide=family_chart.drawing(graph),
                           tall=family_chart.drawing(graph, stretch=2.2))


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
