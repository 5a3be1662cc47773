"""The family's drawing on constructed series: gaps, change bands, labels kept apart."""

import uuid
from datetime import date, timedelta

from feedback.cases import family_chart
from feedback.instruments.loader import load_packs
from feedback.services.trajectories import CaseTrajectories, MeetingPoint, Rating, Trajectory

PACKS = load_packs()
MEETINGS = [MeetingPoint(uuid.uuid4(), date(2026, 1, 5) + timedelta(weeks=3 * n), n + 1)
            for n in range(5)]


def _trajectory(role, values, pack="cors"):
    """``values`` per meeting; ``None`` where the respondent gave no answer."""
    t = Trajectory(uuid.uuid4(), role, None, "outcome", cutoff_tenths=320)
    for meeting, value in zip(MEETINGS, values, strict=True):
        if value is not None:
            t.ratings.append(Rating(meeting, round(value * 10), PACKS[pack]))
    return t


def _draw(*trajectories, chosen=None, stretch=1.0):
    data = CaseTrajectories(MEETINGS, {"outcome": list(trajectories)})
    ids = chosen if chosen is not None else [t.participant_id for t in trajectories]
    return family_chart.drawing(family_chart.family_graph(data, ids), stretch)


def test_only_the_chosen_lines_are_drawn():
    child = _trajectory("child", [15, 18, 20, 22, 24])
    mother = _trajectory("mother", [19, 20, 21, 22, 25], pack="ors")
    drawn = _draw(child, mother, chosen=[child.participant_id])
    assert [role for role, _dots in drawn.dots] == ["child"]
    assert {s.role for s in drawn.segments} == {"child"}
    assert [b.role for b in drawn.bands] == ["child"]


def test_a_missed_meeting_breaks_the_line_with_a_dashed_connector():
    mother = _trajectory("mother", [19, 20, None, 22, 25], pack="ors")
    drawn = _draw(mother)
    assert [s.gap for s in drawn.segments] == [False, True, False]
    assert len(drawn.dots[0][1]) == 4


def test_a_single_rating_has_a_point_a_band_and_no_line():
    drawn = _draw(_trajectory("child", [None, None, None, None, 20]))
    assert drawn.segments == [] and len(drawn.dots[0][1]) == 1
    (band,) = drawn.bands
    # ±5 around the first score (20): from 15 to 25 on the 0–40 scale.
    span = drawn.bottom - drawn.top
    assert round(band.y_top, 1) == round(drawn.bottom - span * 25 / 40, 1)
    assert round(band.y_bottom, 1) == round(drawn.bottom - span * 15 / 40, 1)


def test_the_faces_version_is_hollow_and_the_band_starts_at_the_first_scaled_score():
    child = _trajectory("child", [20, 24, None, None, None], pack="ycors")
    child.ratings.append(Rating(MEETINGS[2], 300, PACKS["cors"]))
    drawn = _draw(child)
    assert [d.hollow for d in drawn.dots[0][1]] == [True, True, False]
    (band,) = drawn.bands
    span = drawn.bottom - drawn.top
    assert round(band.y_top, 1) == round(drawn.bottom - span * 35 / 40, 1)


def test_close_labels_are_moved_apart_the_lower_below_its_point():
    child = _trajectory("child", [15, 18, 20, 22, 24])
    mother = _trajectory("mother", [19, 20, 21, 22, 25], pack="ors")
    drawn = _draw(child, mother)
    by_role = {label.role: label for label in drawn.labels}
    child_dot = drawn.dots[0][1][-1]
    assert by_role["child"].y > child_dot.y  # below the child's last point
    assert by_role["mother"].y < drawn.dots[1][1][-1].y  # above the mother's


def test_the_upright_drawing_is_taller_with_the_same_points_in_order():
    child = _trajectory("child", [15, 18, 20, 22, 24])
    wide, tall = _draw(child), _draw(child, stretch=2.2)
    assert tall.height > 1.8 * wide.height
    assert [d.x for d in tall.dots[0][1]] == [d.x for d in wide.dots[0][1]]
    assert [d.y for d in tall.dots[0][1]] == sorted((d.y for d in tall.dots[0][1]), reverse=True)
