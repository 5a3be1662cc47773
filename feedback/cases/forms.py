"""Forms for cases, participants, meetings and invitations."""

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from feedback.forms import Form
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


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CaseForm(Form):
    reference = StringField(
        _l("Case reference"),
        description=_l("The case number in the case system. No names or CPR numbers."),
        validators=[DataRequired(), Length(max=100)],
    )
    team = SelectField(_l("Team"), validators=[DataRequired()])
    child_birth_year = IntegerField(
        _l("Child's birth year"),
        validators=[InputRequired(), NumberRange(min=1990, max=2100)],
        render_kw={"inputmode": "numeric"},
    )
    child_birth_month = SelectField(
        _l("Birth month (optional)"),
        choices=[SelectChoice("", "–")] + [SelectChoice(str(m)) for m in range(1, 13)],
        validators=[Optional()],
    )
    opened_on = DateField(_l("Opened"), default=date.today, validators=[InputRequired()])
    tags = StringField(
        _l("Tags (optional)"),
        description=_l("Separate with commas, for example a programme or a legal basis."),
        validators=[Optional(), Length(max=500)],
    )

    def tag_list(self) -> list[str]:
        return [t.strip()[:100] for t in (self.tags.data or "").split(",") if t.strip()]


class ParticipantForm(Form):
    role = SelectField(_l("Role"), choices=[
        SelectChoice(r.value, lbl) for r, lbl in ROLE_LABELS.items()
        if r != ParticipantRole.child])
    label = StringField(
        _l("First name or initials (optional)"),
        validators=[Optional(), Length(max=40)],
    )


class MeetingForm(Form):
    held_on = DateField(_l("Date"), default=date.today, validators=[InputRequired()])
    type = SelectField(_l("Type"), choices=[SelectChoice(t.value, lbl)
                                            for t, lbl in MEETING_TYPE_LABELS.items()])
    mode = SelectField(_l("Form"), choices=[SelectChoice(m.value, lbl)
                                            for m, lbl in MEETING_MODE_LABELS.items()])


FAMILY_LABELS = {
    "outcome": _l("How things are going: ORS, CORS or YCORS by age"),
    "session": _l("How the meeting went: SRS, CSRS or YCSRS by age"),
    "meeting-experience": _l("My meeting: smileys (children 6–17)"),
    "ruler": _l("Child ruler (1–10)"),
    "coordination": _l("Working together (parents, 1–6)"),
}


class InviteForm(Form):
    participants = MultiCheckboxField(_l("Who answers?"), validators=[DataRequired(
        message=_l("Choose at least one respondent."))])
    instruments = MultiCheckboxField(
        _l("Questionnaires"),
        description=_l("Each person gets the version that fits their age."))
    versions = MultiCheckboxField(
        _l("Or a specific version (overrides the age rule)"))

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.instruments.data or self.versions.data):
            self.instruments.errors = [*self.instruments.errors,
                                       _l("Choose at least one questionnaire.")]
            ok = False
        return ok

    def choices(self) -> list[str]:
        return list(self.instruments.data or []) + list(self.versions.data or [])
