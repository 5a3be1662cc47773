"""``flask backup`` and ``flask restore``: the database, safe while the service runs.

SQLite is copied with its online backup API (a consistent snapshot, whatever
is being written meanwhile); PostgreSQL with ``pg_dump -Fc`` (one snapshot
transaction). A backup is written to ``<name>.part`` and renamed when
complete, so a half-written file never looks like a backup.

The file's name carries the moment the backup began (UTC, the host's wall
clock): every answer whose receipt the respondent saw before that moment is
in the backup, since both copies start from a snapshot taken after it.

``flask restore FILE`` writes a backup into the configured database, which
must be empty (a fresh database: nothing is ever overwritten), then shows
the schema version and the row counts to compare with the old database.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from feedback.extensions import db
from feedback.services import audit
from feedback.services.actors import Actor

#: ``feedback-20261124T023000.123456Z.sqlite`` / ``.dump``
_NAME = re.compile(r"^feedback-(\d{8}T\d{6}\.\d{6}Z)\.(sqlite|dump)$")
_STAMP = "%Y%m%dT%H%M%S.%fZ"

#: Counted after a restore, to compare with the database the backup came from.
COUNTED = ("cases", "meetings", "responses", "answers", "users", "audit_events")


def backup_dir() -> Path:
    """``FEEDBACK_BACKUP_DIR``, or ``backups/`` in the instance folder."""
    configured = current_app.config.get("FEEDBACK_BACKUP_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "backups"


def taken_at(path: Path) -> datetime | None:
    """When the backup in ``path`` began, from its name."""
    match = _NAME.match(path.name)
    if not match:
        return None
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


def _libpq(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump / pg_restore, the password in the environment only."""
    args = []
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise click.ClickException("An in-memory SQLite database cannot be backed up.")
    return Path(url.database)


def make_backup(directory: Path) -> tuple[Path, datetime]:
    """Write a backup of the configured database into ``directory``; (file, begun at)."""
    url = db.engine.url
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # The host's wall clock, not the service's (which a demonstration may start elsewhere):
    # it is compared with when respondents saw their receipts.
    began = datetime.now(UTC)
    kind = "sqlite" if url.get_backend_name() == "sqlite" else "dump"
    target = directory / f"feedback-{began.strftime(_STAMP)}.{kind}"
    part = target.with_name(target.name + ".part")
    if kind == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(part)
        try:
            source.execute("PRAGMA busy_timeout=10000")
            source.backup(dest)  # all pages in one step: one consistent snapshot
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dest.close()
            source.close()
    else:
        args, env = _libpq(url)
        result = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", *args, "--file", str(part),
             "--dbname", str(url.database)],
            env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            part.unlink(missing_ok=True)
            raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")
    with open(part, "rb") as fh:
        os.fsync(fh.fileno())
    part.rename(target)
    return target, began


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups in ``directory``; returns what went."""
    backups = sorted((p for p in directory.iterdir() if taken_at(p)), key=taken_at)
    gone = backups[:-keep] if keep > 0 else []
    for path in gone:
        path.unlink()
    return gone


def _tables(engine: sa.Engine) -> list[str]:
    return sa.inspect(engine).get_table_names()


def restore_backup(path: Path) -> None:
    """Write the backup in ``path`` into the configured, empty database."""
    url = db.engine.url
    if _tables(db.engine):
        raise click.ClickException(
            f"The database {url.render_as_string(hide_password=True)} is not empty. Restore "
            "into a new, empty database (see docs/operations.md, \"Backups and restore\").")
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        if path.suffix != ".sqlite":
            raise click.ClickException("A SQLite database is restored from a .sqlite backup.")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = source.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise click.ClickException(f"The backup is damaged: {check}")
            dest = sqlite3.connect(_sqlite_path(url))
            try:
                source.backup(dest)
                dest.execute("PRAGMA journal_mode=WAL")
            finally:
                dest.close()
        finally:
            source.close()
        return
    if path.suffix != ".dump":
        raise click.ClickException("A PostgreSQL database is restored from a .dump backup.")
    if not shutil.which("pg_restore"):
        raise click.ClickException("pg_restore is not installed (postgresql-client).")
    args, env = _libpq(url)
    result = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", *args,
         "--dbname", str(url.database), str(path)],
        env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise click.ClickException(f"pg_restore failed: {result.stderr.strip()}")


@click.command("backup", help="Back up the database (safe while the service runs).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write it (default: FEEDBACK_BACKUP_DIR, or backups/ in the "
                   "instance folder).")
@click.option("--keep", type=int, default=None,
              help="Keep only this many newest backups in the directory (default: "
                   "FEEDBACK_BACKUP_KEEP; 0 keeps all).")
@with_appcontext
def backup_command(directory, keep):
    """``flask backup``."""
    directory = directory or backup_dir()
    target, began = make_backup(directory)
    audit.record_now(Actor.system("backup"), "backup.create", detail=target.name)
    click.echo(f"Backup written: {target} (begun {began.isoformat()})")
    keep = current_app.config.get("FEEDBACK_BACKUP_KEEP", 0) if keep is None else keep
    for path in prune(directory, keep):
        click.echo(f"Deleted the old backup {path.name}")


@click.command("restore", help="Restore a backup into the configured, empty database.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(path):
    """``flask restore FILE``."""
    from feedback.checks import code_heads, database_heads

    restore_backup(path)
    db.engine.dispose()
    with db.engine.connect() as conn:
        for table in COUNTED:
            count = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: S608
            click.echo(f"{table:14} {count}")
    heads, code = database_heads(), code_heads()
    audit.record_now(Actor.system("restore"), "backup.restore", detail=path.name)
    click.echo(f"Restored {path.name} (schema {', '.join(sorted(heads))}).")
    if heads != code:
        click.echo("The schema is older than this code: run `flask --app feedback db upgrade` "
                   "before starting the service.")
