"""Command-line tools: ``flask --app feedback <command>`` or ``feedback <command>``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from feedback.commands.backup import backup_command, restore_command
from feedback.commands.expected import expected_range
from feedback.commands.export import export
from feedback.commands.imports import import_command
from feedback.commands.report import report
from feedback.commands.retention import retention
from feedback.instruments.loader import load_pack, registry, scan_packs
from feedback.instruments.schema import PackError
from feedback.services.instruments import check_frozen, check_installation


def register(app: Flask) -> None:
    """Add the service's command groups to ``flask``."""
    from feedback.checks import check_command

    app.cli.add_command(check_command)
    app.cli.add_command(instruments)
    app.cli.add_command(demo)
    app.cli.add_command(users)
    app.cli.add_command(export)
    app.cli.add_command(import_command)
    app.cli.add_command(expected_range)
    app.cli.add_command(retention)
    app.cli.add_command(report)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


instruments = AppGroup("instruments", help="Instrument packs.")


@instruments.command("list", help="List the packs this installation uses.")
def instruments_list():
    """Print the installed packs."""
    for pack in _installed_or_exit().values():
        click.echo(f"{pack.id:16} {pack.version:8} {pack.family:20} {pack.title['en']}")


def _installed_or_exit() -> dict:
    problems = check_installation()
    if problems:
        _fail(problems)
    return registry()


def _fail(problems: list[str]) -> None:
    click.echo("\n".join(problems), err=True)
    click.echo(f"{len(problems)} problem(s) with the instrument packs.", err=True)
    sys.exit(1)


@instruments.command(
    "check",
    help="Validate the installed packs (shipped and FEEDBACK_INSTRUMENTS_DIR), or the pack "
         "file or directory PATH, and compare them with the versions frozen in the database.")
@click.argument("path", type=click.Path(exists=True), required=False)
def instruments_check(path):
    """Validate pack files and compare them with the frozen versions."""
    from pathlib import Path

    if path is None:
        problems, count = check_installation(), len(_scan(None))
    elif Path(path).is_dir():
        problems, count = check_installation(path), len(_scan(path))
    else:
        try:
            pack = load_pack(Path(path))
        except PackError as error:
            _fail([str(error)])
        problems, count = check_frozen([pack]), 1
    if problems:
        _fail(problems)
    click.echo(f"OK: {count} pack(s)")


def _scan(path) -> dict:
    return scan_packs(path or current_app.config.get("FEEDBACK_INSTRUMENTS_DIR") or None)[0]


demo = AppGroup("demo", help="Demo data.")


@demo.command("load", help="Load demo teams, users and cases (once; keeps existing data).")
def demo_load():
    """Load the demo data set."""
    from feedback.services.demo import load_demo

    created = load_demo()
    if created:
        click.echo("Demo data loaded.")
    else:
        click.echo("Demo data already present; nothing changed.")


users = AppGroup("users", help="Staff users.")


@users.command("create", help="Create a staff user.")
@click.argument("username")
@click.option("--role", type=click.Choice(["caseworker", "team_lead", "analyst", "admin"]),
              required=True)
@click.option("--name", "display_name", required=True)
@click.option("--team", "team_names", multiple=True)
@click.password_option()
def users_create(username, role, display_name, team_names, password):
    """Create a staff user."""
    from flask import current_app
    from sqlalchemy import select

    from feedback.extensions import db
    from feedback.models import Team
    from feedback.services import accounts
    from feedback.services.errors import Invalid

    org = accounts.get_or_create_organisation(current_app.config["FEEDBACK_ORGANISATION"])
    teams = []
    for name in team_names:
        team = db.session.scalar(select(Team).where(Team.organisation_id == org.id,
                                                    Team.name == name))
        teams.append(team or accounts.create_team(org, name))
    try:
        accounts.create_user(org, username, password, display_name, role, teams)
    except Invalid as error:
        raise click.ClickException(error.code) from None
    click.echo(f"Created {username}.")


def main():
    """The ``feedback`` console script: Flask's CLI with this app."""
    from feedback.app import create_app

    FlaskGroup(create_app=create_app)(prog_name="feedback")
