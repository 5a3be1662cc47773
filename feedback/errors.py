"""Error pages, and the messages people see for domain errors, in their language."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from feedback.labels import participant_name
from feedback.services.errors import DomainError

MESSAGES = {
    "reference_exists": lambda **kw: _("A case with this reference already exists."),
    "team_not_allowed": lambda **kw: _("You can only create cases in your own teams."),
    "birth_year_range": lambda **kw: _(
        "The birth year must be within 25 years before the case opened."),
    "participant_not_in_case": lambda **kw: _("That person does not take part in this case."),
    "instrument_required": lambda **kw: _("Choose at least one questionnaire."),
    "instrument_twice": lambda **kw: _("A questionnaire was chosen twice."),
    "unknown_instrument": lambda **kw: _("Unknown questionnaire."),
    "handover_one": lambda **kw: _("Choose exactly one person to answer on this tablet."),
    "nothing_fits": lambda participant, **kw: _(
        "None of the chosen questionnaires fits %(who)s.", who=participant_name(participant)),
    "meeting_too_old": lambda **kw: _(
        "Links for this meeting would already have expired. Create a new meeting for today."),
    "pack_changed_without_version": lambda **kw: _(
        "The questionnaire was changed without a new version number. Ask the administrator."),
}


def message_for(error: DomainError) -> str:
    """The user's message for a domain error, with its details filled in."""
    default = lambda **kw: _("The input could not be saved.")  # noqa: E731
    return MESSAGES.get(error.code, default)(**error.details)


def render_error(error: HTTPException):
    """The error page for an HTTP error; respondents only ever see their generic page."""
    code = error.code or 500
    if code == 404 and request.path.startswith("/r/"):
        # A respondent never sees staff pages, and never learns why a link failed.
        return render_template("respond/unusable.html"), 404
    return render_template("errors/error.html", code=code), code


def register(app: Flask) -> None:
    """Render every HTTP error with the service's own page."""
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)
