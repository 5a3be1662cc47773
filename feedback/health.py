"""``GET /health`` for load balancers and the container's HEALTHCHECK.

200 ``ok`` when the database answers a trivial query, else 503
``unavailable``. Nothing else is said (no versions, no error text), nothing is
audited, and no session is touched, so no cookie is set.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from feedback.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/health")
def health() -> Response:
    """200 "ok" when the database answers, 503 "unavailable" when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        # The operator finds the reason in the service's log, never the caller.
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        current_app.logger.error("Health check: the database did not answer: %s", reason)
        db.session.rollback()
        return _plain("unavailable\n", 503)
    return _plain("ok\n", 200)


def _plain(body: str, status: int) -> Response:
    response = Response(body, status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response
