"""Forms for the audit log, the access export and the retention overview."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import Length, NumberRange, Optional

from feedback.forms import Form
from feedback.models import Case

#: The two CSV dialects of :mod:`feedback.services.exports.dialects`, as on the export page.
DIALECTS = (
    SelectChoice("excel-da", _l("Danish Excel: semicolon, decimal comma")),
    SelectChoice("rfc4180", _l("Standard CSV (RFC 4180): comma, decimal point")),
)


class LogFilterForm(Form):
    """Narrow the log: who, which case, which action, which days (a GET form)."""

    class Meta:
        """Filters change nothing, so the form goes by GET without a CSRF token."""

        csrf = False

    who = SelectField(_l("Who"), choices=[], validators=[Optional()], validate_choice=False)
    case = StringField(_l("Case reference"), validators=[Optional(),
                                                         Length(max=Case.REFERENCE_MAX)])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()],
                         validate_choice=False)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    refused = BooleanField(_l("Only refusals"))
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=10**6)])
    dialect = RadioField(_l("CSV dialect"), choices=DIALECTS, default="excel-da",
                         validators=[Optional()])


class AccessForm(Form):
    """Which case a family asked about (a GET form)."""

    class Meta:
        """Looking a case up changes nothing; the lookup itself is audited."""

        csrf = False

    reference = StringField(_l("Case reference"),
                            validators=[Optional(), Length(max=Case.REFERENCE_MAX)])
