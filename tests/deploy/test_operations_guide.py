"""docs/operations.md describes what exists: every setting the app reads, only commands
the app has, and the upgrade order stop → migrate → start."""

from __future__ import annotations

import re

import click
from flask_migrate.cli import db as db_group

from feedback.checks import check_command
from feedback.cli import demo, instruments, users
from feedback.commands.backup import backup_command, restore_command
from feedback.commands.expected import expected_range
from feedback.commands.export import export
from feedback.commands.imports import import_command
from feedback.commands.report import report
from feedback.commands.retention import retention
from tests.deploy.support import OPERATIONS
from tests.deploy.test_container_files import config_vars, gunicorn_vars

COMMANDS = {"db": db_group, "demo": demo, "users": users, "instruments": instruments,
            "check": check_command, "backup": backup_command, "restore": restore_command,
            "export": export, "import": import_command, "retention": retention,
            "expected-range": expected_range, "report": report}


def test_every_setting_is_documented():
    text = OPERATIONS.read_text()
    missing = sorted(v for v in config_vars() | gunicorn_vars() if v not in text)
    assert not missing, f"not documented in docs/operations.md: {missing}"


def test_only_real_commands_are_shown():
    text = OPERATIONS.read_text()
    used = re.findall(r"flask --app feedback ([\w-]+)(?: ([\w-]+))?", text)
    assert used, "the guide shows the app's commands"
    for name, sub in used:
        assert name in COMMANDS, f"flask --app feedback {name}: no such command"
        command = COMMANDS[name]
        if isinstance(command, click.Group):
            assert sub in command.commands, f"flask --app feedback {name} {sub}"
    for role in re.findall(r"--role ([\w|]+)", text):
        assert set(role.split("|")) <= {"caseworker", "team_lead", "analyst", "admin"}, role


def test_upgrades_stop_then_migrate_then_start():
    text = OPERATIONS.read_text()
    section = text[text.index("## Upgrades"):]
    section = section[:section.index("\n## ", 1)]
    for stop, start in (("systemctl stop feedback", "systemctl start feedback"),
                        ("docker compose stop app", "docker compose up -d")):
        migrate = section.index("db upgrade", section.index(stop))
        assert section.index(stop) < migrate < section.index(start, migrate), stop
    assert "flask --app feedback check" in section


def test_the_guide_covers_health_static_caching_and_tls():
    text = OPERATIONS.read_text()
    for heading in ("## Install on Debian with systemd and nginx", "## Install with containers",
                    "## TLS", "## Upgrades", "## Health check", "## Static files and caching"):
        assert heading in text, heading
    assert "/health" in text and "503" in text
    assert "immutable" in text
