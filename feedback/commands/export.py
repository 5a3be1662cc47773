"""``flask export``: the pseudonymised long CSV on the command line.

For analysts with large exports (and for the export benchmark): it streams
the same file as the web page ``/reports/export.csv``, from the same service
function, a chunk at a time, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from feedback.extensions import db
from feedback.models import User
from feedback.services import exports
from feedback.services.actors import Actor
from feedback.services.errors import Forbidden


@click.command("export", help="Stream the long CSV export, the same file as the web page.")
@click.option("--user", "username", required=True,
              help="The analyst or team lead the export is made as (and audited as).")
@click.option("--output", "-o", default="-", show_default=True,
              type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write, or - for standard output.")
@with_appcontext
def export(username: str, output: str) -> None:
    """Write the long CSV as ``username`` would download it, audited as them."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        raise click.ClickException(f"No active user {username!r}.")
    try:
        chunks = exports.export_long_csv(Actor.staff(user))
    except Forbidden:
        raise click.ClickException(
            f"{user.username} may not export: analysts and team leads only.") from None
    # Bytes, as the web page sends them: UTF-8, CRLF rows, no newline translation.
    out = sys.stdout.buffer if output == "-" else open(output, "wb")  # noqa: SIM115
    try:
        for chunk in chunks:
            out.write(chunk.encode("utf-8"))
        out.flush()
    finally:
        if out is not sys.stdout.buffer:
            out.close()
