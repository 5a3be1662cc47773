"""Analysts' and team leads' pages: pseudonymised exports."""

from flask import Blueprint, Response, render_template, stream_with_context

from feedback import clock, sessions
from feedback.services import exports
from feedback.services.access import Action

bp = Blueprint("reports", __name__)
bp.before_request(sessions.guard(Action.export, Action.report))


@bp.route("/")
def index():
    """Reports and exports for analysts and team leads."""
    return render_template("reports/index.html", columns=exports.LONG_COLUMNS)


@bp.route("/export.csv")
@sessions.area(Action.export)
def export_csv():
    """The long CSV, streamed."""
    rows = exports.export_long_csv(sessions.staff_actor())
    stamp = clock.now().strftime("%Y%m%dT%H%MZ")
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="feedback-long-{stamp}.csv"',
            # Let nginx pass the stream through instead of buffering it whole.
            "X-Accel-Buffering": "no",
        },
    )
