"""Every shipped pack loads, and the version is picked by the respondent's age."""

import pytest

from feedback.instruments import picking
from feedback.instruments.loader import load_packs
from feedback.instruments.schema import Instrument

SHIPPED = {"ors", "srs", "cors", "csrs", "ycors", "ycsrs", "child-meeting", "child-ruler",
           "parent-coordination"}


def test_every_shipped_pack_loads_and_round_trips():
    packs = load_packs()
    assert set(packs) == SHIPPED
    for pack in packs.values():
        assert Instrument.from_json(pack.to_json()) == pack
        for item in pack.items:
            assert item.text["da"] and item.text["en"]


@pytest.mark.parametrize("family, role, age, expected", [
    ("outcome", "child", 4, "ycors"), ("outcome", "child", 9, "cors"),
    ("outcome", "child", 12, "cors"), ("outcome", "child", 13, "ors"),
    ("outcome", "child", 17, "ors"), ("outcome", "mother", None, "ors"),
    ("session", "child", 5, "ycsrs"), ("session", "child", 6, "csrs"),
    ("session", "father", None, "srs"), ("meeting-experience", "child", 10, "child-meeting"),
    ("meeting-experience", "mother", None, None), ("ruler", "network", None, "child-ruler"),
    ("coordination", "mother", None, "parent-coordination"), ("coordination", "child", 15, None),
])
def test_version_fits_the_respondent(family, role, age, expected):
    chosen = picking.pick(load_packs().values(), family, role, age)
    assert (chosen.id if chosen else None) == expected


def test_a_bundle_takes_the_fitting_versions_and_lets_an_explicit_version_override():
    packs = load_packs()
    # A 9-year-old: CORS and CSRS, and the smileys; a parent gets no smileys.
    assert picking.bundle(packs, ["outcome", "session", "meeting-experience"], "child", 9) == [
        "cors", "csrs", "child-meeting"]
    assert picking.bundle(packs, ["outcome", "meeting-experience"], "mother", None) == ["ors"]
    # Ticking ORS for the 9-year-old replaces the automatic CORS.
    assert picking.bundle(packs, ["outcome", "ors"], "child", 9) == ["ors"]
    with pytest.raises(picking.UnknownChoice):
        picking.bundle(packs, ["outcome", "no-such-pack"], "child", 9)


def test_young_child_versions_have_no_cutoff_and_no_psychometrics():
    packs = load_packs()
    for key in ("ycors", "ycsrs"):
        assert packs[key].psychometric is False
        assert packs[key].cutoff_for(4) is None
    assert packs["cors"].cutoff_for(9) == 320
    assert packs["srs"].cutoff_for(None) == 360
    assert packs["csrs"].cutoff_for(9) is None


def test_faces_allow_only_their_faces():
    faces = load_packs()["ycors"].items[0].response
    assert faces.allowed_tenths() == (0, 25, 50, 75, 100)


def test_ruler_bands_and_concern_threshold():
    from feedback.instruments.scoring import band_for

    ruler = load_packs()["child-ruler"]
    assert ruler.concern_below_tenths == 55
    assert [band_for(ruler, v).label["en"] for v in (10, 20, 30, 50, 60, 70, 80, 90, 100)] == [
        "Threatened", "Threatened", "At risk", "At risk", "Vulnerable", "Vulnerable",
        "Moderate well-being", "Moderate well-being", "Thriving"]


def test_parent_pack_themes_are_means_of_their_items():
    from feedback.instruments.scoring import ItemAnswer, theme_scores, total_tenths

    pack = load_packs()["parent-coordination"]
    assert len(pack.themes) == 6 and pack.items[0].response.dont_know
    answers = {i.key: ItemAnswer(60 if i.theme == "trust" else 20) for i in pack.items}
    assert theme_scores(pack, answers)["trust"] == 60
    assert theme_scores(pack, answers)["coherence"] == 20
    assert total_tenths(pack, answers) == round((2 * 60 + 10 * 20) / 12)
    answers["trust_1"] = ItemAnswer(None, "dont_know")
    assert theme_scores(pack, answers)["trust"] is None
