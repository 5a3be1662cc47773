"""Forms for the administrator's pages: users and teams."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, Length, Optional

from feedback.forms import Form
from feedback.labels import STAFF_ROLE_LABELS
from feedback.models import Team, User


class _Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class UserForm(Form):
    """A new local user."""

    username = StringField(_l("Username"), validators=[DataRequired(),
                                                       Length(max=User.USERNAME_MAX)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    display_name = StringField(_l("Name"), validators=[DataRequired(),
                                                       Length(max=User.DISPLAY_NAME_MAX)])
    role = SelectField(_l("Role"), choices=[SelectChoice(value, label)
                                            for value, label in STAFF_ROLE_LABELS.items()])
    teams = _Checkboxes(_l("Teams"), choices=[], validate_choice=False)
    password = PasswordField(_l("First password"),
                             description=_l("At least 10 characters. Tell it to the user "
                                            "in person; they can keep it."),
                             validators=[DataRequired(), Length(min=10, max=500)],
                             render_kw={"autocomplete": "new-password"})


class ResetForm(Form):
    """A new password for a local user (empty for a provider's user)."""

    password = PasswordField(_l("New password"),
                             description=_l("At least 10 characters."),
                             validators=[Optional(), Length(min=10, max=500)],
                             render_kw={"autocomplete": "new-password"})


class ConfirmForm(Form):
    """Only a CSRF token: deactivate or reactivate."""


class TeamForm(Form):
    """A new team."""

    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=Team.NAME_MAX)])


class RoleForm(Form):
    """A local user's role and teams."""

    role = SelectField(_l("Role"), choices=[SelectChoice(value, label)
                                            for value, label in STAFF_ROLE_LABELS.items()])
    teams = _Checkboxes(_l("Teams"), choices=[], validate_choice=False)
