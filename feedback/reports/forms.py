"""Forms for the export and import pages.

The export form carries what to download and in which dialect; its filters
are checked by the export service's own parser (shared with ``flask export``),
so an unknown team or tag is refused the same way on the page and on the
command line.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp

from feedback.forms import Form

FORMATS = (
    SelectChoice("long", _l("Long CSV: one row per answered item")),
    SelectChoice("wide", _l("Wide CSV: one row per questionnaire, one file per family")),
    SelectChoice("invitations", _l("Invitations CSV: issued, opened, answered, expired")),
    SelectChoice("xlsx", _l("Excel workbook (.xlsx): the wide table, a sheet per family")),
    SelectChoice("sav", _l("SPSS (.sav): the wide table with labels, a file per family")),
    SelectChoice("codebook", _l("Codebook (JSON)")),
    SelectChoice("zip", _l("Everything as one zip: long, wide, invitations and the codebook")),
)
DIALECTS = (
    SelectChoice("excel-da", _l("Danish Excel: semicolon, decimal comma")),
    SelectChoice("rfc4180", _l("Standard CSV (RFC 4180): comma, decimal point")),
)
MODES = (
    SelectChoice("all_or_nothing", _l("All or nothing: import nothing if any row is rejected")),
    SelectChoice("accepted_only", _l("Accepted rows only: import what is valid, report the rest")),
)


class ExportForm(Form):
    """What to download, and the CSV dialect (the filters are parsed by the export service)."""

    kind = RadioField(_l("What to download"), choices=FORMATS, default="long",
                      validators=[InputRequired()])
    dialect = RadioField(_l("CSV dialect"), choices=DIALECTS, default="excel-da",
                         validators=[InputRequired()])


class ImportForm(Form):
    """A long CSV file of historical answers, its source label, and how to treat errors."""

    file = FileField(_l("File (long CSV, either dialect)"), validators=[FileRequired()])
    source = StringField(
        _l("Source"),
        description=_l("A short name for where the data comes from, such as paper-2023. The "
                       "same source and ids are never imported twice."),
        validators=[DataRequired(), Length(max=30),
                    Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
                           message=_l("Use letters, digits, '.', '-' and '_'."))])
    mode = RadioField(_l("If some rows are rejected"), choices=MODES, default="all_or_nothing",
                      validators=[InputRequired()])
