"""Parsing submitted values strictly into tenths, and totals that never impute."""

import pytest

from feedback.instruments.loader import load_packs
from feedback.instruments.schema import ResponseSpec
from feedback.instruments.scoring import ItemAnswer, ValueRefused, parse_value, total_tenths

LINE = ResponseSpec(kind="line", min=0, max=10, step_tenths=1, low={}, high={})
SMILEY = ResponseSpec(kind="smiley", min=1, max=10, step_tenths=10, low={}, high={})


@pytest.mark.parametrize("raw, tenths", [("0", 0), ("0.0", 0), ("7.3", 73), ("10", 100),
                                         ("10.0", 100), ("0.1", 1), ("05", 50)])
def test_line_values_become_tenths(raw, tenths):
    assert parse_value(raw, LINE) == ItemAnswer(tenths)


@pytest.mark.parametrize("raw, reason", [
    ("-1", "format"), ("11", "range"), ("10.05", "format"), ("10.1", "range"), ("NaN", "format"),
    ("1e1", "format"), ("", "missing"), (" 5", "format"), ("5,5", "format"), ("inf", "format"),
    ("٣", "format"), ("7.", "format"), (".5", "format"), ("0x5", "format"), ("100", "format"), ("5\n", "format"),
])
def test_line_refuses_anything_else(raw, reason):
    with pytest.raises(ValueRefused) as refused:
        parse_value(raw, LINE)
    assert refused.value.reason == reason


@pytest.mark.parametrize("raw, reason", [("1.5", "format"), ("0", "range"), ("11", "range")])
def test_whole_number_scale_refuses_decimals_and_out_of_range(raw, reason):
    with pytest.raises(ValueRefused) as refused:
        parse_value(raw, SMILEY)
    assert refused.value.reason == reason


def test_skip_is_recorded_as_missing_never_zero():
    assert parse_value("skipped", LINE) == ItemAnswer(None, "skipped")


def test_dont_know_only_where_the_pack_allows_it():
    with pytest.raises(ValueRefused):
        parse_value("dont_know", LINE)
    allowing = ResponseSpec(kind="line", min=0, max=10, step_tenths=1, low={}, high={},
                            dont_know=True)
    assert parse_value("dont_know", allowing) == ItemAnswer(None, "dont_know")


def test_total_is_an_exact_sum_and_none_when_an_item_was_skipped():
    ors = load_packs()["ors"]
    values = {"individually": 73, "interpersonally": 1, "socially": 100, "overall": 26}
    answers = {k: ItemAnswer(v) for k, v in values.items()}
    assert total_tenths(ors, answers) == 200
    answers["socially"] = ItemAnswer(None, "skipped")
    assert total_tenths(ors, answers) is None
