"""The administrator's overview: users, teams and instrument packs."""

from flask import Blueprint, render_template

from feedback import sessions
from feedback.services import accounts, instruments
from feedback.services.access import Action

bp = Blueprint("admin", __name__)
bp.before_request(sessions.guard(Action.admin))


@bp.route("/")
def index():
    """The administrator's overview of users, teams and packs."""
    actor = sessions.staff_actor()
    return render_template("admin/index.html", users=accounts.list_users(actor),
                           teams=accounts.list_teams(actor),
                           packs=sorted(instruments.installed(), key=lambda p: (p.family, p.id)))
