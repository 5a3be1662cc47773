"""``flask --app feedback check``: the service refuses a database schema older or
newer than its code, with a message that says what to do."""

from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from feedback.checks import CHECKS, code_heads, run_checks, schema_matches_code
from feedback.extensions import db
from tests.conftest import fresh_database, migrated_app
from tests.deploy.conftest import app_on

UPGRADE = "flask --app feedback db upgrade"
FIRST_REVISION = "3337027eafd8"


def _check(app) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["check"])
    return result.exit_code, result.output


def test_a_current_schema_passes(app):
    with app.app_context():
        assert run_checks() == []
    assert _check(app) == (0, "feedback check: OK\n")


def test_an_empty_database_is_refused_with_the_command_to_run(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory) as url, app_on(url) as app:
        code, output = _check(app)
    assert code == 1
    assert "has no schema yet" in output and UPGRADE in output


def test_an_older_schema_is_refused_with_the_command_to_run(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory) as url, app_on(url) as app:
        with app.app_context():
            upgrade(revision=FIRST_REVISION)
        code, output = _check(app)
    assert code == 1
    assert f"(revision {FIRST_REVISION}) is older than this release" in output
    assert f"run `{UPGRADE}`" in output


def test_a_newer_schema_is_refused(backend, tmp_path_factory):
    with migrated_app(backend, tmp_path_factory) as app:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeedbeef'"))
        code, output = _check(app)
    assert code == 1
    assert "(revision f00dfeedbeef) is newer than this release" in output
    assert f"`{UPGRADE}` cannot help" in output


def test_an_unreachable_database_is_reported_without_its_password(tmp_path):
    url = f"sqlite:///{tmp_path}/no/such/dir/feedback.sqlite"
    with app_on(url) as app:
        code, output = _check(app)
    assert code == 1
    assert "Cannot read the schema version of the database" in output
    with app_on("postgresql+psycopg://feedback:s3cret-pw@127.0.0.1:1/feedback") as app:
        code, output = _check(app)
    assert code == 1 and "Cannot read the schema version" in output
    assert "s3cret-pw" not in output


def test_checks_are_a_list_run_in_order(app):
    assert CHECKS[0] is schema_matches_code
    with app.app_context():
        assert run_checks([lambda: ["first"], lambda: [], lambda: ["second", "third"]]) == [
            "first", "second", "third"]
        assert code_heads(), "the code has a head revision"


def test_create_app_itself_never_touches_the_database():
    # The check runs in `flask check` and gunicorn's master, not in every worker.
    with app_on("postgresql+psycopg://nobody@127.0.0.1:1/nothing") as app:
        assert app.name == "feedback.app"
