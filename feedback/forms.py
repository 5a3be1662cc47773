"""The base for staff forms: WTForms' own messages through our catalogue.

WTForms ships no Danish translation of its built-in messages ("This field is
required."), so staff forms look them up in our catalogue instead, and the
messages they use are listed here so that extraction puts them there.
"""

from flask_babel import get_translations, lazy_gettext, lazy_ngettext
from flask_wtf import FlaskForm


class _Catalogue:
    """Translate without formatting: WTForms fills in ``%(max)d`` itself."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


class Form(FlaskForm):
    """A Flask-WTF form whose built-in messages come from our catalogue."""

    class Meta:
        """WTForms options."""

        def get_translations(self, form):
            """Our catalogue, for WTForms' own messages."""
            return _Catalogue()


#: WTForms' built-in messages that our forms can show, for the catalogue.
WTFORMS_MESSAGES = (
    lazy_gettext("This field is required."),
    lazy_gettext("Not a valid integer value."),
    lazy_gettext("Not a valid date value."),
    lazy_gettext("Not a valid choice."),
    lazy_gettext("Number must be between %(min)s and %(max)s."),
    lazy_ngettext("Field cannot be longer than %(max)d character.",
                  "Field cannot be longer than %(max)d characters.", 1),
    lazy_ngettext("'%(value)s' is not a valid choice for this field.",
                  "'%(value)s' are not valid choices for this field.", 1),
)
