"""Error pages, and the messages people see for domain errors, in their language."""

from __future__ import annotations

from datetime import date

from flask import Flask, current_app, g, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from feedback.bidi import participant_text
from feedback.extensions import db
from feedback.services.errors import DomainError


def _day(value) -> str:
    return format_date(value) if isinstance(value, date) else str(value)


MESSAGES = {
    "reference_exists": lambda **kw: _("A case with this reference already exists."),
    "team_not_allowed": lambda **kw: _("You can only create cases in your own teams."),
    "birth_year_range": lambda first, last, **kw: _(
        "The birth year must be between %(first)s and %(last)s (a child when the case opened).",
        first=first, last=last),
    "birth_month_range": lambda **kw: _("Choose a month from 1 to 12."),
    "opened_range": lambda first, last, **kw: _(
        "The opened date must be between %(first)s and %(last)s.",
        first=_day(first), last=_day(last)),
    "opened_after_meetings": lambda last, **kw: _(
        "The case must have opened by %(last)s, the date of its first meeting or its closing.",
        last=_day(last)),
    "meeting_date_range": lambda first, last, **kw: _(
        "The meeting date must be between %(first)s and %(last)s: within the case's life, "
        "and at most a year ahead.", first=_day(first), last=_day(last)),
    "meeting_outside_case": lambda **kw: _(
        "This meeting's date lies outside the case's life or more than a year ahead, so no "
        "links can be issued for it."),
    "closed_range": lambda first, last, **kw: _(
        "The closing date must be between %(first)s (the last meeting) and %(last)s (today).",
        first=_day(first), last=_day(last)),
    "case_closed": lambda **kw: _(
        "The case is closed. Reopen it to plan meetings or send questionnaires."),
    "responsible_not_in_team": lambda **kw: _(
        "The responsible caseworker is not in that team. Transfer the case to someone in "
        "that team first."),
    "not_in_team": lambda **kw: _("Choose an active caseworker in the case's team."),
    "required": lambda **kw: _("This field is required."),
    "too_long": lambda max, **kw: _("At most %(max)s characters.", max=max),
    "too_many_tags": lambda max, **kw: _("At most %(max)s tags.", max=max),
    "control_characters": lambda **kw: _(
        "Line breaks, tabs and other control characters cannot be used here."),
    "participant_not_in_case": lambda **kw: _("That person does not take part in this case."),
    "instrument_required": lambda **kw: _("Choose at least one questionnaire."),
    "instrument_twice": lambda **kw: _("A questionnaire was chosen twice."),
    "unknown_instrument": lambda **kw: _("Unknown questionnaire."),
    "handover_one": lambda **kw: _("Choose exactly one person to answer on this tablet."),
    "nothing_fits": lambda participant, **kw: _(
        "None of the chosen questionnaires fits %(who)s.", who=participant_text(participant)),
    "already_invited": lambda participant, **kw: _(
        "%(who)s already has these questionnaires at this meeting. Use “Show code again” "
        "or “Continue on this tablet” below.", who=participant_text(participant)),
    "already_answered": lambda participant, **kw: _(
        "%(who)s has answered every questionnaire of this meeting.",
        who=participant_text(participant)),
    "meeting_too_old": lambda **kw: _(
        "The answering window for this meeting has passed: links would already have expired. "
        "Create a new meeting for today."),
    "pack_changed_without_version": lambda **kw: _(
        "The questionnaire was changed without a new version number. Ask the administrator."),
    "packs_broken": lambda **kw: _(
        "The questionnaires are not installed correctly, so none can be sent now. "
        "Ask the administrator."),
    "already_voided": lambda **kw: _("This response has already been voided."),
    # Consent, staff ratings and the family view (the meeting page).
    "consent_no_collect": lambda participant, **kw: _(
        "%(who)s has not agreed to have answers collected. See Consent on the case.",
        who=participant_text(participant)),
    "consent_show_without_collect": lambda **kw: _(
        "A line can only be shown if answers may be collected."),
    "family_choose_one": lambda **kw: _("Choose at least one person whose line to show."),
    "family_no_consent": lambda participant, **kw: _(
        "%(who)s has not agreed to have their line shown to the family.",
        who=participant_text(participant)),
    "ruler_value": lambda min, max, **kw: _("Choose a number from %(min)s to %(max)s.",
                                            min=min, max=max),
    "ruler_already_rated": lambda **kw: _(
        "This rating has already been given at this meeting."),
    # Exports and imports (the reports pages and the command line).
    "filter_unknown": lambda field, value, **kw: _(
        "%(value)s is not a value you can filter %(field)s on.", value=value,
        field=FILTER_LABELS.get(field, field)),
    "filter_date": lambda field, value, **kw: _(
        "%(field)s must be a date written as YYYY-MM-DD, not %(value)s.",
        field=FILTER_LABELS.get(field, field), value=value),
    "filter_period": lambda field, **kw: _(
        "The period ends before it starts (%(field)s).", field=FILTER_LABELS.get(field, field)),
    "report_option": lambda field, value, **kw: _(
        "%(value)s is not a value the report's setting %(field)s can take.", value=value,
        field=field),
    "report_too_many_periods": lambda value="", **kw: _(
        "That is more than %(value)s periods. Choose longer periods or a shorter time.",
        value=value),
    "unknown_dialect": lambda value="", **kw: _("Unknown CSV dialect: %(value)s.", value=value),
    "unknown_export": lambda value="", **kw: _("Unknown kind of export: %(value)s.",
                                               value=value),
    "export_too_many_rows_excel": lambda rows, limit, **kw: _(
        "%(rows)s rows is more than Excel's %(limit)s rows per sheet. Narrow the filters or "
        "choose CSV.", rows=rows, limit=limit),
    "export_too_many_rows": lambda rows, limit, **kw: _(
        "%(rows)s rows is more than the %(limit)s rows this file type is built with. Narrow "
        "the filters or choose CSV.", rows=rows, limit=limit),
    "import_source": lambda **kw: _(
        "The source must be 1–30 letters, digits, '.', '-' or '_', starting with a letter or "
        "digit."),
    "import_mode": lambda **kw: _("Choose what to do if some rows are rejected."),
    "import_has_dependents": lambda **kw: _(
        "The import cannot be rolled back: meetings, invitations or answers made after it "
        "refer to its cases."),
    "import_not_completed": lambda **kw: _("Only a completed import can be rolled back."),
    "user_invalid": lambda **kw: _(
        "Give a username, a name and a password of at least 10 characters."),
    "user_exists": lambda **kw: _("A user with this username already exists."),
    "team_exists": lambda **kw: _("A team with this name already exists."),
    "team_name_required": lambda **kw: _("Give the team a name."),
    "password_too_short": lambda **kw: _("The password must be at least 10 characters."),
    "not_yourself": lambda **kw: _("You cannot deactivate yourself."),
    "not_yourself_role": lambda **kw: _(
        "You cannot take away your own administrator role. Ask another administrator."),
    "federated_role": lambda **kw: _(
        "This user's role and teams come from the organisation's login and change there."),
    "federated_password": lambda **kw: _(
        "This user signs in with the organisation's login and has no password here."),
    "pin_format": lambda **kw: _("A PIN is 6 to 12 digits."),
    "pin_too_simple": lambda **kw: _(
        "The PIN is too easy to guess. Do not use the same digit or digits in a row."),
    "import_failed": lambda **kw: _(
        "Writing the import failed; everything it had written was deleted again. Try again."),
}

#: Filter names as people see them, for the messages above.
FILTER_LABELS = {
    "meeting_from": _l("Meetings from"),
    "meeting_to": _l("Meetings to"),
    "opened_from": _l("Cases opened from"),
    "opened_to": _l("Cases opened to"),
    "team": _l("Team"),
    "instrument": _l("Questionnaire"),
    "family": _l("Questionnaire family"),
    "role": _l("Respondent"),
    "case_status": _l("Case status"),
    "tag": _l("Tag"),
}


def message_for(error: DomainError) -> str:
    """The user's message for a domain error, with its details filled in."""
    default = lambda **kw: _("The input could not be saved.")  # noqa: E731
    return MESSAGES.get(error.code, default)(**error.details)


def render_error(error: HTTPException):
    """The error page for an HTTP error; respondents only ever see their generic page."""
    code = error.code or 500
    if code >= 500:
        # The request may have failed inside a database transaction (on PostgreSQL
        # it is then aborted), or the database may be gone: roll back, and draw a
        # page that asks the database nothing (no signed-in user, no saved language).
        db.session.rollback()
        g.plain_page = True
    if code == 404 and request.path.startswith("/r/"):
        # A respondent never sees staff pages, and never learns why a link failed.
        return render_template("respond/unusable.html"), 404
    return render_template("errors/error.html", code=code), code


#: SQLite reports a lock, a full disk and a bad query alike as OperationalError;
#: only these mean "try again later". (psycopg's OperationalError is always one.)
_TRANSIENT_SQLITE = ("locked", "busy", "full", "disk i/o", "unable to open")


def _transient(error: OperationalError) -> bool:
    orig = getattr(error, "orig", None)
    if orig is not None and type(orig).__module__.startswith("sqlite3"):
        text = str(orig).lower()
        return any(word in text for word in _TRANSIENT_SQLITE)
    return True


def database_unavailable(error: OperationalError):
    """The database is locked past the busy timeout, full or unreachable: 503, try again.

    Nothing of the request was stored (its transaction is rolled back); the
    page says so and asks nothing of the database. Any other failure of the
    database (a broken query) is the plain error page with 500, and logged.
    """
    db.session.rollback()
    g.plain_page = True
    if not _transient(error):
        current_app.logger.error("database error", exc_info=error)
        return render_template("errors/error.html", code=500), 500
    if request.path.startswith("/r/"):
        page = render_template("respond/busy.html")
    else:
        page = render_template("errors/error.html", code=503)
    return page, 503, {"Retry-After": "5"}


def register(app: Flask) -> None:
    """Render every HTTP error with the service's own page."""
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)
    app.register_error_handler(OperationalError, database_unavailable)
