"""Display names of roles, meeting kinds, packs and participants, shared by every page."""

from __future__ import annotations

from flask import Flask
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from feedback.instruments.schema import Instrument
from feedback.models import MeetingMode, MeetingType, ParticipantRole

ROLE_LABELS = {
    ParticipantRole.child: _l("Child"),
    ParticipantRole.mother: _l("Mother"),
    ParticipantRole.father: _l("Father"),
    ParticipantRole.other_carer: _l("Other carer"),
    ParticipantRole.network: _l("Network member"),
    ParticipantRole.professional: _l("Professional"),
}
STAFF_ROLE_LABELS = {
    "caseworker": _l("Caseworker"),
    "team_lead": _l("Team lead"),
    "analyst": _l("Analyst"),
    "admin": _l("Administrator"),
}
MEETING_TYPE_LABELS = {
    MeetingType.first: _l("First conversation"),
    MeetingType.follow_up: _l("Follow-up"),
    MeetingType.network: _l("Network meeting"),
    MeetingType.closing: _l("Closing meeting"),
}
MEETING_MODE_LABELS = {
    MeetingMode.in_person: _l("In person"),
    MeetingMode.video: _l("Video"),
    MeetingMode.phone: _l("Phone"),
}
FAMILY_LABELS = {
    "outcome": _l("How things are going: ORS, CORS or YCORS by age"),
    "session": _l("How the meeting went: SRS, CSRS or YCSRS by age"),
    "meeting-experience": _l("My meeting: smileys (children 6–17)"),
    "ruler": _l("Child ruler (1–10)"),
    "coordination": _l("Working together (parents, 1–6)"),
}


#: The shipped packs' licence notes in the staff language. A pack's own note is
#: data (part of its frozen version), so it is translated here rather than edited;
#: an organisation's own pack shows its note as written.
LICENCE_NOTES = {
    "Structure only. Licensed wording must be loaded as an override pack.":
        _l("Structure only: the licensed wording must be loaded as an override pack "
           "with the same id and a new version."),
    "Free to use.": _l("Free to use."),
    "Free to use (written for this project).": _l("Free to use (written for this service)."),
    "Free to use (example written for this project).":
        _l("Free to use (an example written for this service)."),
}


def licence_note(pack: Instrument) -> str:
    """A pack's licence note in the staff member's language, where the service knows it."""
    known = LICENCE_NOTES.get(pack.licence)
    return str(known) if known is not None else pack.licence


def family_label(family: str) -> str:
    """A pack family as staff see it; an organisation's own family by its name."""
    label = FAMILY_LABELS.get(family)
    return str(label) if label is not None else family


def role_label(role) -> str:
    """A participant role in the staff member's language."""
    return str(ROLE_LABELS[ParticipantRole(role)])


def participant_name(participant) -> str:
    """A participant as staff see it: the role, and the optional label in brackets."""
    name = role_label(participant.role)
    return f"{name} ({participant.label})" if participant.label else name


def text(field: dict[str, str], lang: str | None = None) -> str:
    """A pack text in ``lang`` (default: the page's language), falling back to English, Danish."""
    lang = lang or str(get_locale())
    return field.get(lang) or field.get("en") or field.get("da", "")


def pack_title(pack: Instrument, lang: str | None = None) -> str:
    """A pack's title in the staff member's language, never its internal id."""
    return text(pack.title, lang)


def version_title(version) -> str:
    """The title of a stored instrument version, in the staff member's language."""
    from feedback.services.instruments import definition

    return pack_title(definition(version))


def number(value: float | int | None, decimals: int = 1) -> str:
    """A value in the page's number format: "32,0" in Danish, "32.0" in English.

    Exports keep their own dialect rules; this is for what people read.
    """
    if value is None:
        return ""
    pattern = "#,##0." + "0" * decimals if decimals else "#,##0"
    return format_decimal(value, format=pattern)


def tenths(value: int | None, decimals: int = 1) -> str:
    """A stored value in tenths (73), shown as a number ("7,3")."""
    return "" if value is None else number(value / 10, decimals)


def register(app: Flask) -> None:
    """Make the labels available to every template."""

    app.add_template_filter(number, "number")
    app.add_template_filter(tenths, "tenths")

    @app.context_processor
    def labels():
        return {"ROLE_LABELS": ROLE_LABELS, "MEETING_TYPE_LABELS": MEETING_TYPE_LABELS,
                "MEETING_MODE_LABELS": MEETING_MODE_LABELS,
                "STAFF_ROLE_LABELS": STAFF_ROLE_LABELS, "FAMILY_LABELS": FAMILY_LABELS,
                "participant_name": participant_name, "pack_title": pack_title,
                "pack_text": text, "version_title": version_title,
                "licence_note": licence_note, "family_label": family_label}
