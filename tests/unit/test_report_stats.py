"""The reports' statistics against values computed by hand or published elsewhere."""

from __future__ import annotations

import math
from datetime import date

import pytest

from feedback.services.errors import Invalid
from feedback.services.reports import stats
from feedback.services.reports.common import Option, Periods, parse_options
from feedback.services.reports.likert import parse_waves
from feedback.services.reports.outcome import Episode, figures


def test_mean_and_sample_standard_deviation_by_hand():
    assert stats.mean([20, 30, 28]) == 26
    # deviations -6, 4, 2: squares 56, divided by n - 1 = 2: variance 28
    assert stats.sample_sd([20, 30, 28]) == pytest.approx(math.sqrt(28), abs=1e-12)
    assert stats.sd_from_sums(3, 78, 400 + 900 + 784) == pytest.approx(math.sqrt(28), abs=1e-9)
    assert stats.sample_sd([5]) is None and stats.mean([]) is None
    assert stats.share(1, 3) == pytest.approx(1 / 3) and stats.share(1, 0) is None


def test_effect_size_is_mean_change_over_the_sd_of_first_totals():
    # changes 13, -6, 3 → mean 10/3; firsts 20, 30, 28 → sd √28
    assert stats.effect_size([13, -6, 3], [20, 30, 28]) == pytest.approx(
        (10 / 3) / math.sqrt(28), abs=1e-12)
    assert stats.effect_size([4], [20]) is None  # one episode: no spread
    assert stats.effect_size([1, 2], [20, 20]) is None  # no spread at all


def test_percentiles_interpolate_linearly_like_percentile_cont():
    values = [15, 20, 35, 40, 50]
    assert stats.percentile(values, 0.5) == 35
    assert stats.percentile(values, 0.4) == pytest.approx(29.0)  # 20 + 0.6 × 15
    assert stats.percentile(values, 0.0) == 15 and stats.percentile(values, 1.0) == 50
    assert stats.percentile([], 0.5) is None


@pytest.mark.parametrize(("a", "b", "x", "expected"), [
    (2, 3, 0.4, 0.5248),  # binomial sum: 6·.4²·.6² + 4·.4³·.6 + .4⁴
    (1, 1, 0.3, 0.3),  # uniform
    (5, 1, 0.7, 0.7 ** 5),  # I_x(a, 1) = x^a
    (1, 4, 0.2, 1 - 0.8 ** 4),  # I_x(1, b) = 1 − (1 − x)^b
    (10, 10, 0.5, 0.5),  # symmetry
    (0.5, 0.5, 0.5, 0.5),
])
def test_regularised_incomplete_beta_against_closed_forms(a, b, x, expected):
    assert stats.betainc(a, b, x) == pytest.approx(expected, abs=1e-12)


def test_t_distribution_p_values_against_tables():
    assert stats.t_two_sided_p(1.0, 1) == pytest.approx(0.5, abs=1e-12)  # Cauchy
    assert stats.t_two_sided_p(2.228138852, 10) == pytest.approx(0.05, abs=1e-8)
    assert stats.t_two_sided_p(1.959963985, 1e7) == pytest.approx(0.05, abs=1e-6)
    assert stats.t_two_sided_p(0.0, 7) == pytest.approx(1.0)


def test_welch_against_the_published_sleep_example():
    # R: t.test(extra ~ group, data = sleep) → t = -1.8608, df = 17.776, p-value = 0.07939
    one = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    two = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    t, df, p = stats.welch(one, two)
    assert t == pytest.approx(-1.8608, abs=5e-5)
    assert df == pytest.approx(17.776, abs=5e-4)
    assert p == pytest.approx(0.07939, abs=5e-6)
    assert stats.welch([1.0], two) is None and stats.welch([2, 2], [2, 2]) is None


def _episode(first, last, totals=2, cut_first=320, cut_last=320):
    return Episode("c", "child", "Nord", date(2025, 4, 1), None, date(2025, 4, 1), totals,
                   totals, first, last, cut_first, cut_last)


def test_cohort_figures_by_hand():
    group = [_episode(200, 330), _episode(300, 240), _episode(280, 310),
             _episode(250, None, totals=1), _episode(None, None, totals=0)]
    result = figures(group)
    assert result["episodes"] == 5 and result["two_or_more"] == 3
    assert result["mean_first"] == pytest.approx(26.0)
    assert result["mean_last"] == pytest.approx(88 / 3)
    assert result["mean_change"] == pytest.approx(10 / 3)
    assert result["effect_size"] == pytest.approx((10 / 3) / math.sqrt(28), abs=1e-12)
    assert result["improved"] == pytest.approx(1 / 3)  # +13
    assert result["deteriorated"] == pytest.approx(1 / 3)  # −6
    assert result["crossed"] == pytest.approx(1 / 3)  # 20 → 33 over 32


def test_reliable_change_is_five_points_inclusive():
    result = figures([_episode(200, 250), _episode(300, 250), _episode(200, 249)])
    assert result["improved"] == pytest.approx(1 / 3)
    assert result["deteriorated"] == pytest.approx(1 / 3)


def test_cut_off_crossing_uses_each_ratings_own_cut_off():
    # 13 at the first rating (cut-off 28), 18 at the last (adult 25): 27 → 26 crosses nothing,
    # 27 → 28 with cut-offs 28 then 25 crosses; episodes without a cut-off are not counted.
    result = figures([_episode(270, 260, cut_first=280, cut_last=250),
                      _episode(270, 280, cut_first=280, cut_last=300),
                      _episode(100, 300, cut_first=None, cut_last=None)])
    assert result["crossed"] == pytest.approx(1 / 2)


def test_half_years_from_an_anchor():
    halves = Periods("half", "04-01")
    assert halves.start_of(date(2025, 3, 31)) == date(2024, 10, 1)
    assert halves.start_of(date(2025, 4, 1)) == date(2025, 4, 1)
    assert halves.start_of(date(2025, 12, 31)) == date(2025, 10, 1)
    assert halves.between(date(2025, 5, 1), date(2026, 1, 1)) == [
        (date(2025, 4, 1), date(2025, 10, 1)), (date(2025, 10, 1), date(2026, 4, 1))]
    assert Periods("quarter").start_of(date(2026, 3, 11)) == date(2026, 1, 1)
    assert Periods("year", "09-15").start_of(date(2026, 3, 11)) == date(2025, 9, 15)


def test_options_are_parsed_strictly():
    options = (Option("cohort", "", "choice", "half", ("quarter", "half")),
               Option("anchor", "", "anchor", "01-01"), Option("weeks", "", "int", 8, minimum=1, maximum=52),
               Option("closed_by", "", "date"))
    assert parse_options(options, {}) == {"cohort": "half", "anchor": "01-01", "weeks": 8,
                                          "closed_by": None}
    assert parse_options(options, {"anchor": "04-01", "weeks": "12"})["weeks"] == 12
    for bad in ({"cohort": "decade"}, {"anchor": "4-1"}, {"anchor": "02-30"},
                {"weeks": "0"}, {"weeks": "1e1"}, {"closed_by": "2025-13-01"},
                {"cohort": ["half", "quarter"]}):
        with pytest.raises(Invalid) as caught:
            parse_options(options, bad)
        assert caught.value.details["field"] == next(iter(bad))


def test_waves_are_named_periods_that_do_not_overlap():
    assert parse_waves("baseline=2025-01-01..2025-06-30; follow-up=2025-07-01..2025-12-31") == [
        ("baseline", date(2025, 1, 1), date(2025, 6, 30)),
        ("follow-up", date(2025, 7, 1), date(2025, 12, 31))]
    for bad in ("a=2025-01-01..2024-01-01", "a=2025-01-01", "a=2025-01-01..2025-06-30\n"
                "b=2025-06-30..2025-12-31", "a=2025-01-01..2025-02-01;a=2025-03-01..2025-04-01"):
        with pytest.raises(Invalid):
            parse_waves(bad)


def test_secondary_suppression_hides_the_smallest_other_cell_of_a_total():
    from feedback.services.exports.filters import DataFilters
    from feedback.services.reports import suppression
    from feedback.services.reports.common import COUNT, NUMBER, Column, Report, Table

    columns = (Column("team", "team"), Column("n", "n", COUNT), Column("mean", "m", NUMBER))
    table = Table("t", "", columns, [("Nord", 3, 7.0), ("Syd", 6, 8.0), ("Vest", 9, 6.0),
                                     ("Alle", 18, 7.0)],
                  children=[3, 6, 9, 18], groups=["x"] * 4, totals={3})
    report = Report("r", "", [], DataFilters(), {}, [], [], [table])
    assert suppression.apply(report, 5) == 2
    assert table.rows == [("Nord", "<5", "<5"), ("Syd", "<5", "<5"), ("Vest", 9, 6.0),
                          ("Alle", 18, 7.0)]
    assert report.threshold == 5 and report.suppressed == 2
