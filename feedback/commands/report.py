"""``flask report <name>``: a report as CSV on the command line, audited as the named user.

The same figures as the report page, from the same service. Filters are the
export's options; a report's own settings are given as ``--option
name=value`` (repeatable), for example::

    flask --app feedback report outcome --user analytiker --dialect excel-da \\
        --option cohort=half --option anchor=04-01 -o outcome.csv
"""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from feedback.commands.export import staff_user
from feedback.errors import message_for
from feedback.services import exports, reports
from feedback.services.actors import Actor
from feedback.services.errors import Forbidden, Invalid


@click.command("report", help="Make a report (outcome, satisfaction, response_rates, alliance, "
                              "likert, ruler, leaders) as CSV: the same figures as its page.")
@click.argument("name", type=click.Choice(sorted(reports.REPORTS)))
@click.option("--user", "username", required=True,
              help="The analyst or team lead the report is made as (and audited as).")
@click.option("--output", "-o", default="-", show_default=True,
              type=click.Path(dir_okay=False, allow_dash=True),
              help="File to write, or - for standard output.")
@click.option("--dialect", type=click.Choice(sorted(exports.DIALECTS)), default="rfc4180",
              show_default=True, help="CSV dialect: rfc4180 or excel-da (Danish Excel).")
@click.option("--option", "settings", multiple=True, metavar="NAME=VALUE",
              help="A setting of the report, such as cohort=half or anchor=04-01 (repeat).")
@click.option("--meeting-from", help="Meetings on or after this day (YYYY-MM-DD).")
@click.option("--meeting-to", help="Meetings on or before this day.")
@click.option("--opened-from", help="Cases opened on or after this day.")
@click.option("--opened-to", help="Cases opened on or before this day.")
@click.option("--case-status", type=click.Choice(["open", "closed"]))
@click.option("--team", "teams", multiple=True, help="A team by name (repeat for more).")
@click.option("--role", "roles", multiple=True, help="A respondent role (child, mother, …).")
@click.option("--tag", "tags", multiple=True, help="A case tag.")
@click.option("--language", default="da", show_default=True, help="Language of the labels.")
@with_appcontext
def report(name, username, output, dialect, settings, meeting_from, meeting_to, opened_from,
           opened_to, case_status, teams, roles, tags, language):
    """Write one report as CSV to a file or standard output."""
    actor = Actor.staff(staff_user(username))
    values: dict = {"meeting_from": meeting_from, "meeting_to": meeting_to,
                    "opened_from": opened_from, "opened_to": opened_to,
                    "case_status": case_status, "team": teams, "role": roles, "tag": tags}
    for setting in settings:
        key, sep, value = setting.partition("=")
        key = key.strip()
        if not sep or not key or key in values:
            raise click.BadParameter(f"{setting!r} is not NAME=VALUE for a setting of the "
                                     "report (filters have their own options).",
                                     param_hint="--option")
        values[key] = value
    with force_locale(language):
        try:
            made = reports.run(actor, name, {k: v for k, v in values.items() if v})
            data = reports.csv_bytes(made, exports.dialect(dialect))
        except Forbidden:
            raise click.ClickException(
                f"{username} may not read reports: analysts and team leads only.") from None
        except Invalid as error:
            raise click.ClickException(message_for(error)) from None
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(output, "wb") as out:
            out.write(data)
    rows = sum(len(t.rows) for t in made.tables)
    click.echo(f"{rows} rows of figures.", err=True)
