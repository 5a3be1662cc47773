"""What import problems are called, in the importing person's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Problem code → message with named placeholders. The report, the page and the
#: command line all show these.
MESSAGES = {
    # The file as a whole
    "import_not_utf8": _l("The file is not UTF-8 text (line %(line)s). Save it as \"CSV UTF-8\" "
                          "and try again."),
    "import_empty_file": _l("The file is empty."),
    "import_header": _l("The first line must name the long format's columns. Missing: "
                        "%(missing)s. Unknown: %(unknown)s."),
    # One record
    "import_malformed": _l("The line is not valid CSV: %(error)s."),
    "import_line_too_long": _l("The line is longer than %(limit)s KB and was not read."),
    "import_field_count": _l("The line has %(found)s fields; the long format has %(expected)s."),
    "required": _l("Empty; a value is required."),
    "too_long": _l("Longer than %(max)s characters."),
    "nul": _l("Contains a NUL character."),
    "bad_id": _l("Not a usable id: use letters, digits, '-', '_', '.' or ':'."),
    "bad_date": _l("Not a date written as YYYY-MM-DD: %(value)s."),
    "bad_timestamp": _l("Not a time written as YYYY-MM-DDTHH:MM:SSZ (with a time zone): "
                        "%(value)s."),
    "future": _l("Lies in the future."),
    "bad_integer": _l("Not a whole number: %(value)s."),
    "unknown_code": _l("Must be one of %(allowed)s, not %(value)s."),
    "staff_rating": _l("Staff members' own ratings cannot be imported (there is no staff user "
                       "to attach them to)."),
    "unknown_team": _l("No team is called %(value)s (names must match exactly)."),
    "closed_without_date": _l("The case is closed but case_closed is empty."),
    "open_with_date": _l("The case is open but case_closed has a date."),
    "closed_before_opened": _l("The case closed before it opened."),
    "birth_year_window": _l("The birth year must be within 25 years before the case opened."),
    "age_range": _l("Not an age between 0 and 30: %(value)s."),
    "meeting_outside_case": _l("The meeting is before the case opened or after it closed."),
    "unknown_instrument": _l("No questionnaire is called %(value)s."),
    "unknown_version": _l("The questionnaire %(instrument)s has no version %(value)s."),
    "family_mismatch": _l("The questionnaire belongs to the family %(expected)s."),
    "unknown_item": _l("The questionnaire %(instrument)s has no item %(value)s."),
    "value_and_missing": _l("Give a value or a missing code, not both."),
    "value_missing": _l("Give a value or a missing code."),
    "bad_value": _l("%(value)s is not an answer this item allows (%(min)s–%(max)s)."),
    "dont_know_not_allowed": _l("This item has no \"don't know\" answer."),
    "bad_locale": _l("Not a language code: %(value)s."),
    "duplicate_line": _l("Repeats line %(line)s (the same answer twice); ignored."),
    # A case, meeting, respondent or response across lines
    "response_line_rejected": _l("Another line of this response was rejected (line "
                                 "%(line)s)."),
    "differs": _l("%(column)s differs from line %(line)s for the same %(what)s."),
    "conflicting_item": _l("The item %(item)s has another answer on line %(line)s."),
    "items_missing": _l("The response lacks items: %(items)s."),
    "ages_inconsistent": _l("The child's ages at the meetings do not fit one birth date."),
    "earlier_import_differs": _l("Differs from what was imported earlier from this source "
                                 "(%(column)s)."),
    "reference_taken": _l("A case with the reference %(value)s already exists."),
    "case_rejected": _l("The case was rejected: %(reason)s"),
    "meeting_rejected": _l("The meeting was rejected: %(reason)s"),
    "respondent_rejected": _l("The respondent was rejected: %(reason)s"),
    "response_rejected": _l("The response was rejected: %(reason)s"),
    # The import as a whole
    "rows_rejected": _l("%(count)s lines were rejected, so nothing was imported (you chose all "
                        "or nothing)."),
    "write_failed": _l("Writing failed; everything written was deleted again."),
    # Outcomes
    "accepted": _l("Accepted."),
    "unchanged": _l("Already imported; nothing changed."),
    "empty_lines": _l("Empty; ignored."),
}

WHAT = {
    "case": _l("case"),
    "meeting": _l("meeting"),
    "respondent": _l("respondent"),
    "response": _l("response"),
}


def message(code: str, details: dict | None = None) -> str:
    """The message for a problem code, its details filled in."""
    details = dict(details or {})
    if "what" in details:
        details["what"] = str(WHAT.get(details["what"], details["what"]))
    if "reason" in details and isinstance(details["reason"], tuple):
        details["reason"] = message(*details["reason"])
    template = MESSAGES.get(code)
    if template is None:
        return code
    try:
        return str(template) % details
    except (KeyError, TypeError, ValueError):
        return str(template)
