"""Start-up checks: is this installation fit to serve?

``flask --app feedback check`` runs them, and gunicorn's master runs that
command once before it starts any worker (deploy/gunicorn.conf.py), so the
service refuses to start rather than run against a database it does not fit.
They are not run inside ``create_app`` (no queries at import or start of a
worker) nor in every worker.

A check is a function called inside an app context; it returns the problems
it found as sentences an operator can act on (an empty list: all well). Add
new checks to :data:`CHECKS`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import click
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from feedback.extensions import db

Check = Callable[[], list[str]]

UPGRADE = "flask --app feedback db upgrade"


def _scripts() -> ScriptDirectory:
    migrate = current_app.extensions["migrate"]
    return ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))


def code_heads() -> set[str]:
    """The Alembic head revision(s) of the migrations shipped with this code."""
    return set(_scripts().get_heads())


def database_heads() -> set[str]:
    """The revision(s) recorded in the database's ``alembic_version`` table (empty: none)."""
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def schema_matches_code() -> list[str]:
    """The database schema is exactly the one this code's migrations end in."""
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        in_database = database_heads()
    except SQLAlchemyError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return [f"Cannot read the schema version of the database {url}: {reason}"]
    in_code = code_heads()
    if in_database == in_code:
        return []
    if not in_database:
        return [f"The database {url} has no schema yet. Run `{UPGRADE}` to create it, "
                "then start the service."]
    known = {rev.revision for rev in _scripts().walk_revisions()}
    found, wanted = ", ".join(sorted(in_database)), ", ".join(sorted(in_code))
    if in_database <= known:
        return [f"The database schema (revision {found}) is older than this release "
                f"(revision {wanted}). Stop the service, back up the database, run "
                f"`{UPGRADE}`, then start the service."]
    return [f"The database schema (revision {found}) is newer than this release "
            f"(revision {wanted}) or unknown to it: it was upgraded by a later release. "
            "Run that release, or restore the backup taken before the upgrade; "
            f"`{UPGRADE}` cannot help."]


def instrument_packs_valid() -> list[str]:
    """Every instrument pack loads, and none differs from the version frozen for it."""
    if schema_matches_code():
        return []  # the packs are compared with the database, which must fit first
    from feedback.services.instruments import check_installation

    return check_installation()


def sign_in_configured() -> list[str]:
    """With sign-in at a provider configured: a client id, and a role mapping that reads.

    The provider itself is not asked (it may be down while the service starts);
    a sign-in while it is unreachable gets a page saying so.
    """
    config = current_app.config
    if not config.get("FEEDBACK_OIDC_ISSUER"):
        return []
    from feedback.services.identity import MappingError, load_mapping

    problems = []
    issuer = config["FEEDBACK_OIDC_ISSUER"]
    if not issuer.startswith(("https://", "http://localhost", "http://127.0.0.1")):
        problems.append(f"FEEDBACK_OIDC_ISSUER must be an https:// URL, not {issuer}")
    if not config.get("FEEDBACK_OIDC_CLIENT_ID"):
        problems.append("FEEDBACK_OIDC_ISSUER is set but FEEDBACK_OIDC_CLIENT_ID is not")
    try:
        mapping = load_mapping(config.get("FEEDBACK_OIDC_ROLE_MAPPING", ""))
    except MappingError as error:
        problems.append(str(error))
    else:
        if not any(rule.role for rule in mapping.rules):
            problems.append("the role mapping gives no role to anybody: nobody could sign in "
                            "through the provider")
    return problems


#: Every check `flask check` and gunicorn's start run, in order.
CHECKS: list[Check] = [schema_matches_code, instrument_packs_valid, sign_in_configured]


def run_checks(checks: list[Check] | None = None) -> list[str]:
    """Run the checks in the current app context; every problem found, in order."""
    problems: list[str] = []
    for check in CHECKS if checks is None else checks:
        problems.extend(check())
    return problems


@click.command("check", help="Check that this installation can serve (database schema, ...).")
@with_appcontext
def check_command():
    """Print every problem that would stop this installation from serving; exit 1 if any."""
    problems = run_checks()
    for problem in problems:
        click.echo(f"feedback check: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("feedback check: OK")
