"""Wording per respondent kind in packs, and whom a page says the questions are about."""

import tomllib

import pytest

from feedback.instruments.loader import SHIPPED, load_packs
from feedback.instruments.schema import Instrument, PackError, validate_pack
from feedback.instruments.wording import about, respondent_kind


@pytest.mark.parametrize(("role", "subject", "kind"), [
    ("child", "self", "child"), ("child", "child", "child"),
    ("mother", "child", "parent"), ("father", "child", "parent"),
    ("other_carer", "child", "parent"), ("network", "child", "professional"),
    ("professional", "child", "professional"), ("mother", "self", None),
])
def test_the_kind_follows_role_and_subject(role, subject, kind):
    assert respondent_kind(role, subject) == kind


@pytest.mark.parametrize(("family", "role", "subject", "said"), [
    ("outcome", "child", "self", "you"), ("outcome", "mother", "child", "your_child"),
    ("outcome", "mother", "self", "yourself"), ("ruler", "network", "child", "the_child"),
    ("session", "father", "child", "meeting"), ("meeting-experience", "child", "self", "meeting"),
    ("coordination", "mother", "child", None),
])
def test_the_page_says_whom_the_questions_are_about(family, role, subject, said):
    assert about(family, role, subject) == said


def test_the_child_ruler_has_the_childs_words_and_keeps_scoring():
    ruler = load_packs()["child-ruler"]
    child = ruler.for_respondent("child")
    assert child.items[0].text["da"] == "Hvordan har du det lige nu?"
    assert child.items[0].response.low["da"] == "Meget dårligt"
    assert "barnet" not in str(child.to_json()["items"]) and "Truet" not in str(
        child.to_json()["items"])
    parent = ruler.for_respondent("parent")
    assert "dit barn" in parent.items[0].text["da"] and "dit barn" in parent.intro["da"]
    # Professionals have no wording of their own: the plain text, bands untouched.
    assert ruler.for_respondent("professional") is ruler and ruler.for_respondent(None) is ruler
    assert ruler.items[0].response.low["da"] == "Truet"
    assert child.bands == ruler.bands and child.version == ruler.version == "1.1"
    assert [i.response.allowed_tenths() for i in child.items] == [
        i.response.allowed_tenths() for i in ruler.items]


def test_wording_survives_freezing_and_old_definitions_have_none():
    ruler = load_packs()["child-ruler"]
    assert Instrument.from_json(ruler.to_json()) == ruler
    old = ruler.to_json()
    del old["wording"]  # a definition frozen before packs had wording
    assert Instrument.from_json(old).for_respondent("child").items[0].text == ruler.items[0].text


def _ruler_with(extra: str) -> dict:
    return tomllib.loads((SHIPPED / "child-ruler.toml").read_text() + extra)


@pytest.mark.parametrize(("extra", "problem"), [
    ('\n[wording.teacher]\nintro = { da = "x", en = "y" }\n', "unknown respondent kind 'teacher'"),
    ('\n[wording.professional]\nitems.nope = { da = "x", en = "y" }\n', "unknown item 'nope'"),
    ('\n[wording.professional]\nintro = { da = "x" }\n', "wording.professional.intro.en: text is missing"),
    ('\n[wording.professional]\nfooter = { da = "x", en = "y" }\n', "unknown text 'footer'"),
])
def test_wrong_wording_is_refused_naming_the_field(extra, problem):
    with pytest.raises(PackError) as error:
        validate_pack(_ruler_with(extra), "ruler.toml")
    assert problem in str(error.value)


def test_packs_declare_which_packs_ask_the_same_without_a_new_version():
    from feedback.instruments.picking import overlapping

    packs = load_packs()
    assert overlapping(packs, ["ors", "srs", "child-meeting"]) == [("srs", "child-meeting")]
    assert overlapping(packs, ["cors", "child-meeting", "csrs"]) == [("child-meeting", "csrs")]
    assert overlapping(packs, ["ors", "srs", "child-ruler"]) == []
    # Declaring overlaps guides the meeting page only: the wording's digest is unchanged,
    # so databases that froze child-meeting 1.0 before keep accepting it.
    raw = tomllib.loads((SHIPPED / "child-meeting.toml").read_text())
    without = {k: v for k, v in raw.items() if k != "overlaps"}
    assert validate_pack(without, "x").digest == packs["child-meeting"].digest
    with pytest.raises(PackError, match="overlaps: 'child-meeting' is not another pack's id"):
        validate_pack({**raw, "overlaps": ["child-meeting"]}, "x")
