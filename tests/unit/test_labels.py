"""Numbers people read are in their language's format."""

import pytest
from flask_babel import force_locale

from feedback import create_app
from feedback.labels import number, tenths


@pytest.mark.parametrize("locale, value, decimals, shown", [
    ("da", 32.0, 1, "32,0"), ("da", 8.5, 1, "8,5"), ("en", 8.5, 1, "8.5"),
    ("da", 1234.5, 1, "1.234,5"), ("da", 7, 0, "7"), ("da", -6.1, 1, "-6,1"),
])
def test_numbers_follow_the_language(locale, value, decimals, shown):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "FEEDBACK_PSEUDONYM_KEY": "y",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context(), force_locale(locale):
        assert number(value, decimals) == shown


def test_tenths_are_shown_as_decimals():
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "FEEDBACK_PSEUDONYM_KEY": "y",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.test_request_context(), force_locale("da"):
        assert tenths(243) == "24,3" and tenths(None) == ""


def test_the_request_keeps_its_catalogue_per_locale():
    """Strings and templates follow the locale, also when it is forced for a while."""
    from flask import render_template_string
    from flask_babel import gettext, lazy_gettext

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "FEEDBACK_PSEUDONYM_KEY": "y",
                      "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    lazy = lazy_gettext("Meetings")
    with app.test_request_context():
        assert gettext("Meetings") == "Møder" == str(lazy)
        assert render_template_string("{{ _('Meetings') }}") == "Møder"
        with force_locale("en"):
            assert gettext("Meetings") == "Meetings" == str(lazy)
            assert render_template_string("{{ _('Meetings') }}") == "Meetings"
        assert gettext("Meetings") == "Møder"
        assert render_template_string("{{ _('Meetings') }}") == "Møder"
