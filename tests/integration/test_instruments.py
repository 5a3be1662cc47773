"""Pack commands, organisation overrides, and frozen versions."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from feedback.instruments.loader import SHIPPED
from feedback.models import InstrumentVersion, Response
from feedback.services.errors import Invalid
from feedback.services.instruments import check_installation, definition
from tests import factories as f


def test_instruments_list_names_every_pack(app):
    result = app.test_cli_runner().invoke(args=["instruments", "list"])
    assert result.exit_code == 0
    for key in ("ors", "srs", "cors", "csrs", "ycors", "ycsrs", "child-meeting", "child-ruler",
                "parent-coordination"):
        assert key in result.output


def test_instruments_check_accepts_good_packs_and_names_the_problem_in_bad_ones(app, tmp_path):
    runner = app.test_cli_runner()
    good = runner.invoke(args=["instruments", "check", str(SHIPPED)])
    assert good.exit_code == 0 and "OK: 9 pack(s)" in good.output
    bad = tmp_path / "bad.toml"
    bad.write_text((SHIPPED / "ors.toml").read_text().replace('timing = "before"', 'timing = "soon"'))
    result = runner.invoke(args=["instruments", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: timing: must be one of before, during, after" in result.output


def _override_dir(tmp_path: Path, version: str, label: str) -> Path:
    directory = tmp_path / f"packs-{version}"
    directory.mkdir()
    text = (SHIPPED / "ors.toml").read_text()
    text = text.replace('version = "1.0"', f'version = "{version}"')
    text = text.replace("Personligt (personlig trivsel)", label)
    (directory / "ors.toml").write_text(text)
    return directory


def test_a_changed_pack_never_changes_old_answers(db, app, tmp_path):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, the_case)
    link = f.invite(w.anna, meeting, f.child_of(the_case))
    old_version = db.session.scalar(select(InstrumentVersion).where(InstrumentVersion.key == "ors"))

    # An organisation loads licensed wording as version 2: new invitations use it...
    app.extensions.pop("feedback.instruments")  # reloaded on next use
    app.config["FEEDBACK_INSTRUMENTS_DIR"] = str(_override_dir(tmp_path, "2.0", "Licenseret tekst"))
    try:
        second = f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case))
        new_item = second.invitation.items[0]
        assert new_item.instrument_version.version == "2.0"
        assert definition(new_item.instrument_version).items[0].text["da"] == "Licenseret tekst"
        # ...while the first invitation, and what it stores, keeps version 1.0 as frozen.
        assert link.invitation.items[0].instrument_version_id == old_version.id
        assert definition(old_version).items[0].text["da"] == "Personligt (personlig trivsel)"

        # Editing a pack without a new version number is refused.
        app.extensions.pop("feedback.instruments")
        app.config["FEEDBACK_INSTRUMENTS_DIR"] = str(_override_dir(tmp_path, "1.0", "Ændret"))
        with pytest.raises(Invalid, match="pack_changed_without_version"):
            f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case))
    finally:
        app.extensions.pop("feedback.instruments", None)
        app.config["FEEDBACK_INSTRUMENTS_DIR"] = ""
    assert db.session.scalar(select(Response)) is None


def _edited_ors(tmp_path: Path, version: str = "1.0") -> Path:
    return _override_dir(tmp_path, version, "Redigeret uden nyt versionsnummer")


def test_check_refuses_an_override_with_a_shipped_id_and_version_but_other_wording(app, db,
                                                                                     tmp_path):
    """Refused by the check, before any caseworker invites with it."""
    result = app.test_cli_runner().invoke(args=["instruments", "check",
                                                str(_edited_ors(tmp_path))])
    assert result.exit_code == 1
    assert "ors 1.0: differs from the shipped pack of the same id and version" in result.output


def test_check_compares_with_the_versions_frozen_in_the_database(app, db, tmp_path):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case))  # freezes ors 1.0
    # An organisation's own pack, frozen, then edited in place without a new version.
    directory = tmp_path / "own"
    directory.mkdir()
    text = (SHIPPED / "ors.toml").read_text().replace('id = "ors"', 'id = "ors-dk"')
    (directory / "ors.toml").write_text(text)
    app.extensions.pop("feedback.instruments", None)
    app.config["FEEDBACK_INSTRUMENTS_DIR"] = str(directory)
    try:
        f.invite(w.anna, f.meeting(w.anna, the_case), f.child_of(the_case), ["ors-dk"])
        assert check_installation() == []
        (directory / "ors.toml").write_text(text.replace("Personligt (personlig trivsel)",
                                                         "Ændret"))
        problems = check_installation()
        assert len(problems) == 1
        assert problems[0].startswith("ors-dk 1.0: differs from the version frozen in the "
                                      "database on 2026-03-11")
        result = app.test_cli_runner().invoke(args=["instruments", "check"])
        assert result.exit_code == 1 and "ors-dk 1.0: differs" in result.output
        with_new_version = text.replace('version = "1.0"', 'version = "1.1"').replace(
            "Personligt (personlig trivsel)", "Ændret")
        (directory / "ors.toml").write_text(with_new_version)
        assert check_installation() == []
    finally:
        app.extensions.pop("feedback.instruments", None)
        app.config["FEEDBACK_INSTRUMENTS_DIR"] = ""


def test_check_reports_every_broken_pack_not_just_the_first(app, db, tmp_path):
    (tmp_path / "a.toml").write_text('id = "a"\n')
    (tmp_path / "b.toml").write_text("not toml [")
    problems = check_installation(tmp_path)
    assert [p.split(":")[0] for p in problems] == [str(tmp_path / "a.toml"),
                                                   str(tmp_path / "b.toml")]
    result = app.test_cli_runner().invoke(args=["instruments", "check", str(tmp_path)])
    assert result.exit_code == 1 and "2 problem(s)" in result.output


def test_an_id_with_a_trailing_newline_is_no_separate_pack(db, tmp_path):
    text = (SHIPPED / "ors.toml").read_text().replace('id = "ors"', 'id = "ors\\n"')
    (tmp_path / "ors-nl.toml").write_text(text)
    problems = check_installation(tmp_path)
    assert len(problems) == 1 and "id: use lower-case letters" in problems[0]


def test_gunicorn_refuses_to_start_with_a_broken_pack_directory(tmp_path):
    """The master checks the packs once, before any worker, and says what is wrong."""
    root = Path(__file__).resolve().parents[2]
    (tmp_path / "broken.toml").write_text('id = "broken"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    env.update({"FEEDBACK_INSTRUMENTS_DIR": str(tmp_path), "FEEDBACK_BIND": "127.0.0.1:0",
                "FEEDBACK_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "FEEDBACK_SECRET_KEY": "x" * 32, "FEEDBACK_PSEUDONYM_KEY": "y" * 32,
                "FEEDBACK_WORKERS": "1"})
    bin_dir = Path(sys.executable).parent
    # A database that fits the code, so the packs are what stops the start.
    subprocess.run([str(bin_dir / "flask"), "--app", "feedback", "db", "upgrade"], cwd=root,
                   env=env, capture_output=True, text=True, timeout=60, check=True)
    done = subprocess.run(
        [str(bin_dir / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "feedback:create_app()"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    assert done.returncode == 78  # EX_CONFIG: systemd does not restart on it
    assert f"{tmp_path / 'broken.toml'}: version: is missing" in output
    assert "Not starting" in output
    assert "Booting worker" not in output
