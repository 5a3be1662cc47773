"""Instrument packs load, validate and freeze."""

import textwrap

import pytest

from feedback.instruments.loader import load_pack, load_packs
from feedback.instruments.schema import Instrument, PackError


def test_shipped_ors_pack_states_its_structure():
    ors = load_packs()["ors"]
    assert ors.family == "outcome" and ors.timing == "before"
    assert [i.key for i in ors.items] == ["individually", "interpersonally", "socially", "overall"]
    assert all(i.response.kind == "line" and i.response.step_tenths == 1 for i in ors.items)
    assert ors.total_max_tenths == 400
    assert ors.reliable_change_tenths == 50


@pytest.mark.parametrize("age, cutoff", [(None, 250), (30, 250), (17, 280), (13, 280),
                                         (12, 320), (6, 320), (5, None)])
def test_ors_cutoff_follows_the_subjects_age(age, cutoff):
    assert load_packs()["ors"].cutoff_for(age) == cutoff


def test_frozen_definition_round_trips_exactly():
    ors = load_packs()["ors"]
    again = Instrument.from_json(ors.to_json())
    assert again == ors and again.digest == ors.digest


MINIMAL = """
id = "mini"
version = "1"
family = "custom-one"
respondents = ["mother"]
ages = { min = 18 }
timing = "after"
title = { da = "Titel", en = "Title" }
intro = { da = "Intro", en = "Intro" }
[response]
type = "line"
min = 0
max = 10
step = 0.1
low = { da = "lav", en = "low" }
high = { da = "høj", en = "high" }
[scoring]
total = "sum"
[[items]]
key = "one"
text = { da = "Et", en = "One" }
"""


def write(tmp_path, text, name="pack.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_minimal_custom_pack_loads(tmp_path):
    pack = load_pack(write(tmp_path, MINIMAL))
    assert pack.id == "mini" and pack.items[0].response.max == 10


@pytest.mark.parametrize("change, problem", [
    (('id = "mini"', 'id = "Mini Pack"'), "id: use lower-case"),
    (('family = "custom-one"', ''), "family: is missing"),
    (('timing = "after"', 'timing = "later"'), "timing: must be one of before, during, after"),
    (('title = { da = "Titel", en = "Title" }', 'title = { da = "Titel" }'), "title.en: text is missing"),
    (('max = 10', 'max = 12'), "items[0].response.min: range must satisfy"),
    (('step = 0.1', 'step = 0.5'), "items[0].response.step: must be 0.1 or 1"),
    (('type = "line"', 'type = "slider"'), "items[0].response.type: must be one of"),
    (('total = "sum"', 'total = "product"'), "scoring.total: must be one of sum, mean, none"),
    (('respondents = ["mother"]', 'respondents = ["aunt"]'), "respondents: unknown respondent 'aunt'"),
    (('ages = { min = 18 }', 'ages = { min = 18, max = 4 }'), "ages: min is above max"),
])
def test_broken_packs_fail_naming_file_field_and_problem(tmp_path, change, problem):
    path = write(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(PackError) as error:
        load_pack(path)
    assert str(path) in str(error.value)
    assert problem in str(error.value)


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path, "id = \n")
    with pytest.raises(PackError, match="not valid TOML") as error:
        load_pack(path)
    assert str(path) in str(error.value)


def test_duplicate_item_keys_are_refused(tmp_path):
    text = MINIMAL + '\n[[items]]\nkey = "one"\ntext = { da = "To", en = "Two" }\n'
    with pytest.raises(PackError, match=r"items\[1\].key: 'one' is used twice"):
        load_pack(write(tmp_path, text))


def test_an_organisation_pack_overrides_the_shipped_one(tmp_path):
    text = MINIMAL.replace('id = "mini"', 'id = "ors"').replace('version = "1"', 'version = "2-licensed"')
    write(tmp_path, text, "ors-licensed.toml")
    packs = load_packs(tmp_path)
    assert packs["ors"].version == "2-licensed"


@pytest.mark.parametrize(("field", "value"), [
    ("id", "mini\n"), ("id", "mini\nother"), ("version", "1\n"), ("family", "custom-one\n"),
])
def test_ids_and_versions_must_match_whole(tmp_path, field, value):
    """A trailing newline once made "ors\\n" a pack of its own."""
    old = {"id": 'id = "mini"', "version": 'version = "1"',
           "family": 'family = "custom-one"'}[field]
    escaped = value.replace("\n", "\\n")
    path = write(tmp_path, MINIMAL.replace(old, f'{field} = "{escaped}"'))
    with pytest.raises(PackError, match=f"{field}: "):
        load_pack(path)


def test_theme_keys_must_match_whole(tmp_path):
    text = MINIMAL + '\ntheme = "t"\n[[themes]]\nkey = "t\\n"\nlabel = { da = "T", en = "T" }\n'
    with pytest.raises(PackError, match=r"themes\[0\]\.key"):
        load_pack(write(tmp_path, text))
