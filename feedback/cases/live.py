"""The live part of the meeting page: answers as they arrive, staff ratings, the journal.

The meeting page (audited once, as a page view) loads a small script that asks
``/meetings/<id>/results`` every few seconds. A poll checks access every time
but is not audited and does not count as activity for the staff session's idle
time (:data:`feedback.sessions.PASSIVE_ENDPOINTS`); it answers 204 when nothing
changed since the stamp the page already shows.
"""

from __future__ import annotations

import uuid

from flask import abort, current_app, g, redirect, render_template, request, url_for

from feedback import labels, sessions
from feedback.cases import charts, journal
from feedback.cases.views import _chart_notes, _meeting_or_404, _meeting_page, bp
from feedback.errors import message_for
from feedback.services import consent, expected, meeting_results, trajectories
from feedback.services.errors import Invalid, NotFound

#: How often the page asks for news, in seconds (the script reads it from the page).
POLL_SECONDS = 4


def _rater_name(respondent) -> str:
    if respondent.participant is not None:
        return labels.participant_name(respondent.participant)
    if respondent.staff is not None:
        return respondent.staff.display_name
    return "?"


def _ruler_ratings(people) -> list[tuple[str, int]]:
    return [(_rater_name(p), r.total_tenths) for p in people for r in p.results
            if r.pack.family == meeting_results.RULER and r.total_tenths is not None]


def _outcome_chart(meeting, data) -> list:
    """The outcome graph as the case page draws it (time axis, values, bands) up to now."""
    if not data.family("outcome"):
        return []
    opt = charts.page_options(
        notes=_chart_notes(),
        not_on_track_after=current_app.config.get("FEEDBACK_NOT_ON_TRACK_AFTER", 4),
        **expected.for_page(meeting.case))
    return charts.case_charts(data, opt, families=("outcome",))


def results_context(meeting) -> dict:
    """What the results fragment shows: who answered what, the graph, the journal."""
    people = meeting_results.for_meeting(meeting)
    # One read for both: the graph and the journal look at this meeting and the ones before.
    data = trajectories.for_case(meeting.case, ("outcome", "session"), until=meeting)
    return {
        "people": people,
        "graphs": _outcome_chart(meeting, data),
        "not_on_track_after": current_app.config.get("FEEDBACK_NOT_ON_TRACK_AFTER", 4),
        "journal": journal.summaries(data, meeting.id, lambda _lang: _ruler_ratings(people)),
        "stamp": meeting_results.stamp(meeting),
        "rater_name": _rater_name,
    }


def page_context(meeting) -> dict:
    """Everything the live sections of the meeting page need (added to its context)."""
    consents = consent.for_case(meeting.case)
    try:
        pack = meeting_results.ruler_pack()
    except Invalid:  # the packs are broken: the page says so above, and offers no rating
        pack = None
    return {
        "live": results_context(meeting),
        "poll_seconds": POLL_SECONDS,
        "ruler_pack": pack,
        "ruler_raters": meeting_results.raters(meeting),
        "ruler_errors": g.get("ruler_errors", []),
        "ruler_submission_id": str(uuid.uuid4()),
        "family_consents": consents,
        "family_errors": g.get("family_errors", []),
    }


@bp.route("/meetings/<meeting_id>/results")
def meeting_results_fragment(meeting_id):
    """The results as an HTML fragment; 204 when nothing changed since ``since``."""
    try:
        meeting = meeting_results.get_meeting(sessions.staff_actor(), meeting_id)
    except NotFound:
        abort(404)
    current = meeting_results.stamp(meeting)
    if request.args.get("since") == current:
        return "", 204, {"Cache-Control": "no-store"}
    html = render_template("cases/_meeting_results.html", meeting=meeting, case=meeting.case,
                           live=results_context(meeting))
    return html, 200, {"Cache-Control": "no-store", "X-Results-Stamp": current}


sessions.passive("cases.meeting_results_fragment")


@bp.route("/meetings/<meeting_id>/ruler", methods=["POST"])
def rate_ruler(meeting_id):
    """The caseworker's (or another professional's) rating of the child, 1–10."""
    meeting = _meeting_or_404(meeting_id)
    try:
        meeting_results.rate_ruler(sessions.staff_actor(), meeting, request.form.get("rater", ""),
                                   request.form.get("value", ""),
                                   request.form.get("submission_id", ""))
    except NotFound:
        abort(404)
    except Invalid as error:
        g.ruler_errors = [message_for(error)]
        return _meeting_page(meeting, status=422)
    return redirect(url_for("cases.meeting", meeting_id=meeting.id, _anchor="results"))
