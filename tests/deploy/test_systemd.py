"""deploy/systemd: ``systemd-analyze verify`` on the units, and what each must say.

verify runs on copies whose missing executables (/opt/feedback/.venv/bin/...)
are replaced by ``true``; it is skipped where systemd-analyze is missing or
cannot work (no systemd as PID 1 in some containers). The text checks always run.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
from pathlib import Path

import pytest

from tests.deploy.support import GUNICORN_CONF, SYSTEMD, run

UNITS = ("feedback.service", "feedback-backup.service", "feedback-backup.timer",
         "feedback-retention.service", "feedback-retention.timer",
         "feedback-expected-range.service", "feedback-expected-range.timer")
FLASK = "/opt/feedback/.venv/bin/flask --app feedback"


def _rewrite_missing_executables(unit: str) -> str:
    """Point Exec*= lines whose program is not installed here at ``true``.

    Everything else (directives, arguments, sections) stays as written, so
    verify still reports unknown keys, bad values and syntax errors.
    """
    true = shutil.which("true") or "/bin/true"

    def swap(match: re.Match) -> str:
        program = match.group(3)
        return match.group(0) if os.access(program, os.X_OK) else (
            f"{match.group(1)}{match.group(2)}{true}")

    return re.sub(r"^(Exec\w+=)([-@:+!]*)(/\S+)", swap, unit, flags=re.M)


def _verify(analyze: str, directory: Path, names: list[str]) -> tuple[int, str]:
    result = run([analyze, "verify", "--man=no", *[f"./{name}" for name in names]],
                 cwd=directory)
    return result.returncode, (result.stdout + result.stderr).strip()


def _lines(name: str) -> list[str]:
    return (SYSTEMD / name).read_text().splitlines()


def test_every_unit_is_checked():
    assert sorted(p.name for p in SYSTEMD.iterdir()) == sorted(UNITS)


def test_systemd_units_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed: units not verified")

    # Can verify run here at all (no systemd as PID 1 in a container)?
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "probe.service").write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    code, out = _verify(analyze, probe, ["probe.service"])
    if code != 0 or out:
        pytest.skip(f"systemd-analyze verify does not work in this environment: {out}")
    # ...and does it report what this test looks for (an unknown directive)?
    (probe / "probe.service").write_text(
        "[Service]\nType=oneshot\nExecStart=/bin/true\nNoSuchDirective=yes\n")
    code, out = _verify(analyze, probe, ["probe.service"])
    assert "NoSuchDirective" in out, "verify should report unknown directives"

    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        (units / name).write_text(_rewrite_missing_executables((SYSTEMD / name).read_text()))
    code, out = _verify(analyze, units, list(UNITS))
    assert code == 0, out
    assert out == "", f"systemd-analyze verify reported:\n{out}"


def test_the_service_migrates_then_starts_gunicorn_and_does_not_loop_on_a_bad_schema():
    service = _lines("feedback.service")
    for line in (
        "User=feedback",
        "WorkingDirectory=/opt/feedback",
        "EnvironmentFile=/etc/feedback/feedback.env",
        f"ExecStartPre={FLASK} db upgrade",
        'ExecStart=/opt/feedback/.venv/bin/gunicorn -c deploy/gunicorn.conf.py '
        '"feedback:create_app()"',
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/feedback",
        "PrivateTmp=yes",
        "ProtectHome=yes",
    ):
        assert line in service, line
    # gunicorn's exit status when `flask check` fails: restarting would not help.
    failed = runpy.run_path(str(GUNICORN_CONF))["CHECK_FAILED"]
    assert f"RestartPreventExitStatus={failed}" in service


@pytest.mark.parametrize(("job", "command"), [
    ("feedback-backup", "backup"),
    ("feedback-retention", "retention run"),
    ("feedback-expected-range", "expected-range compute"),
])
def test_scheduled_jobs_run_their_command_as_the_service_does(job, command):
    service, timer = _lines(f"{job}.service"), _lines(f"{job}.timer")
    main = _lines("feedback.service")
    assert f"ExecStart={FLASK} {command}" in service
    assert "Type=oneshot" in service
    # The same user, code, configuration and hardening as the service.
    for line in ("User=feedback", "Group=feedback", "WorkingDirectory=/opt/feedback",
                 "EnvironmentFile=/etc/feedback/feedback.env", "ProtectSystem=strict",
                 "ReadWritePaths=/var/lib/feedback", "NoNewPrivileges=yes",
                 "CapabilityBoundingSet="):
        assert line in service and line in main, line
    assert not any(line.startswith("[Install]") for line in service), "started by its timer"
    assert any(re.fullmatch(r"OnCalendar=\S.*", line) for line in timer)
    assert "Persistent=true" in timer
    assert "WantedBy=timers.target" in timer


def test_retention_runs_after_the_nightly_backup():
    backup = next(line for line in _lines("feedback-backup.timer") if line.startswith("OnCal"))
    retention = next(line for line in _lines("feedback-retention.timer")
                     if line.startswith("OnCal"))
    assert backup < retention  # *-*-* HH:MM:SS, compared as text
    assert "After=feedback-backup.service" in _lines("feedback-retention.service")


def test_expected_ranges_are_computed_after_the_retention_run():
    retention = next(line for line in _lines("feedback-retention.timer")
                     if line.startswith("OnCal"))
    ranges = next(line for line in _lines("feedback-expected-range.timer")
                  if line.startswith("OnCal"))
    assert retention < ranges
    assert "After=feedback-backup.service feedback-retention.service" in _lines(
        "feedback-expected-range.service")
