"""``flask import``: historical answers in the long CSV format, or an import rolled back.

    flask --app feedback import answers.csv --user admin --source paper-2023
    flask --app feedback import --user admin --rollback <import id>
    flask --app feedback import --user admin --list

The whole file is checked first; every line gets an outcome in the report
(``<file>.report.csv`` unless ``--report`` says otherwise); then the accepted
answers are written in short batches, with a progress bar on standard error.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from feedback.commands.export import staff_user
from feedback.commands.progress import Bars
from feedback.errors import message_for
from feedback.services import imports
from feedback.services.actors import Actor
from feedback.services.errors import Forbidden, Invalid, NotFound


@click.command("import", help="Import historical answers (long CSV) or roll an import back.")
@click.argument("path", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", required=True,
              help="The administrator (or analyst, where allowed) importing; audited as them.")
@click.option("--source", help="Where the data comes from, such as paper-2023 (required "
                               "to import). The same source and ids are never imported twice.")
@click.option("--mode", type=click.Choice(["all-or-nothing", "accepted-only"]),
              default="all-or-nothing", show_default=True,
              help="What to do when some lines are rejected.")
@click.option("--report", "report", type=click.Path(dir_okay=False),
              help="Where to write the report (default: <file>.report.csv).")
@click.option("--batch-size", default=imports.BATCH_RESPONSES, show_default=True,
              type=click.IntRange(1, 10_000), help="Questionnaires written per transaction.")
@click.option("--rollback", "rollback_id", help="Delete everything this import wrote.")
@click.option("--list", "show_list", is_flag=True, help="List the latest imports.")
@click.option("--language", default="da", show_default=True, help="Language of the report.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when it is a terminal).")
@with_appcontext
def import_command(path, username, source, mode, report, batch_size, rollback_id, show_list,
                   language, progress):
    """Import a file, roll an import back, or list imports."""
    actor = Actor.staff(staff_user(username))
    bars = Bars(progress)
    with force_locale(language):
        try:
            if show_list:
                for b in imports.recent(actor):
                    click.echo(f"{b.id}  {b.created_at:%Y-%m-%d %H:%M}  {b.source:30} "
                               f"{b.status:12} accepted {b.rows_accepted}, "
                               f"rejected {b.rows_rejected}")
                return
            if rollback_id:
                batch = imports.rollback(actor, rollback_id,
                                         lambda n: bars("rollback", n, 0))
                bars.close()
                click.echo(f"Import {batch.id} rolled back: {batch.responses_written} "
                           "questionnaires deleted.")
                return
            if not path or not source:
                raise click.UsageError("Give a file and --source to import.")
            _import(actor, Path(path), source, mode.replace("-", "_"), report, batch_size,
                    language, bars)
        except Forbidden:
            raise click.ClickException(
                f"{username} may not import: administrators only (and analysts where "
                "FEEDBACK_ANALYST_IMPORT is on).") from None
        except NotFound:
            raise click.ClickException(f"No import {rollback_id!r}.") from None
        except (Invalid, imports.ImportFailed) as error:
            raise click.ClickException(message_for(error)) from None
        finally:
            bars.close()


def _import(actor, path: Path, source, mode, report, batch_size, language, bars) -> None:
    target = Path(report) if report else path.with_name(path.name + ".report.csv")
    workdir = Path(tempfile.mkdtemp(prefix="feedback-import-"))
    try:
        with open(path, "rb") as fh:
            batch = imports.run(actor, fh, source=source, mode=mode, report_dir=workdir,
                                file_name=path.name, language=language,
                                batch_responses=batch_size, progress=bars)
        bars.close()
        written = imports.report_path(workdir, batch.id)
        if written.exists():
            shutil.move(str(written), target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    click.echo(f"Import {batch.id} from {source}: {batch.status}"
               + (f" ({batch.refusal})" if batch.refusal else "") + ".")
    click.echo(f"Lines read {batch.rows_read}: accepted {batch.rows_accepted}, already "
               f"imported {batch.rows_unchanged}, rejected {batch.rows_rejected}; "
               f"questionnaires written {batch.responses_written}.")
    click.echo(f"Report: {target}")
    for rejection in imports.rejections(target, limit=10):
        click.echo(f"  line {rejection.line} {rejection.column}: {rejection.problem}", err=True)
    if batch.status != "completed":
        raise SystemExit(1)
