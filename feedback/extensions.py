"""Flask extensions, created unbound and initialised in :func:`feedback.app.create_app`."""

from functools import cached_property

from flask import g
from flask_babel import Babel, Domain
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

#: Every constraint and index gets a predictable name, so migrations can refer
#: to them on both SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base, with named constraints."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _RequestDomain(Domain):
    """Flask-Babel's message domain, finding the request's catalogue once per locale.

    Flask-Babel looks the request's locale up again, and the catalogue by the
    locale's name, for every string it translates; a staff page translates a
    hundred or more. The catalogue found is kept in the request's Babel context
    together with the locale object it is for, so another locale (``force_locale``,
    ``refresh``) finds its own catalogue, as before.
    """

    def get_translations(self):
        ctx = g._get_current_object().__dict__.get("_flask_babel") if g else None
        if ctx is not None:
            kept = ctx.__dict__.get("feedback_catalogue")
            if (kept is not None and kept[0] is self
                    and kept[1] is ctx.__dict__.get("babel_locale")):
                return kept[2]
        translations = super().get_translations()
        if ctx is not None and ctx.__dict__.get("babel_locale") is not None:
            ctx.feedback_catalogue = (self, ctx.babel_locale, translations)
        return translations


class _Babel(Babel):
    """Flask-Babel whose default domain keeps the request's catalogue."""

    @cached_property
    def domain_instance(self):
        return _RequestDomain(domain=self.domain)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = _Babel()
login_manager = LoginManager()
