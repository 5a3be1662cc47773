"""The administrator's overview: users, teams and instrument packs."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required

from feedback.instruments.loader import registry
from feedback.models import Role
from feedback.services import accounts

bp = Blueprint("admin", __name__)


@bp.before_request
@login_required
def admins_only():
    if current_user.role != Role.admin:
        abort(404)


@bp.route("/")
def index():
    return render_template("admin/index.html", users=accounts.list_users(current_user),
                           teams=accounts.list_teams(current_user),
                           packs=sorted(registry().values(), key=lambda p: (p.family, p.id)))
