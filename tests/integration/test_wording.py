"""Who a questionnaire is about, in the respondent's own words (decision 32), and new
pack versions for changed wording over a database that froze the old ones."""

import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from feedback.models import InstrumentVersion
from feedback.services import cases
from tests import factories as f
from tests.conftest import hidden_inputs

OLD_RULER = Path(__file__).parent.parent / "data" / "child-ruler-1.0.toml"


def _page(client, token) -> str:
    assert client.get(f"/r/{token}").status_code == 303
    return client.get("/r/").get_data(as_text=True)


def _answer(client, token, values) -> None:
    page = _page(client, token)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    assert client.post(action, data={**hidden_inputs(page), **values}).status_code == 303


@pytest.fixture
def people(db):
    w = f.world()
    the_case = f.case(w.anna, w.north)
    staff = f.actor(w.anna)
    return w, the_case, f.meeting(w.anna, the_case), {
        "child": f.child_of(the_case),
        "mother": cases.add_participant(staff, the_case, "mother"),
        "network": cases.add_participant(staff, the_case, "network", "Lærer"),
    }


def test_the_child_ruler_speaks_to_a_child_about_themself(app, people):
    w, _, meeting, p = people
    page = _page(app.test_client(), f.invite(w.anna, meeting, p["child"], ["child-ruler"]).token)
    assert "Hvordan har du det lige nu?" in page
    assert "Spørgsmålene handler om dig." in page
    assert "Meget dårligt" in page and "Rigtig godt" in page
    assert "barnet" not in page and "Truet" not in page


def test_a_parent_reads_that_the_questions_are_about_their_child(app, people):
    w, _, meeting, p = people
    link = f.invite(w.anna, meeting, p["mother"], ["child-ruler", "ors"])
    client = app.test_client()
    ruler_or_ors = _page(client, link.token)
    # The bundle is ordered by timing; both are "before", so the chosen order stays.
    assert "Spørgsmålene handler om dit barn" in ruler_or_ors
    assert "Hvor godt har dit barn det lige nu?" in ruler_or_ors
    assert "Truet" not in ruler_or_ors
    _answer(client, link.token, {"wellbeing": "7"})
    ors = client.get("/r/").get_data(as_text=True)
    assert 'name="individually"' in ors and "Spørgsmålene handler om dit barn" in ors


def test_a_parent_rating_themself_reads_that_it_is_about_them(app, db, people):
    w, _, meeting, p = people
    from feedback.services import invitations
    link = invitations.invite(f.actor(w.anna), meeting, p["mother"], ["ors"], "self")
    page = _page(app.test_client(), link.token)
    assert "Spørgsmålene handler om dig selv" in page and "dit barn" not in page


def test_a_professional_keeps_the_plain_words_about_the_child(app, people):
    w, _, meeting, p = people
    page = _page(app.test_client(),
                 f.invite(w.anna, meeting, p["network"], ["child-ruler", "srs"]).token)
    assert "Spørgsmålene handler om barnet" in page
    assert "Hvor godt har barnet det lige nu?" in page and "Truet" in page


def test_english_follows_the_same_rules(client, people):
    w, _, meeting, p = people
    _page(client, f.invite(w.anna, meeting, p["mother"], ["child-ruler"]).token)
    assert client.post("/r/language", data={"locale": "en"}).status_code == 303
    page = client.get("/r/").get_data(as_text=True)
    assert "The questions are about your child" in page
    assert "How well is your child doing right now?" in page


def test_a_database_with_the_old_version_frozen_starts_and_keeps_old_answers(
        app, client, db, people, tmp_path):
    """child-ruler 1.0 was frozen and answered before the upgrade to 1.1."""
    w, the_case, meeting, p = people
    old = tmp_path / "old"
    old.mkdir()
    (old / "child-ruler.toml").write_text(OLD_RULER.read_text(encoding="utf-8"))
    app.extensions.pop("feedback.instruments", None)
    app.config["FEEDBACK_INSTRUMENTS_DIR"] = str(old)
    try:
        before = f.invite(w.anna, meeting, p["child"], ["child-ruler"])
        page = _page(app.test_client(), before.token)
        assert "Hvor godt har barnet det lige nu?" in page  # the old wording, as it was
        _answer(app.test_client(), before.token, {"wellbeing": "4"})
    finally:
        app.extensions.pop("feedback.instruments", None)
        app.config["FEEDBACK_INSTRUMENTS_DIR"] = ""

    # The upgraded service starts on this database: the packs pass the check
    # against what is frozen, and so does the start-up check.
    frozen = db.session.scalars(select(InstrumentVersion.version).where(
        InstrumentVersion.key == "child-ruler")).all()
    assert frozen == ["1.0"]
    result = app.test_cli_runner().invoke(args=["instruments", "check"])
    assert result.exit_code == 0, result.output

    # New links use 1.1, with the new wording.
    later = f.meeting(w.anna, the_case, type="follow_up")
    after = f.invite(w.anna, later, p["child"], ["child-ruler"])
    assert after.invitation.items[0].instrument_version.version == "1.1"
    assert "Hvordan har du det lige nu?" in _page(app.test_client(), after.token)
    _answer(app.test_client(), after.token, {"wellbeing": "8"})

    # The old answer still shows, in its own version, next to the new one.
    f.login(client, w.anna)
    meeting_page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Børnelinealen ✓" in meeting_page
    client.post("/logout")
    f.login(client, w.ali)
    rows = list(csv.DictReader(io.StringIO(
        client.get("/reports/export.csv").get_data(as_text=True))))
    ruler = sorted((r["instrument_version"], r["value"]) for r in rows
                   if r["instrument"] == "child-ruler")
    assert ruler == [("1.0", "4.0"), ("1.1", "8.0")]
