"""Analysts' and team leads' pages: pseudonymised exports."""

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template, stream_with_context
from flask_login import current_user, login_required

from feedback.models import Role
from feedback.services import exports

bp = Blueprint("reports", __name__)


@bp.before_request
@login_required
def analysts_and_leads():
    if current_user.role not in (Role.analyst, Role.team_lead):
        abort(404)


@bp.route("/")
def index():
    return render_template("reports/index.html", columns=exports.LONG_COLUMNS)


@bp.route("/export.csv")
def export_csv():
    rows = exports.export_long_csv(current_user)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%MZ")
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="feedback-long-{stamp}.csv"',
            # Let nginx pass the stream through instead of buffering it whole.
            "X-Accel-Buffering": "no",
        },
    )
