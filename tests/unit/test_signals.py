"""The signal rules on constructed episodes: totals in tenths, (total, psychometric) pairs."""

import pytest

from feedback.instruments import signals
from feedback.instruments.loader import load_packs


def ep(*totals, faces=()):
    """An episode's ratings; positions in ``faces`` come from a faces version."""
    return [(t, n not in faces) for n, t in enumerate(totals)]


def kinds(found):
    return [s.kind for s in found]


# --- not on track and fallen (per episode, counted ratings) -----------------------------

def test_one_rating_raises_nothing():
    assert signals.outcome_signals(ep(100)) == []
    assert signals.outcome_signals([]) == []


def test_not_on_track_only_from_the_fourth_rating():
    assert signals.outcome_signals(ep(200, 210, 220)) == []  # three ratings: too early
    found = signals.outcome_signals(ep(200, 210, 220, 240))  # +4.0 < +5.0
    assert kinds(found) == ["not_on_track"]
    assert found[0].rating == 4 and found[0].change_tenths == 40


def test_a_reliable_improvement_of_exactly_five_is_on_track():
    assert signals.outcome_signals(ep(200, 210, 220, 250)) == []
    assert kinds(signals.outcome_signals(ep(200, 210, 220, 249))) == ["not_on_track"]


def test_the_number_of_ratings_is_configurable():
    assert kinds(signals.outcome_signals(ep(200, 210), after=2)) == ["not_on_track"]
    assert signals.outcome_signals(ep(200, 210, 220, 230), after=5) == []


def test_fallen_whenever_a_total_is_at_or_below_first_minus_five():
    assert kinds(signals.outcome_signals(ep(250, 200))) == ["fallen"]  # second rating already
    assert signals.outcome_signals(ep(250, 201)) == []  # −4.9 is not reliable
    assert kinds(signals.outcome_signals(ep(250, 240, 230, 190))) == ["fallen", "not_on_track"]
    assert signals.falls(ep(250, 200, 260, 190)) == [False, True, False, True]


def test_faces_versions_never_trigger_and_do_not_count():
    # A YCORS 30.0 first, then CORS: the first counted total is 20.0, not 30.0.
    series = ep(300, 200, 210, 220, 230, faces={0})
    assert signals.counted(series) == [200, 210, 220, 230]
    assert kinds(signals.outcome_signals(series)) == ["not_on_track"]  # 4 counted, +3.0
    assert signals.falls(series) == [False] * 5
    # A faces total far below the first is not a fall.
    assert signals.outcome_signals(ep(250, 100, faces={1})) == []
    assert signals.falls(ep(250, 100, faces={1})) == [False, False]


def test_a_skipped_item_leaves_no_total_and_does_not_count():
    series = ep(200, None, 205, 210)
    assert signals.counted(series) == [200, 205, 210]
    assert signals.outcome_signals(series) == []  # three counted ratings only
    assert signals.falls(ep(250, None, 190)) == [False, False, True]


def test_an_adults_rating_of_a_child_is_its_own_episode_with_the_childs_cutoff():
    ors = load_packs()["ors"]
    # The mother rates her 9-year-old: the cut-off for 6–12, not the adult 25.
    assert signals.cutoff_tenths(ors, subject="child", role="mother", child_age=9) == 320
    assert signals.cutoff_tenths(ors, subject="self", role="mother", child_age=9) == 250
    # Her episode is judged on her own totals, whatever the child's say.
    child, mother = ep(200, 260, 270, 280), ep(200, 200, 200, 200)
    assert signals.outcome_signals(child) == []
    assert kinds(signals.outcome_signals(mother)) == ["not_on_track"]


# --- the session scales -------------------------------------------------------------------

def test_session_low_under_the_cutoff_and_fall_of_one_point():
    flags = signals.session_flags(ep(380, 370, 360, 355, 350), 360)
    assert flags == [set(), {"fall"}, {"fall"}, {"low"}, {"low"}]
    assert kinds(signals.session_signals(ep(380, 370), 360)) == ["fall"]
    assert kinds(signals.session_signals(ep(380, 340), 360)) == ["low", "fall"]
    assert signals.session_signals(ep(380, 371), 360) == []  # 0.9 is not a fall


def test_session_without_a_cutoff_only_falls_count():
    assert signals.session_signals(ep(200), None) == []  # CSRS: no published cut-off
    assert kinds(signals.session_signals(ep(380, 360), None)) == ["fall"]


def test_session_faces_and_skips_are_passed_over():
    # A YCSRS total never triggers; the fall compares with the previous counted rating.
    assert signals.session_flags(ep(380, 100, 375, faces={1}), 360) == [set(), set(), set()]
    assert signals.session_flags(ep(380, None, 365), 360) == [set(), set(), {"fall"}]
    assert signals.session_signals(ep(100, faces={0}), 360) == []


def test_items_below_the_threshold_skips_are_not_below():
    values = [("relationship", 95), ("goals", 85), ("approach", None), ("overall", 90)]
    assert signals.items_below(values, 90) == ["goals"]
    assert signals.items_below(values, None) == []


def test_smiley_shares_count_answers_not_skips():
    assert signals.shares([100, 90, 80, 30, None]) == (4, 0.5, 0.25)
    assert signals.shares([None]) == (0, None, None)


def test_ruler_concern_below_five_and_a_half():
    assert signals.ruler_concern(50, 55) and not signals.ruler_concern(60, 55)
    assert not signals.ruler_concern(None, 55) and not signals.ruler_concern(10, None)


# --- the expected range -------------------------------------------------------------------

def test_percentile_interpolates_between_closest_ranks():
    assert signals.percentile([1, 2, 3, 4], 25) == pytest.approx(1.75)
    assert signals.percentile([1, 2, 3, 4], 75) == pytest.approx(3.25)
    assert signals.percentile([7], 25) == 7
    with pytest.raises(ValueError):
        signals.percentile([], 50)


def test_first_band_is_five_points_wide():
    assert [signals.first_band(t) for t in (0, 49, 50, 199, 200, 400)] == [0, 0, 1, 3, 4, 8]


def _episodes(n, first=200, step=10, length=3):
    return [[first + k % 5] + [first + step * j + k for j in range(1, length)] for k in range(n)]


def test_no_range_below_thirty_closed_episodes():
    assert signals.expected_ranges(_episodes(29)) == []
    # Episodes with one total do not count towards the thirty.
    assert signals.expected_ranges(_episodes(29) + [[200]] * 5) == []
    assert signals.expected_ranges(_episodes(30)) != []


def test_ranges_need_ten_episodes_with_a_kth_rating_in_the_same_band():
    episodes = _episodes(25, length=3) + _episodes(9, length=5) + _episodes(6, first=300)
    found = {(r.band, r.rating): r for r in signals.expected_ranges(episodes)}
    assert (4, 3) in found and found[(4, 3)].episodes == 34
    assert (4, 4) not in found  # only 9 episodes have a 4th rating
    assert (6, 1) not in found  # only 6 episodes start in the 30–34.9 band
    r = found[(4, 2)]
    seconds = sorted(e[1] for e in episodes if signals.first_band(e[0]) == 4)
    assert r.p25_tenths == pytest.approx(signals.percentile(seconds, 25))
    assert r.p75_tenths == pytest.approx(signals.percentile(seconds, 75))
