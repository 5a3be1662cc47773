"""Forms for cases, participants, meetings and invitations."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from feedback import clock
from feedback.forms import Form
from feedback.labels import MEETING_MODE_LABELS, MEETING_TYPE_LABELS, ROLE_LABELS
from feedback.models import Case, CaseTag, Participant, ParticipantRole, ResponseVoid


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes, one per choice."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _tag_names(raw: str | None) -> list[str]:
    return [t.strip() for t in (raw or "").split(",") if t.strip()]


class CaseForm(Form):
    """A case: reference, team, the child's birth year and month, opened date, tags.

    Lengths are the columns' own (``Case.REFERENCE_MAX`` …), so the form, the
    service and the database refuse the same; date windows are the service's
    (:mod:`feedback.services.cases`), shown next to the field they are about.
    """

    reference = StringField(
        _l("Case reference"),
        description=_l("The case number in the case system. No names or CPR numbers."),
        validators=[DataRequired(), Length(max=Case.REFERENCE_MAX)],
        render_kw={"dir": "auto"},
    )
    team = SelectField(_l("Team"), validators=[DataRequired()])
    child_birth_year = IntegerField(
        _l("Child's birth year"), validators=[InputRequired()],
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
        validators=[Optional(), Length(max=Case.TAGS_MAX * (CaseTag.NAME_MAX + 2))],
        render_kw={"dir": "auto"},
    )

    def validate_tags(self, field) -> None:
        """Each tag within the column's length, and not too many of them."""
        names = _tag_names(field.data)
        if len(names) > Case.TAGS_MAX:
            raise ValidationError(_l("At most %(max)s tags.", max=Case.TAGS_MAX))
        if any(len(n) > CaseTag.NAME_MAX for n in names):
            raise ValidationError(_l("A tag can be at most %(max)s characters long.",
                                     max=CaseTag.NAME_MAX))

    def case_data(self) -> dict:
        """The typed values, as the case services take them."""
        month = self.child_birth_month.data
        return {"reference": self.reference.data,
                "child_birth_year": self.child_birth_year.data,
                "child_birth_month": int(month) if month else None,
                "opened_on": self.opened_on.data, "tags": _tag_names(self.tags.data)}


class TransferForm(Form):
    """Who takes over the case."""

    responsible = SelectField(_l("New responsible caseworker"), validators=[DataRequired()])


class CloseForm(Form):
    """The date the case closed."""

    closed_on = DateField(_l("Closed on"), default=clock.today, validators=[InputRequired()])


class ReopenForm(Form):
    """Reopening a closed case: nothing to fill in but the CSRF token."""


class VoidForm(Form):
    """Why a response is voided."""

    reason = StringField(
        _l("Reason"),
        description=_l("For example: the mother answered the child's questionnaire."),
        validators=[DataRequired(), Length(max=ResponseVoid.REASON_MAX)],
        render_kw={"dir": "auto"},
    )


class ParticipantForm(Form):
    """A participant by role, with optional initials."""

    role = SelectField(_l("Role"), choices=[
        SelectChoice(r.value, lbl) for r, lbl in ROLE_LABELS.items()
        if r != ParticipantRole.child])
    label = StringField(
        _l("First name or initials (optional)"),
        validators=[Optional(), Length(max=Participant.LABEL_MAX)],
        render_kw={"dir": "auto"},
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
    #: Whose well-being the adults rate (decision 8); a child always rates themself.
    subject = RadioField(
        _l("The adults rate"), default="child",
        choices=[SelectChoice("child", _l("how the child is doing")),
                 SelectChoice("self", _l("how they are doing themselves"))],
        validate_choice=True)
    #: Set once the page has shown this selection's warnings: issue anyway.
    confirmed = HiddenField()
    #: "Count the questions" without issuing anything.
    preview = BooleanField()

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


class CaseListForm(Form):
    """Sorting and filtering the list of cases (a GET form, no CSRF token)."""

    class Meta:
        """A GET form changes nothing: no CSRF token in the address."""

        csrf = False

    q = StringField(_l("Case reference contains"), validators=[Optional(), Length(max=100)])
    sort = SelectField(_l("Sort by"), default="signals", choices=[
        SelectChoice("signals", _l("Signals first")),
        SelectChoice("days", _l("Longest since a rating")),
        SelectChoice("next", _l("Next meeting")),
        SelectChoice("reference", _l("Case reference"))])
    show = SelectField(_l("Show"), default="all", choices=[
        SelectChoice("all", _l("All cases")),
        SelectChoice("signals", _l("Only cases with a signal")),
        SelectChoice("stale", _l("No rating for more than 6 weeks"))])
    status = SelectField(_l("Status"), default="open", choices=[
        SelectChoice("open", _l("Open")), SelectChoice("closed", _l("Closed")),
        SelectChoice("all", _l("Open and closed"))])
