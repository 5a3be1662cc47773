"""Forms for signing in, unlocking a handed-over tablet and choosing the language."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

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


class ReauthForm(Form):
    """Only a CSRF token: unlock by signing in again at the provider."""


_PIN_FIELD = {"autocomplete": "off", "inputmode": "numeric", "autocapitalize": "none",
              "autocorrect": "off", "spellcheck": "false"}


class PinForm(Form):
    """A PIN, typed twice, for unlocking a handed-over tablet."""

    pin = PasswordField(_l("New PIN"), description=_l("6 to 12 digits. Not 111111 or 123456."),
                        validators=[DataRequired(), Regexp(r"^[0-9]{6,12}$")],
                        render_kw=_PIN_FIELD)
    repeat = PasswordField(_l("The same PIN again"),
                           validators=[DataRequired(), Length(max=12)], render_kw=_PIN_FIELD)
