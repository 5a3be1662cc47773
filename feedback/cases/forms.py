"""Forms for cases, participants, meetings and invitations."""

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

from feedback import clock
from feedback.forms import Form
from feedback.labels import MEETING_MODE_LABELS, MEETING_TYPE_LABELS, ROLE_LABELS
from feedback.models import ParticipantRole


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CaseForm(Form):
    """A new case: reference, team, the child's birth year, opened date, tags."""

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
    opened_on = DateField(_l("Opened"), default=clock.today, validators=[InputRequired()])
    tags = StringField(
        _l("Tags (optional)"),
        description=_l("Separate with commas, for example a programme or a legal basis."),
        validators=[Optional(), Length(max=500)],
    )

    def tag_list(self) -> list[str]:
        """The tags typed, split on commas."""
        return [t.strip()[:100] for t in (self.tags.data or "").split(",") if t.strip()]


class ParticipantForm(Form):
    """A participant by role, with optional initials."""

    role = SelectField(_l("Role"), choices=[
        SelectChoice(r.value, lbl) for r, lbl in ROLE_LABELS.items()
        if r != ParticipantRole.child])
    label = StringField(
        _l("First name or initials (optional)"),
        validators=[Optional(), Length(max=40)],
    )


class MeetingForm(Form):
    """A meeting: date, type and form."""

    held_on = DateField(_l("Date"), default=clock.today, validators=[InputRequired()])
    type = SelectField(_l("Type"), choices=[SelectChoice(t.value, lbl)
                                            for t, lbl in MEETING_TYPE_LABELS.items()])
    mode = SelectField(_l("Form"), choices=[SelectChoice(m.value, lbl)
                                            for m, lbl in MEETING_MODE_LABELS.items()])


class InviteForm(Form):
    """Who answers which questionnaires at a meeting."""

    participants = MultiCheckboxField(_l("Who answers?"), validators=[DataRequired(
        message=_l("Choose at least one respondent."))])
    instruments = MultiCheckboxField(
        _l("Questionnaires"),
        description=_l("Each person gets the version that fits their age."))
    versions = MultiCheckboxField(
        _l("Or a specific version (overrides the age rule)"))

    def validate(self, extra_validators=None) -> bool:
        """At least one family or specific version must be ticked."""
        ok = super().validate(extra_validators)
        if not (self.instruments.data or self.versions.data):
            self.instruments.errors = [*self.instruments.errors,
                                       _l("Choose at least one questionnaire.")]
            ok = False
        return ok

    def choices(self) -> list[str]:
        """Ticked families and specific versions, in that order."""
        return list(self.instruments.data or []) + list(self.versions.data or [])
