"""The answer form, built from an instrument's items.

It uses WTForms directly rather than Flask-WTF: its CSRF token is bound to
the respondent's link and lives as long as the link (decision 7), not to the
staff session and the clock.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, HiddenField, StringField, ValidationError
from wtforms.csrf.core import CSRF
from wtforms.validators import DataRequired, Length

from feedback.instruments.schema import Instrument, ResponseSpec
from feedback.instruments.scoring import ItemAnswer, ValueRefused, parse_value

REFUSALS = {
    "missing": _l("Mark the line, or choose “Skip”."),
    "format": _l("Give a number such as 7 or 7.5."),
    "range": _l("The value must be between %(min)s and %(max)s."),
    "not_allowed": _l("This answer is not possible here."),
    "repeated": _l("This question was answered twice in the same form."),
    "both": _l("Choose a value or “Skip”, not both."),
}


class LinkCSRF(CSRF):
    """A CSRF token derived from the respondent's token id: valid while the link is."""

    def setup_form(self, form):
        """Remember the respondent's token id, which the CSRF token is bound to."""
        self.token_id = form.meta.csrf_context
        return super().setup_form(form)

    def expected(self) -> str:
        """The token this link's forms must carry."""
        key = current_app.config["SECRET_KEY"].encode()
        return hmac.new(key, f"respond-csrf:{self.token_id}".encode(), hashlib.sha256).hexdigest()

    def generate_csrf_token(self, csrf_token_field):
        """The token to put in the form."""
        return self.expected()

    def validate_csrf_token(self, form, field):
        """Refuse a form whose token does not belong to this link."""
        if not hmac.compare_digest(str(field.data or ""), self.expected()):
            raise ValidationError(_l("The form had expired. Your answers are kept: "
                                     "please send them again."))


class ScaleField(Field):
    """One item's value, parsed strictly into tenths (decision 13)."""

    def __init__(self, *args, spec: ResponseSpec, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.raw = ""
        self.skipped = False
        self.answer: ItemAnswer | None = None
        self.refusal: str | None = None

    def process_formdata(self, valuelist):
        """Keep the raw value; two values for one item are refused."""
        if len(valuelist) > 1:
            self.refusal = "repeated"
        self.raw = valuelist[0] if valuelist else ""
        self.data = self.raw

    def pre_validate(self, form):
        """Parse the value (or the missing code) strictly, before any other validator."""
        missing = form.missing_codes.get(self.name)
        if self.refusal:
            pass
        elif missing and self.raw:
            self.refusal = "both"
        else:
            try:
                self.answer = parse_value(missing or self.raw, self.spec)
            except ValueRefused as refused:
                self.refusal = refused.reason
        if self.refusal:
            raise ValidationError(REFUSALS[self.refusal] % {"min": self.spec.min,
                                                            "max": self.spec.max})


class AnswerFormBase(Form):
    """The fields shared by every questionnaire's form."""

    class Meta:
        """The link-bound CSRF token."""

        csrf = True
        csrf_class = LinkCSRF

    submission_id = HiddenField()
    instrument: Instrument
    extra_fields: list[str]
    missing_codes: dict[str, str]

    def process(self, formdata=None, obj=None, data=None, extra_filters=None, **kwargs):
        """Sort out missing codes and fields that do not belong before processing."""
        allowed = {f.name for f in self} | {f"missing-{i.key}" for i in self.instrument.items}
        self.extra_fields = sorted(set(formdata or ()) - allowed)
        self.missing_codes = {}
        for item in self.instrument.items:
            values = formdata.getlist(f"missing-{item.key}") if formdata else []
            if values:
                self.missing_codes[item.key] = values[0] if len(values) == 1 else "invalid"
        super().process(formdata, obj, data, extra_filters, **kwargs)
        if formdata is None:
            self.submission_id.data = str(uuid.uuid4())

    def validate(self, extra_validators=None) -> bool:
        """Every item valid and no foreign fields."""
        ok = super().validate(extra_validators)
        if self.extra_fields:
            self.form_errors.append(_l("The form contained fields that do not belong to it."))
            ok = False
        return ok

    @property
    def csrf_failed(self) -> bool:
        """Whether the form's CSRF token was wrong or missing."""
        return bool(self.csrf_token.errors)

    @property
    def submission_id_missing(self) -> bool:
        """Whether the page sent no usable submission id."""
        try:
            uuid.UUID(self.submission_id.data or "")
        except ValueError:
            return True
        return False

    def items(self):
        """(item, field) pairs in the pack's order."""
        return [(item, self[item.key]) for item in self.instrument.items]

    def answers(self) -> dict[str, ItemAnswer]:
        """The parsed answers by item key."""
        return {item.key: self[item.key].answer for item in self.instrument.items}


#: Form classes by instrument version and wording, built once per process: a
#: frozen version never changes, and there are tens of them, not thousands.
_form_classes: dict[tuple, type[AnswerFormBase]] = {}


def _words(instrument: Instrument) -> tuple:
    """The texts a respondent reads: one version worded for a child or a parent differs here."""
    def flat(text: dict[str, str]) -> tuple:
        return tuple(sorted(text.items()))
    return (flat(instrument.title), flat(instrument.intro),
            tuple((flat(i.text), flat(i.response.low), flat(i.response.high))
                  for i in instrument.items))


def answer_form(instrument: Instrument, token_id: str, formdata=None) -> AnswerFormBase:
    """A form for ``instrument``; fields are named by item key."""
    key = (instrument.id, instrument.version, instrument.digest, _words(instrument))
    cls = _form_classes.get(key)
    if cls is None:
        fields = {item.key: ScaleField(spec=item.response) for item in instrument.items}
        cls = type("AnswerForm", (AnswerFormBase,), {"instrument": instrument, **fields})
        _form_classes[key] = cls
    return cls(formdata=formdata, meta={"csrf_context": token_id})


class CodeForm(Form):
    """The 8-character code, typed by someone who cannot scan the QR code."""

    code = StringField(
        _l("Code"), validators=[DataRequired(message=_l("Type the code you were given.")),
                                Length(max=32)],
        # Capital letters on the on-screen keyboard, no suggestions or corrections of a code.
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "autocorrect": "off",
                   "spellcheck": "false", "inputmode": "text", "enterkeyhint": "go"},
    )
