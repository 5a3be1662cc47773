"""``flask export``: the pseudonymised exports on the command line, streamed.

The same files as the export page, from the same service, audited as the
named analyst or team lead: a chunk at a time, so memory stays flat however
many rows there are. It writes to a file (via ``<file>.part``, renamed when
complete) or to standard output, with a progress bar on standard error.

    flask --app feedback export --user analytiker --format wide \\
        --dialect excel-da --meeting-from 2025-01-01 --team "Team Nord" -o wide.zip
"""

from __future__ import annotations

import os
import sys

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from sqlalchemy import select

from feedback.commands.progress import Bars
from feedback.errors import message_for
from feedback.extensions import db
from feedback.models import User
from feedback.services import exports
from feedback.services.actors import Actor
from feedback.services.errors import Forbidden, Invalid


def staff_user(username: str) -> User:
    """The active staff member with this username; a clear error otherwise."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(f"No active user {username!r}.")
    return user


@click.command("export", help="Export pseudonymised data: the same files as the export page.")
@click.option("--user", "username", required=True,
              help="The analyst or team lead the export is made as (and audited as).")
@click.option("--output", "-o", default="-", show_default=True,
              type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write, or - for standard output.")
@click.option("--format", "kind", type=click.Choice(exports.KINDS), default="long",
              show_default=True,
              help="long, wide (zip if several families), invitations, codebook (JSON), "
                   "xlsx, sav (zip if several families) or zip (everything).")
@click.option("--dialect", type=click.Choice(sorted(exports.DIALECTS)), default="rfc4180",
              show_default=True, help="CSV dialect: rfc4180 or excel-da (Danish Excel).")
@click.option("--meeting-from", help="Meetings on or after this day (YYYY-MM-DD).")
@click.option("--meeting-to", help="Meetings on or before this day.")
@click.option("--opened-from", help="Cases opened on or after this day.")
@click.option("--opened-to", help="Cases opened on or before this day.")
@click.option("--case-status", type=click.Choice(["open", "closed"]))
@click.option("--team", "teams", multiple=True, help="A team by name (repeat for more).")
@click.option("--instrument", "instruments", multiple=True, help="A questionnaire id.")
@click.option("--family", "families", multiple=True, help="A questionnaire family.")
@click.option("--role", "roles", multiple=True, help="A respondent role (child, mother, …).")
@click.option("--tag", "tags", multiple=True, help="A case tag.")
@click.option("--language", default="da", show_default=True,
              help="Language of the codebook and band labels.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar on standard error (default: when it is a terminal).")
@with_appcontext
def export(username, output, kind, dialect, meeting_from, meeting_to, opened_from, opened_to,
           case_status, teams, instruments, families, roles, tags, language, progress):
    """Stream one export to a file or standard output."""
    user = staff_user(username)
    actor = Actor.staff(user)
    values = {"meeting_from": meeting_from, "meeting_to": meeting_to,
              "opened_from": opened_from, "opened_to": opened_to, "case_status": case_status,
              "team": teams, "instrument": instruments, "family": families, "role": roles,
              "tag": tags}
    with force_locale(language):
        try:
            request = exports.ExportRequest(
                kind=kind, dialect=exports.dialect(dialect),
                filters=exports.parse({k: v for k, v in values.items() if v},
                                      exports.choices_for(actor)),
                language=language)
            run = exports.start(actor, request, render_html=_codebook_html)
        except Forbidden:
            raise click.ClickException(
                f"{user.username} may not export: analysts and team leads only.") from None
        except Invalid as error:
            raise click.ClickException(message_for(error)) from None
        _write(run, output, Bars(progress))


def _codebook_html(codebook: dict) -> str:
    from flask import render_template

    return render_template("reports/codebook_file.html", codebook=codebook)


def _write(run: exports.ExportRun, output: str, bars: Bars) -> None:
    total = run.expected_rows() if bars.enabled else 0
    if output == "-":
        out, part = sys.stdout.buffer, None
    else:
        part = output + ".part"
        out = open(part, "wb")  # closed below; renamed only when complete
    completed = False
    try:
        # Bytes, as the web page sends them: no newline translation.
        for chunk in run:
            out.write(chunk)
            bars("export", run.rows, total)
        out.flush()
        completed = True
    finally:
        run.close()
        bars.close()
        if part is not None:
            out.close()
            if completed:
                os.replace(part, output)
            else:
                os.unlink(part)
    click.echo(f"{run.rows} rows exported.", err=True)
