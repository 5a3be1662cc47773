"""The graphs' geometry on constructed trajectories (no app, no database)."""

import uuid
from datetime import date, timedelta

import pytest

from feedback.cases import charts
from feedback.instruments.loader import load_packs
from feedback.services.trajectories import (
    CaseTrajectories,
    ItemValue,
    MeetingPoint,
    Rating,
    Trajectory,
)

PACKS = load_packs()
DAYS = (0, 14, 28, 28 + 120, 28 + 134)  # a four-month pause before the 4th meeting


def meetings(days=DAYS):
    start = date(2025, 1, 6)
    return [MeetingPoint(uuid.uuid4(), start + timedelta(days=d), n)
            for n, d in enumerate(days, 1)]


def rating(m, pack_id, total, **kw):
    pack = PACKS[pack_id]
    items = tuple(ItemValue(i.key, None if total is None else total // len(pack.items))
                  for i in pack.items)
    return Rating(m, total, pack, items, **kw)


def series(role, family, ratings, cutoff=None):
    t = Trajectory(uuid.uuid4(), role, None, family, cutoff_tenths=cutoff)
    t.answered = list(ratings)
    t.ratings = [r for r in ratings if r.total_tenths is not None]
    return t


def options(**kw):
    kw.setdefault("notes", {})
    return charts.Options(role_name=str, text=lambda d: d.get("en", ""),
                          fmt=charts.Formatter(","), **kw)


def outcome(ms, *trajectories, **kw):
    data = CaseTrajectories(ms, {"outcome": list(trajectories)})
    return charts.outcome_chart(data, charts.TimeAxis(ms, charts.Formatter(",")), options(**kw))


def test_x_follows_the_dates_so_a_pause_looks_like_one():
    ms = meetings()
    c = outcome(ms, series("child", "outcome", [rating(m, "cors", 200) for m in ms]))
    xs = [p.x for p in c.series[0].points]
    assert xs[1] - xs[0] == pytest.approx(xs[2] - xs[1], abs=0.2)
    assert xs[3] - xs[2] == pytest.approx((xs[1] - xs[0]) * 120 / 14, abs=1)
    assert [t.number for t in c.x_ticks] == [1, 2, 3, 4, 5]
    assert c.x_ticks[0].labelled and c.x_ticks[-1].labelled


def test_colours_follow_the_role_not_the_order():
    ms = meetings()
    a = outcome(ms, series("mother", "outcome", [rating(ms[0], "ors", 200)]),
                series("child", "outcome", [rating(ms[0], "cors", 200)]))
    b = outcome(ms, series("child", "outcome", [rating(ms[0], "cors", 250)]))
    colour = {s.role: (s.colour, s.dash) for s in a.series}
    assert colour["child"] == (b.series[0].colour, b.series[0].dash)
    assert colour["mother"] != colour["child"]
    assert colour["mother"][1]  # a dash pattern, so the line is told apart without colour


def test_a_missing_meeting_breaks_the_line_and_values_are_printed():
    ms = meetings()
    t = series("child", "outcome", [rating(ms[0], "cors", 200), rating(ms[1], "cors", 212),
                                    rating(ms[3], "cors", 260), rating(ms[4], "cors", 280)])
    s = outcome(ms, t).series[0]
    assert len(s.runs) == 2  # meetings 1–2 and 4–5, solid
    assert len(s.gaps) == 1 and s.gaps[0][0] == s.points[1].x  # a dashed connector over 3
    assert [p.value_text for p in s.points] == ["20,0", "21,2", "26,0", "28,0"]
    assert s.end_label[2].startswith("28,0")
    assert any(p.labelled for p in s.points[:-1])
    assert "21,2" in s.points[1].detail and "me 5,3" in s.points[1].detail.lower()


def test_faces_points_are_hollow_and_the_band_is_around_the_first_counted_score():
    ms = meetings()
    t = series("child", "outcome", [rating(ms[0], "ycors", 300), rating(ms[1], "cors", 200),
                                    rating(ms[2], "cors", 180), rating(ms[3], "cors", 150)])
    c = outcome(ms, t)
    s = c.series[0]
    assert [p.hollow for p in s.points] == [True, False, False, False]
    assert c.has_hollow
    # Band 15.0–25.0 around the CORS 20.0, from the first counted meeting on.
    y = charts.Y(0, 40, c.top, c.bottom)
    assert s.band[0] == s.points[1].x
    assert s.band[1] == y(25.0) and s.band[1] + s.band[3] == pytest.approx(y(15.0))
    # The fall to 15.0 is marked; the YCORS 30.0 was never the first score.
    assert [p.flag for p in s.points] == [None, None, None, "fallen"]
    assert [x.kind for x in s.signals] == ["fallen"]


def test_cutoff_lines_and_no_expected_range_says_why():
    ms = meetings()
    c = outcome(ms, series("child", "outcome", [rating(ms[0], "cors", 200)], cutoff=320),
                expected_reason="too_few", expected_numbers={"need": 30, "have": 4})
    assert [text for _y, text in c.cutoffs] == ["32,0"]
    assert c.no_range == "too_few" and c.no_range_numbers["have"] == 4


def test_expected_range_is_drawn_from_the_table():
    ms = meetings()
    t = series("child", "outcome", [rating(m, "cors", 200 + 10 * n) for n, m in enumerate(ms)])
    ranges = {("outcome", "child", 4, k): (190 + 10 * k, 230 + 10 * k) for k in range(1, 6)}
    c = outcome(ms, t, expected=ranges)
    assert c.series[0].expected and c.series[0].expected.count(",") == 10
    assert c.no_range is None


def test_session_marks_low_totals_falls_and_items_to_ask_about():
    ms = meetings()[:3]
    srs = PACKS["srs"]
    low_goals = Rating(ms[2], 340, srs, tuple(
        ItemValue(i.key, 70 if i.key == "goals" else 90) for i in srs.items))
    t = series("mother", "session", [rating(ms[0], "srs", 380), rating(ms[1], "srs", 370),
                                     low_goals], cutoff=360)
    data = CaseTrajectories(ms, {"session": [t]})
    c = charts.session_chart(data, charts.TimeAxis(ms, charts.Formatter(",")), options())
    assert [p.flag for p in c.series[0].points] == [None, "fall", "fall"]
    assert {x.kind for x in c.series[0].signals} == {"low", "fall"}
    assert c.prompts == [("mother", "Goals and topics", "7,0")]


def test_ruler_shows_every_party_and_names_the_bands():
    ms = meetings()[:2]
    parties = [series(role, "ruler", [rating(m, "child-ruler", v) for m in ms])
               for role, v in (("child", 80), ("mother", 50), ("staff", 60))]
    data = CaseTrajectories(ms, {"ruler": parties})
    c = charts.ruler_chart(data, charts.TimeAxis(ms, charts.Formatter(",")), options())
    assert [b[2] for b in c.bands] == ["Threatened", "At risk", "Vulnerable",
                                       "Moderate well-being", "Thriving"]
    assert [(b.detail, b.value_text, b.band) for b in c.bars] == [
        ("child", "8", "Moderate well-being"), ("mother", "5", "At risk"),
        ("staff", "6", "Vulnerable")]
    assert [b.concern for b in c.bars] == [False, True, False]
    assert len({s.colour for s in c.series}) == 3


def test_smiley_items_with_their_shares():
    ms = meetings()[:4]
    pack = PACKS["child-meeting"]
    answered = [Rating(m, None, pack, tuple(ItemValue(i.key, v) for i in pack.items))
                for m, v in zip(ms, (100, 90, 20, None), strict=True)]
    data = CaseTrajectories(ms, {"meeting-experience": [series("child", "meeting-experience",
                                                               answered)]})
    c = charts.experience_chart(data, charts.TimeAxis(ms, charts.Formatter(",")),
                                options(notes={"shares": "{top}/{bottom}/{n}"}))
    assert len(c.panels) == len(pack.items)
    s = c.panels[0].series[0]
    assert [p.value_text for p in s.points] == ["10", "9", "2"]  # the skip is no point
    assert s.note == "67 %/33 %/3"


def test_a_dense_line_labels_only_its_marked_points_and_its_end():
    # 120 weekly meetings: about 4 units between points, no room for values of their own.
    ms = meetings(tuple(7 * n for n in range(120)))
    totals = [200 + (n % 7) * 10 for n in range(120)]
    totals[60] = 100  # a reliable fall: a marked point
    c = outcome(ms, series("child", "outcome",
                           [rating(m, "cors", v) for m, v in zip(ms, totals, strict=True)]))
    s = c.series[0]
    assert charts._dense(s)
    labelled = {p.meeting_number for p in s.points if p.labelled}
    assert labelled <= {1, 61} and 61 in labelled  # the first and the marked point only
    assert s.points[60].flag == "fallen"
    assert s.end_label[2].startswith("20,0")  # the latest value is named at the line's end
    # A sparse line keeps labels on points that have room.
    ms = meetings()
    few = outcome(ms, series("child", "outcome", [
        rating(m, "cors", v) for m, v in zip(ms, (100, 250, 120, 300, 150), strict=True)]))
    assert not charts._dense(few.series[0])
    assert sum(p.labelled for p in few.series[0].points) >= 2
