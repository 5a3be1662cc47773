"""Forms for signing in, unlocking a handed-over tablet and choosing the language."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length

from feedback.forms import Form
from feedback.models import User


class LoginForm(Form):
    """Username and password."""

    username = StringField(_l("Username"), validators=[DataRequired(),
                                                       Length(max=User.USERNAME_MAX)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)],
                             render_kw={"autocomplete": "current-password"})


class LanguageForm(Form):
    """The staff interface language."""

    locale = SelectField(_l("Language"),
                         choices=[SelectChoice("da", "Dansk"), SelectChoice("en", "English")])


class UnlockForm(Form):
    """The caseworker's password, to take the tablet back after a hand-over."""

    password = PasswordField(_l("Caseworker's password"), validators=[DataRequired(),
                                                                      Length(max=500)],
                             render_kw={"autocomplete": "current-password",
                                        "autocapitalize": "none", "autocorrect": "off",
                                        "spellcheck": "false", "enterkeyhint": "go"})
