"""The administrator's overview: users, teams and instrument packs."""

from flask import Blueprint, render_template

from feedback import sessions
from feedback.services import accounts, instruments
from feedback.services.access import Action
from feedback.services.errors import Invalid

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
