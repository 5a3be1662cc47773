"""The organisation's notice to respondents: what the answers are used for, who sees them.

Shown on every respondent's first page, in Danish or English (other
languages see the English text, or the default in their own language when
the organisation has set none). Administrators change it; changes are audited.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import Case, Meeting, Organisation
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from feedback.services.uow import begin_write


def default_notice() -> str:
    """The text respondents see until the organisation writes its own (in their language)."""
    return _("Your answers are used by your caseworker to talk with you about how things "
             "are going and whether the help works. Your caseworker and their team leader can "
             "see your answers. Others in the municipality see them only without your name, "
             "for statistics.")


def notice_for(organisation: Organisation, locale: str) -> str:
    """The notice a respondent reading in ``locale`` sees."""
    own = organisation.notice_da if locale == "da" else organisation.notice_en
    return own or default_notice()


def notice_for_meeting(meeting_id, locale: str) -> str:
    """The notice for a respondent invited to this meeting (one query, no ORM objects)."""
    row = db.session.execute(
        select(Organisation.notice_da, Organisation.notice_en)
        .join(Case, Case.organisation_id == Organisation.id)
        .join(Meeting, Meeting.case_id == Case.id)
        .where(Meeting.id == meeting_id)).first()
    own = (row.notice_da if locale == "da" else row.notice_en) if row else None
    return own or default_notice()


def organisation_of(actor: Actor) -> Organisation:
    """The administrator's organisation (administrators only)."""
    access.require_area(actor, Action.admin)
    return db.session.get(Organisation, actor.user.organisation_id)


def _clean(value: str | None, field: str) -> str | None:
    text = "\n".join(line.rstrip() for line in (value or "").strip().splitlines())
    if any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in text):
        raise Invalid("control_characters", field=field)
    if len(text) > Organisation.NOTICE_MAX:
        raise Invalid("too_long", field=field, max=Organisation.NOTICE_MAX)
    return text or None


def set_notice(actor: Actor, notice_da: str | None, notice_en: str | None) -> Organisation:
    """Change the organisation's notice; empty means the default text. Audited."""
    organisation = organisation_of(actor)
    da, en = _clean(notice_da, "notice_da"), _clean(notice_en, "notice_en")
    begin_write()
    organisation.notice_da, organisation.notice_en = da, en
    audit.record(actor, "organisation.notice", "organisation", organisation.id)
    db.session.commit()
    return organisation
