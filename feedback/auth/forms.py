from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=200)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)],
                             render_kw={"autocomplete": "current-password"})


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"),
                         choices=[SelectChoice("da", "Dansk"), SelectChoice("en", "English")])


class UnlockForm(FlaskForm):
    password = PasswordField(_l("Caseworker's password"), validators=[DataRequired(),
                                                                      Length(max=500)],
                             render_kw={"autocomplete": "current-password"})
