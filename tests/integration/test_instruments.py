"""Pack commands, organisation overrides, and frozen versions."""

from pathlib import Path

import pytest
from sqlalchemy import select

from feedback.instruments.loader import SHIPPED
from feedback.models import InstrumentVersion, Response
from feedback.services.errors import Invalid
from feedback.services.instruments import definition
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
