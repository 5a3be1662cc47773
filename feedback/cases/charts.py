"""The case graphs' geometry and labels, from trajectories (no queries, no templates).

Everything a template needs is computed here once per series: coordinates,
the texts printed on points, the texts a screen reader or a tap shows, the
table alternative's cells. Templates print these values as they are.

Conventions (decision 34): x is the meeting date, time-proportional, with the
meeting number under the date; each role has one colour and one dash pattern
in every case; faces versions are hollow points with a ring in the line's
colour; the latest value is labelled at the line's end; a meeting without an
answer breaks the line (a thin dashed connector, never a solid bridge).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import NamedTuple

from markupsafe import escape

from feedback.cases.axes import (
    BOTTOM,
    HEIGHT,
    ITEM_COLOURS,
    LEFT,
    RIGHT,
    SMALL_HEIGHT,
    TOP,
    WIDTH,
    Formatter,
    Tick,
    TimeAxis,
    Y,
    style_for,
    ticks,
)
from feedback.cases.fragments import Html, escaped
from feedback.instruments import scoring, signals
from feedback.instruments.schema import Instrument
from feedback.services.trajectories import (
    CaseTrajectories,
    Rating,
    Trajectory,
)

# --- what templates print ----------------------------------------------------------

@dataclass(slots=True)
class PointView:
    """One rating, placed and labelled (the tap/focus box is placed by graph.js)."""

    x: float
    y: float
    value_text: str
    #: Everything about the point in one sentence: date, number, version, total, items
    #: (escaped already: printed as it is).
    detail: str
    label_y: float = 0
    labelled: bool = True
    hollow: bool = False
    #: "fallen", "low", "fall", "concern": drawn as a marked point.
    flag: str | None = None
    meeting_number: int = 0
    held_on: date | None = None
    value: float | None = None


@dataclass
class SeriesView:
    """One respondent's line (or one item's, in the small graphs)."""

    key: str
    role: str
    name: str
    colour: str
    dash: str
    points: list[PointView] = field(default_factory=list)
    #: Solid runs (SVG points attributes) and dashed connectors over meetings missed.
    runs: list[str] = field(default_factory=list)
    gaps: list[tuple[float, float, float, float]] = field(default_factory=list)
    end_label: tuple[float, float, str] | None = None
    #: The reliable-change band around the first score: (x, y_top, width, height).
    band: tuple[float, float, float, float] | None = None
    #: The expected range per rating: SVG polygon points, if one is drawn.
    expected: str | None = None
    signals: list[signals.Signal] = field(default_factory=list)
    cutoff_text: str | None = None
    #: For the small graphs: a sentence beside the line (shares of 9–10 and 1–3).
    note: str | None = None
    #: The points as markup (cases/fragments.py), built once the geometry is done.
    markup: str = ""


@dataclass
class Bar:
    """One party's rating in the child ruler, at one meeting."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    value_text: str
    detail: str
    labelled: bool
    concern: bool
    meeting_number: int
    held_on: date
    value: float
    band: str = ""


class Row(NamedTuple):
    """One row of a graph's table alternative."""

    who: str
    role: str
    date_text: str
    number: int
    version: str
    value: str
    items: str
    note: str = ""
    flagged: bool = False
    hollow: bool = False


#: Named tuples made without the keyword handling of their constructors.
_new = tuple.__new__


@dataclass
class Chart:
    """One drawing with its table: everything the template prints."""

    id: str
    family: str
    kind: str  # "line", "bars" or "small" (one small line graph per item or theme)
    title: str = ""
    height: int = HEIGHT
    width: int = WIDTH
    left: float = LEFT
    right: float = WIDTH - RIGHT
    top: float = TOP
    bottom: float = HEIGHT - BOTTOM
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    cutoffs: list[tuple[float, str]] = field(default_factory=list)
    #: Named background bands (the child ruler's): (y_top, height, label, shade).
    bands: list[tuple[float, float, str, int]] = field(default_factory=list)
    series: list[SeriesView] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    #: Small graphs: one Chart per item or theme.
    panels: list[Chart] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    #: Items below the session pack's threshold at the latest meeting: (who, item, value).
    prompts: list[tuple[str, str, str]] = field(default_factory=list)
    has_hollow: bool = False
    reliable_change: str | None = None
    #: Why no expected range is drawn (a message id for the template), if none is.
    no_range: str | None = None
    no_range_numbers: dict = field(default_factory=dict)
    concern_text: str | None = None
    #: The ruler: the date of the latest meeting, whose ratings ``bars`` holds.
    latest_date: str = ""
    #: The table alternative's rows as markup (cases/fragments.py).
    rows_markup: str = ""
    #: The time axis's ticks as markup (cases/fragments.py).
    x_ticks_markup: str = ""
    #: The signals in force, with their numbers as printed: (series, signal, texts).
    found: list[tuple[SeriesView, signals.Signal, dict[str, str]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not (self.series or self.bars or self.panels)


# --- building ----------------------------------------------------------------------

def _name(role: str, label: str | None, role_name: Callable[[str], str]) -> str:
    base = role_name(role)
    return f"{base} ({label})" if label else base


def _item_text(rating: Rating, opt: Options) -> Html:
    """Every item's value in one line: "Me 6,1 · Family 6,0 · …", skips said as such.

    Already escaped (an :class:`~feedback.cases.fragments.Html`), from labels and
    values escaped once per page: the line is printed twice per answer (the
    point's description and the table's cell), and escaping it whole each time
    cost more than the rest of the line's work.
    """
    found = opt._items.get(id(rating))
    if found is None:
        found = opt._items[id(rating)] = _items_line(rating, opt)
    return found


def _items_line(rating: Rating, opt: Options) -> Html:
    raw = rating.raw_items
    shown = opt._shown
    if raw:
        # The database lists a response's answers by item key (its primary key's
        # order): then each value's place in the line is known without a lookup.
        plan = opt.items_plan(rating.instrument)
        found = plan.match(raw)
        if found is not None:  # "Label value" of each item, escaped, kept per page
            values = found.groups()
            return Html(" · ".join([part[values[n]] for part, n in plan.parts]))
    if raw is None:  # built in Python (tests, imports): from the parsed items
        given = {v[0]: "!" + (v[2] or "") if v[1] is None else v[1] for v in rating.items}
    else:  # straight from the database's text, key=73,key2=!skipped
        given = dict(pair.split("=", 1) for pair in raw.split(",")) if raw else {}
    parts = []
    for key, label in opt.item_labels_html(rating.instrument):
        parts.append(f"{label} {shown[given.get(key)]}")
    return Html(" · ".join(parts))  # every part escaped above


@dataclass(frozen=True)
class _ItemsPlan:
    """How a pack's items line is filled from the database's text of an answer."""

    #: The database's text when it holds every item in item key order, the values
    #: captured: ``individually=([^,]*),interpersonally=([^,]*),…``.
    match: Callable[[str], re.Match | None]
    #: In the line's order: the item's "Label value" texts (by the value as captured)
    #: and which captured value is the item's.
    parts: tuple[tuple[_Part, int], ...]


class _Part(dict):
    """One item's "Label 7,3" (escaped) by its answer as the database's text ("73")."""

    __slots__ = ("label", "shown")

    def __init__(self, label: str, shown: _Shown):
        super().__init__()
        self.label = label
        self.shown = shown

    def __missing__(self, value):
        text = self[value] = f"{self.label} {self.shown[value]}"
        return text


class _Shown(dict):
    """An item's answer as the database's text ("73", "!skipped") → as printed, escaped."""

    def __init__(self, opt: Options):
        super().__init__()
        self.opt = opt

    def __missing__(self, value):
        text = self[value] = str(escape(_shown(value, self.opt)))
        return text


def _shown(value: str | int | None, opt: Options) -> str:
    """An item's answer as the items line prints it: "7,3", a missing code's name, or –."""
    if value is None:
        return "–"
    if type(value) is str:
        if value.startswith("!"):
            code = value[1:]
            return opt.notes.get(code, code) if code else "–"
        value = int(value)
    return opt.fmt.tenths(value)


def _line_series(chart: Chart, axis: TimeAxis, y: Y, t_key: str, role: str, name: str,
                 colour: str, dash: str, points: list[tuple[Rating, int | None, str]],
                 fmt: Formatter, flags: list[str | None] | None = None) -> SeriesView:
    """A line through (rating, value, items text) triples; values None are left out."""
    s = SeriesView(t_key, role, name, colour, dash)
    run: list[str] = []
    last = None
    xs, x_of, y_of, date_of, value_of = axis.xs, axis.x, y.of_tenths, fmt.date, fmt.value
    # The point's description is built escaped, from parts escaped once.
    short = escaped
    who = short[name]
    for n, (rating, value, items) in enumerate(points):
        if value is None:
            continue
        m = rating.meeting
        x = xs.get(m.held_on)
        if x is None:
            x = round(x_of(m.held_on), 1)
        py = y_of(value) if type(value) is int else y(value / 10)
        instrument = rating.instrument
        text = value_of(value, instrument.value_decimals)
        detail = f"{who}: {short[date_of(m.held_on)]} · #{m.number} · {short[text]}"
        if items:
            detail = f"{detail} ({items.text if type(items) is Html else escape(items)})"
        # PointView(x, y, value_text, detail, label_y, labelled, hollow, flag,
        #           meeting_number, held_on, value)
        p = PointView(x, py, text, detail,  # escaped: built from escaped parts
                      0, True, not instrument.psychometric,
                      flags[n] if flags else None, m.number, m.held_on, value / 10)
        if last is not None and m.number - last.meeting_number > 1:
            # Meetings in between without an answer: break the line.
            if len(run) > 1:
                s.runs.append(" ".join(run))
            s.gaps.append((last.x, last.y, x, py))
            run = []
        run.append(f"{x},{py}")
        s.points.append(p)
        last = p
    if len(run) > 1:
        s.runs.append(" ".join(run))
    if s.points:
        end = s.points[-1]
        s.end_label = (round(end.x + 12, 1), end.y, f"{end.value_text} {_short(name)}")
        # The end label names the line; the latest point needs no label of its own.
        end.labelled = False
    return s


#: The longest name an end label prints in the right margin; the legend has it whole.
END_NAME_MAX = 9


def _short(name: str) -> str:
    """The role without the person's label ("Mor (Sara)" → "Mor"), cut to fit the margin."""
    name = name.split(" (", 1)[0]
    return name if len(name) <= END_NAME_MAX else name[:END_NAME_MAX - 1].rstrip() + "…"


def _end_labels(series: list[SeriesView], chart: Chart) -> None:
    """End labels at the right margin, kept apart vertically."""
    labelled = sorted((s for s in series if s.end_label), key=lambda s: s.end_label[1])
    previous = None
    for s in labelled:
        x, y, text = s.end_label
        y = y + 5
        if previous is not None and y - previous < 16:
            y = previous + 16
        s.end_label = (chart.right + 10, round(y, 1), text)
        previous = y


#: Points of one line closer than this on average (SVG units) leave no room for
#: their values: about 45 meetings across the plot.
DENSE_GAP = 10


def _dense(s: SeriesView) -> bool:
    """Whether a line's points are too close together for labels of their own."""
    points = s.points
    return len(points) > 2 and (points[-1].x - points[0].x) / (len(points) - 1) < DENSE_GAP


_x = attrgetter("x")


def _place_labels(series: list[SeriesView], chart: Chart) -> None:
    """Print each point's value above or below it where it collides with nothing.

    The first point of each line and marked points go first, then the rest from
    the latest back; a label that fits nowhere is left out (the point still
    tells its value when tapped or focused, and the table has it). On a dense
    line (:data:`DENSE_GAP`) only its first and its marked points are labelled:
    values scattered wherever a gap happens to open would be noise there.
    """
    # Labels placed so far, in a grid of 40 × 20 cells. Points are not put in the
    # grid: a long line has hundreds and only a few get a label, so each label's
    # place is checked against the points near it, found by x in each line
    # (sorted by x: in date order already, which sorting keeps in linear time).
    grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    lines = []
    for s in series:
        by_x = sorted(s.points, key=_x)
        lines.append((by_x, [p.x for p in by_x]))

    def add(x0, y0, x1, y1):
        box = (x0, y0, x1, y1)
        for gx in range(int(x0 // 40), int(x1 // 40) + 1):
            for gy in range(int(y0 // 20), int(y1 // 20) + 1):
                found = grid.get((gx, gy))
                if found is None:
                    grid[(gx, gy)] = [box]
                else:
                    found.append(box)

    def free(x0, y0, x1, y1, owner) -> bool:
        for points, xs in lines:  # a point's box is 14 × 14 around it
            for q in points[bisect_right(xs, x0 - 8):bisect_left(xs, x1 + 8)]:
                if (q is not owner and x0 < q.x + 7 and q.x - 7 < x1
                        and y0 < q.y + 7 and q.y - 7 < y1):
                    return False
        for gx in range(int(x0 // 40), int(x1 // 40) + 1):
            for gy in range(int(y0 // 20), int(y1 // 20) + 1):
                for ox0, oy0, ox1, oy1 in grid.get((gx, gy), ()):
                    if x0 < ox1 and ox0 < x1 and y0 < oy1 and oy0 < y1:
                        return False
        return True

    # The points to label: each line's first, then marked points, then the rest
    # from the latest back (on a dense line only its first and marked points).
    first = [s.points[0] for s in series if s.points]
    dense = {id(s) for s in series if _dense(s)}
    rest = sorted((p for s in series for p in s.points[1:]
                   if p.flag is not None or id(s) not in dense),
                  key=lambda p: (p.flag is None, -p.x))
    for s in series:
        if id(s) in dense:
            for p in s.points[1:]:
                if p.flag is None:
                    p.labelled = False
    left, bottom = chart.left - 10, chart.bottom
    for p in first + rest:
        if not p.labelled:
            continue
        half = (8.6 * len(p.value_text) + 4) / 2
        p.labelled = False
        x0, x1 = p.x - half, p.x + half
        if x0 < left:
            continue
        for dy in (-12, 24):
            y0, y1 = p.y + dy - 13, p.y + dy + 3
            if y0 < 2 or y1 > bottom or not free(x0, y0, x1, y1, p):
                continue
            p.labelled, p.label_y = True, round(p.y + dy, 1)
            add(x0, y0, x1, y1)
            break


def _rows(t_name: str, role: str, ratings: Iterable[tuple[Rating, int | None, str, str]],
          fmt: Formatter, text: Callable[[Instrument], str]) -> list[Row]:
    return [_new(Row, (t_name, role, fmt.date(r.meeting.held_on), r.meeting.number,
                       text(r.instrument), fmt.tenths(value), items, note, bool(note),
                       not r.psychometric))
            for r, value, items, note in ratings]


@dataclass
class Options:
    """Texts and rules the charts need from the page (translated names, settings)."""

    role_name: Callable[[str], str]
    text: Callable[[dict], str]
    fmt: Formatter
    not_on_track_after: int = signals.NOT_ON_TRACK_AFTER
    #: (family, role, first band, rating number) → (p25, p75) in tenths, and the reason
    #: when the organisation has too few closed episodes.
    expected: dict | None = None
    expected_reason: str | None = None
    expected_numbers: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    _labels: dict = field(default_factory=dict)
    _items: dict = field(default_factory=dict)
    _titles: dict = field(default_factory=dict)
    _html_labels: dict = field(default_factory=dict)
    _plans: dict = field(default_factory=dict)
    #: An item's answer (as the database's text, or tenths) → as printed, escaped.
    _shown: _Shown = field(init=False)

    def __post_init__(self):
        self._shown = _Shown(self)

    def item_labels(self, pack: Instrument) -> list[tuple[str, str]]:
        """(key, label) of a pack's items in the page's language, looked up once per page."""
        found = self._labels.get(id(pack))
        if found is None:
            found = self._labels[id(pack)] = [(i.key, self.text(i.label) or i.key)
                                              for i in pack.items]
        return found

    def items_plan(self, pack: Instrument) -> _ItemsPlan:
        """How to print a pack's items line from the database's text, once per page."""
        found = self._plans.get(id(pack))
        if found is None:
            labels = self.item_labels_html(pack)
            order = sorted(key for key, _label in labels)
            place = {key: n for n, key in enumerate(order)}
            pattern = re.compile(",".join(f"{re.escape(key)}=([^,]*)" for key in order))
            found = self._plans[id(pack)] = _ItemsPlan(pattern.fullmatch, tuple(
                (_Part(label, self._shown), place[key]) for key, label in labels))
        return found

    def item_labels_html(self, pack: Instrument) -> list[tuple[str, str]]:
        """:meth:`item_labels` with the labels escaped."""
        found = self._html_labels.get(id(pack))
        if found is None:
            found = self._html_labels[id(pack)] = [
                (key, str(escape(label))) for key, label in self.item_labels(pack)]
        return found

    def title(self, pack: Instrument) -> str:
        """A pack's title in the page's language, looked up once per page."""
        found = self._titles.get(id(pack))
        if found is None:
            found = self._titles[id(pack)] = self.text(pack.title)
        return found


def outcome_chart(data: CaseTrajectories, axis: TimeAxis, opt: Options,
                  family: str = "outcome") -> Chart:
    """One line per respondent (never merged), cut-offs, change bands, signals."""
    chart = Chart(id=f"graph-{family}", family=family, kind="line")
    trajectories = [t for t in data.family(family) if t.answered]
    if not trajectories:
        return chart
    top = max((r.instrument.total_max_tenths or 400) for t in trajectories
              for r in t.answered) / 10
    y = Y(0, top, chart.top, chart.bottom)
    chart.y_ticks = ticks(y, 0, int(top), max(int(top) // 4, 1))
    chart.x_ticks = axis.ticks
    cutoffs: set[int] = set()
    rc_values = set()
    for t in trajectories:
        st = style_for(t.role)
        name = _name(t.role, t.label, opt.role_name)
        totals = [(r.total_tenths, r.psychometric) for r in t.ratings]
        fell = signals.falls(totals)
        rc = next((r.instrument.reliable_change_tenths for r in t.ratings
                   if r.instrument.reliable_change_tenths), None)
        items = [_item_text(r, opt) for r in t.ratings]
        s = _line_series(chart, axis, y, t.key, t.role, name, st.colour, st.dash,
                         [(r, r.total_tenths, i) for r, i in zip(t.ratings, items, strict=True)],
                         opt.fmt, ["fallen" if f else None for f in fell])
        s.signals = signals.outcome_signals(
            totals, after=opt.not_on_track_after,
            reliable_change_tenths=rc or signals.RELIABLE_CHANGE_TENTHS)
        counted = [r for r in t.ratings if r.psychometric]
        if counted and rc:
            first = counted[0]
            x0 = axis.x(first.meeting.held_on)
            hi, lo = y((first.total_tenths + rc) / 10), y((first.total_tenths - rc) / 10)
            s.band = (round(x0, 1), hi, round(chart.right - x0, 1), round(lo - hi, 1))
            rc_values.add(rc)
        if t.cutoff_tenths is not None:
            cutoffs.add(t.cutoff_tenths)
            s.cutoff_text = opt.fmt.tenths(t.cutoff_tenths)
        if opt.expected and counted:
            band = signals.first_band(counted[0].total_tenths)
            corners = []
            for k, r in enumerate(counted, 1):
                found = opt.expected.get((family, t.role, band, k))
                if found:
                    corners.append((axis.x(r.meeting.held_on), found))
            if len(corners) >= 2:
                upper = [f"{round(x, 1)},{y(hi / 10)}" for x, (_lo, hi) in corners]
                lower = [f"{round(x, 1)},{y(lo / 10)}" for x, (lo, _hi) in reversed(corners)]
                s.expected = " ".join(upper + lower)
        first_total = counted[0].total_tenths if counted else None
        fallen = {id(r) for r, f in zip(t.ratings, fell, strict=True) if f}
        notes = []
        for r in t.answered:
            bits = []
            if r.total_tenths is None:
                bits.append(opt.notes.get("no_total", "no total"))
            elif first_total is not None and r.psychometric and r is not counted[0]:
                bits.append(opt.fmt.signed(r.total_tenths - first_total))
            if id(r) in fallen:
                bits.append(opt.notes.get("fallen", "fallen"))
            if not r.psychometric:
                bits.append(opt.notes.get("faces", "faces"))
            notes.append(", ".join(bits))
        # The table has every answer, a questionnaire without a total too.
        chart.rows += _rows(name, t.role, ((r, r.total_tenths, _item_text(r, opt), n)
                                           for r, n in zip(t.answered, notes, strict=True)),
                            opt.fmt, opt.title)
        chart.series.append(s)
    chart.cutoffs = [(y(c / 10), opt.fmt.tenths(c)) for c in sorted(cutoffs)]
    chart.has_hollow = any(p.hollow for s in chart.series for p in s.points)
    if rc_values:
        chart.reliable_change = opt.fmt.tenths(min(rc_values))
    if not any(s.expected for s in chart.series):
        chart.no_range = opt.expected_reason or "not_computed"
        chart.no_range_numbers = opt.expected_numbers
    _place_labels(chart.series, chart)
    _end_labels(chart.series, chart)
    return chart


def session_chart(data: CaseTrajectories, axis: TimeAxis, opt: Options) -> Chart:
    """Totals per meeting with the cut-off; low totals and falls marked; items to ask about."""
    chart = Chart(id="graph-session", family="session", kind="line")
    trajectories = [t for t in data.family("session") if t.answered]
    if not trajectories:
        return chart
    y = Y(0, 40, chart.top, chart.bottom)
    chart.y_ticks = ticks(y, 0, 40, 10)
    chart.x_ticks = axis.ticks
    latest_meeting = max(r.meeting.number for t in trajectories for r in t.answered)
    cutoffs = set()
    for t in trajectories:
        st = style_for(t.role)
        name = _name(t.role, t.label, opt.role_name)
        totals = [(r.total_tenths, r.psychometric) for r in t.answered]
        flags = signals.session_flags(totals, t.cutoff_tenths)
        items = [_item_text(r, opt) for r in t.answered]
        s = _line_series(chart, axis, y, t.key, t.role, name, st.colour, st.dash,
                         [(r, r.total_tenths, i) for r, i in zip(t.answered, items, strict=True)],
                         opt.fmt, [("fall" if "fall" in f else "low" if "low" in f else None)
                                   for f in flags])
        s.signals = signals.session_signals(totals, t.cutoff_tenths)
        if t.cutoff_tenths is not None:
            cutoffs.add(t.cutoff_tenths)
            s.cutoff_text = opt.fmt.tenths(t.cutoff_tenths)
        notes = []
        for r, f in zip(t.answered, flags, strict=True):
            bits = [opt.notes[k] for k in ("low", "fall") if k in f and k in opt.notes]
            below = signals.items_below(((v.key, v.value_tenths) for v in r.items),
                                        r.instrument.item_prompt_below_tenths)
            if below:
                bits.append(opt.notes.get("ask", "ask") + ": " + ", ".join(
                    opt.text(i.label) for i in r.instrument.items if i.key in below))
            if r.total_tenths is None:
                bits.append(opt.notes.get("no_total", "no total"))
            notes.append("; ".join(bits))
            if r.meeting.number == latest_meeting:
                for item in r.instrument.items:
                    if item.key in below:
                        chart.prompts.append((name, opt.text(item.label),
                                              opt.fmt.tenths(r.value(item.key))))
        chart.rows += _rows(name, t.role, ((r, r.total_tenths, i, n) for r, i, n in
                                           zip(t.answered, items, notes, strict=True)),
                            opt.fmt, opt.title)
        chart.series.append(s)
    chart.cutoffs = [(y(c / 10), opt.fmt.tenths(c)) for c in sorted(cutoffs)]
    chart.has_hollow = any(p.hollow for s in chart.series for p in s.points)
    _place_labels(chart.series, chart)
    _end_labels(chart.series, chart)
    return chart


def _panel(chart_id: str, family: str, title: str, low: int, high: int, step: int,
           height: int = SMALL_HEIGHT) -> Chart:
    panel = Chart(id=chart_id, family=family, kind="line", title=title, height=height,
                  top=18, bottom=height - 46)
    return panel


def _stack(panels: list[Chart]) -> None:
    """Small graphs one above the other: only the last names the meetings under its axis."""
    for panel in panels[:-1]:
        panel.x_ticks = [Tick(t.x, t.date_text, t.number, False) for t in panel.x_ticks]
        panel.height = int(panel.bottom) + 12


def experience_chart(data: CaseTrajectories, axis: TimeAxis, opt: Options) -> Chart:
    """The child's smiley questionnaire: one small graph per item, with its shares so far."""
    chart = Chart(id="graph-meeting-experience", family="meeting-experience", kind="small")
    trajectories = [t for t in data.family("meeting-experience") if t.answered]
    if not trajectories:
        return chart
    packs: dict[str, Instrument] = {}
    for t in trajectories:
        for r in t.answered:
            packs.setdefault(r.instrument.id, r.instrument)
    seen = set()
    for pack in packs.values():
        for n, item in enumerate(pack.items):
            if item.key in seen:
                continue
            seen.add(item.key)
            label = opt.text(item.label) or item.key
            panel = _panel(f"graph-me-{item.key}", "meeting-experience", label, 1, 10, 3)
            y = Y(1, 10, panel.top, panel.bottom)
            panel.y_ticks = [(y(v), str(v)) for v in (1, 5, 10)]
            panel.x_ticks = axis.ticks
            for t in trajectories:
                name = _name(t.role, t.label, opt.role_name)
                colour = ITEM_COLOURS[n % len(ITEM_COLOURS)] if len(trajectories) == 1 \
                    else style_for(t.role).colour
                values = [(r, r.value(item.key), "") for r in t.answered]
                s = _line_series(panel, axis, y, t.key, t.role, name, colour,
                                 style_for(t.role).dash, values, opt.fmt)
                count, top, bottom = signals.shares(v for _r, v, _i in values)
                s.note = opt.notes.get("shares", "{top} {bottom} {n}").format(
                    top=opt.fmt.percent(top), bottom=opt.fmt.percent(bottom), n=count)
                if s.points:
                    s.end_label = (panel.right + 10, s.points[-1].y + 5,
                                   s.points[-1].value_text)
                    s.points[-1].labelled = False
                panel.series.append(s)
            _place_labels(panel.series, panel)
            chart.panels.append(panel)
    _stack(chart.panels)
    for t in trajectories:
        name = _name(t.role, t.label, opt.role_name)
        chart.rows += _rows(name, t.role, (
            (r, None, _item_text(r, opt), "")
            for r in t.answered), opt.fmt, opt.title)
    return chart


def coordination_chart(data: CaseTrajectories, axis: TimeAxis, opt: Options,
                       family: str = "coordination") -> Chart:
    """A themed pack (the parents' 1–6): one small graph per theme, a line per respondent."""
    chart = Chart(id=f"graph-{family}", family=family, kind="small")
    trajectories = [t for t in data.family(family) if t.answered]
    if not trajectories:
        return chart
    pack = trajectories[0].answered[-1].instrument
    if not pack.themes:
        return chart
    low = min(i.response.min for i in pack.items)
    high = max(i.response.max for i in pack.items)
    scores = {
        (t.key, id(r)): scoring.theme_scores(r.instrument, {
            v.key: scoring.ItemAnswer(v.value_tenths, v.missing_code) for v in r.items})
        for t in trajectories for r in t.answered
    }
    for theme in pack.themes:
        panel = _panel(f"graph-{family}-{theme.key}", family, opt.text(theme.label), low, high, 1)
        y = Y(low, high, panel.top, panel.bottom)
        panel.y_ticks = [(y(v), str(v)) for v in sorted({low, (low + high) // 2, high})]
        panel.x_ticks = axis.ticks
        for t in trajectories:
            st = style_for(t.role)
            name = _name(t.role, t.label, opt.role_name)
            values = [(r, scores[(t.key, id(r))].get(theme.key), "") for r in t.answered]
            s = _line_series(panel, axis, y, t.key, t.role, name, st.colour, st.dash,
                             values, opt.fmt)
            panel.series.append(s)
        _place_labels(panel.series, panel)
        _end_labels(panel.series, panel)
        chart.panels.append(panel)
    _stack(chart.panels)
    for t in trajectories:
        name = _name(t.role, t.label, opt.role_name)
        for r in t.answered:
            per_theme = scores[(t.key, id(r))]
            chart.rows.append(Row(
                name, t.role, opt.fmt.date(r.meeting.held_on), r.meeting.number,
                opt.title(r.instrument), opt.fmt.tenths(r.total_tenths),
                " · ".join(f"{opt.text(th.label)} {opt.fmt.tenths(per_theme.get(th.key))}"
                           for th in pack.themes)))
    return chart


def ruler_chart(data: CaseTrajectories, axis: TimeAxis, opt: Options) -> Chart:
    """Every party's 1–10 rating of the child over the meetings on the pack's named bands,
    and the latest meeting's ratings side by side."""
    chart = Chart(id="graph-ruler", family="ruler", kind="line")
    trajectories = [t for t in data.family("ruler") if t.ratings]
    if not trajectories:
        return chart
    pack = trajectories[0].ratings[-1].instrument
    low = min(i.response.min for i in pack.items) * len(pack.items)
    high = max(i.response.max for i in pack.items) * len(pack.items)
    y = Y(low - 0.5, high + 0.5, chart.top, chart.bottom)
    chart.y_ticks = [(y(v), str(v)) for v in range(low, high + 1) if v in (low, high) or v % 2 == 0]
    chart.x_ticks = axis.ticks
    for n, band in enumerate(pack.bands):
        top, bottom = y(band.max_tenths / 10 + 0.5), y(band.min_tenths / 10 - 0.5)
        chart.bands.append((top, round(bottom - top, 1), opt.text(band.label), n % 2))
    if pack.concern_below_tenths is not None:
        chart.cutoffs = [(y(pack.concern_below_tenths / 10),
                          opt.fmt.tenths(pack.concern_below_tenths))]
        chart.concern_text = opt.fmt.tenths(pack.concern_below_tenths)
    latest = max(r.meeting.number for t in trajectories for r in t.ratings)
    for t in trajectories:
        st = style_for(t.role)
        name = _name(t.role, t.label, opt.role_name)
        bands = [scoring.band_for(r.instrument, r.total_tenths) for r in t.ratings]
        concern = [signals.ruler_concern(r.total_tenths, r.instrument.concern_below_tenths)
                   for r in t.ratings]
        texts = [opt.text(b.label) if b else "" for b in bands]
        s = _line_series(chart, axis, y, t.key, t.role, name, st.colour, st.dash,
                         [(r, r.total_tenths, b) for r, b in zip(t.ratings, texts, strict=True)],
                         opt.fmt)
        chart.series.append(s)
        for r, band, c in zip(t.ratings, texts, concern, strict=True):
            value = opt.fmt.value(r.total_tenths, 0)
            chart.rows.append(Row(name, t.role, opt.fmt.date(r.meeting.held_on),
                                  r.meeting.number, opt.title(r.instrument), value, band,
                                  opt.notes.get("concern", "") if c else "", c))
            if r.meeting.number == latest:
                span = (high - low) or 1
                chart.bars.append(Bar(
                    0, 0, round((r.total_tenths / 10 - low + 1) / (span + 1), 3), 0, st.colour,
                    value, f"{name}: {value} ({band})", True, c, r.meeting.number,
                    r.meeting.held_on, r.total_tenths / 10))
                chart.bars[-1].detail = name
                chart.bars[-1].band = band
    chart.rows.sort(key=lambda row: (row.number, row.role))
    chart.latest_date = next((opt.fmt.date(m.held_on) for m in data.meetings
                              if m.number == latest), "")
    _place_labels(chart.series, chart)
    _end_labels(chart.series, chart)
    return chart


BUILDERS = {
    "outcome": outcome_chart,
    "session": session_chart,
    "meeting-experience": experience_chart,
    "ruler": ruler_chart,
}
#: The order graphs appear in on the case page.
ORDER = ("outcome", "session", "meeting-experience", "ruler")


def case_charts(data: CaseTrajectories, opt: Options, families: Iterable[str] | None = None
                ) -> list[Chart]:
    """One chart per instrument family that has answers, on one shared time axis.

    Families without a builder of their own are drawn as themed small graphs
    when their pack has themes (the parents' 1–6 pack), else as lines.
    """
    axis = TimeAxis(data.meetings, opt.fmt)
    wanted = list(families) if families is not None else (
        [f for f in ORDER if f in data.families]
        + sorted(f for f in data.families if f not in ORDER))
    charts = []
    for family in wanted:
        build = BUILDERS.get(family)
        if build is not None:
            chart = build(data, axis, opt)
        else:
            chart = coordination_chart(data, axis, opt, family)
            if chart.empty:
                chart = outcome_chart(data, axis, opt, family)
        if not chart.empty:
            _finish(chart, opt)
            charts.append(chart)
    return charts


def _finish(chart: Chart, opt: Options) -> None:
    """The signals' printed numbers and the repeated markup, once the geometry is done."""
    from feedback.cases import fragments

    _signal_texts(chart, opt.fmt)
    for c in [chart, *chart.panels]:
        c.x_ticks_markup = fragments.x_ticks(c)
        for s in c.series:
            s.markup = fragments.points(s)
    chart.rows_markup = fragments.rows(chart, opt.notes)


def _signal_texts(chart: Chart, fmt: Formatter) -> None:
    chart.found = [(s, sig, {"change": fmt.signed(sig.change_tenths),
                             "value": fmt.tenths(sig.value_tenths),
                             "first": fmt.tenths(sig.first_tenths)})
                   for s in chart.series for sig in s.signals]


def page_options(**kw) -> Options:
    """Options from the current request: translated role names, pack texts, number format."""
    from feedback import labels

    return Options(role_name=_role_name, text=labels.text, fmt=Formatter.for_page(), **kw)


def _role_name(role: str) -> str:
    from flask_babel import gettext

    from feedback import labels

    if role == "staff":
        return gettext("Staff")
    return labels.role_label(role)


def graphs_for_case(case, *, participants=None, until=None, families=None,
                    include_staff: bool = True, **options) -> list[Chart]:
    """The drawable graphs of a case (for the case page, the meeting page, the family view).

    ``participants`` limits the lines to those people (staff ratings stay unless
    ``include_staff`` is false), ``until`` (a meeting or its id) leaves out
    later meetings, ``families`` picks the graphs; ``options`` go to
    :class:`Options` (``notes``, ``expected`` …).
    """
    from feedback.services import trajectories

    data = trajectories.for_case(case, tuple(families) if families else None,
                                 participants=participants, until=until,
                                 include_staff=include_staff)
    return case_charts(data, page_options(**options), families)


def family_chart(data: CaseTrajectories, family: str = "outcome", opt: Options | None = None
                 ) -> Chart:
    """One family's chart, as the case page draws it."""
    opt = opt or page_options()
    axis = TimeAxis(data.meetings, opt.fmt)
    build = BUILDERS.get(family, outcome_chart)
    chart = build(data, axis, opt)
    _finish(chart, opt)
    return chart


__all__ = ["Chart", "Formatter", "Graph", "Options", "TimeAxis", "case_charts", "family_chart",
           "family_graph", "graphs_for_case", "page_options", "style_for", "Trajectory"]


def timeline(data: CaseTrajectories, opt: Options):
    """The meetings, newest first, with every answer (cases/timeline.py)."""
    from feedback.cases.timeline import timeline as build

    return build(data, opt)


# --- the first version's single graph (kept for callers written against it) -------------
#
# The meeting page's live results and the family view were built on this
# ``Graph`` (one family, meetings evenly spaced) and on the template
# cases/_graph.html; they keep working unchanged. New pages use
# :func:`case_charts` / :func:`graphs_for_case` and cases/_charts.html.

_OLD_WIDTH, _OLD_HEIGHT = 720, 360
_OLD_LEFT, _OLD_RIGHT, _OLD_TOP, _OLD_BOTTOM = 48, 24, 16, 48


@dataclass
class Point:
    """One rating, placed."""

    meeting_id: str
    held_on: date
    total: float
    pack: Instrument
    x: float = 0
    y: float = 0
    #: False for the under-6 faces versions: drawn and marked, never used for figures.
    psychometric: bool = True


@dataclass
class Series:
    """One respondent's line."""

    participant_id: str
    role: str
    label: str | None
    points: list[Point] = field(default_factory=list)
    cutoff: float | None = None

    @property
    def path(self) -> str:
        """The polyline's points attribute."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Graph:
    """A whole drawing: meetings on x, totals on y, one series per respondent."""

    meetings: list[tuple[str, date, float]]
    series: list[Series]
    cutoffs: list[tuple[float, float]]  # (value, y)
    ticks: list[tuple[int, float]]
    scale_max: float = 40
    width: int = _OLD_WIDTH
    height: int = _OLD_HEIGHT
    left: int = _OLD_LEFT
    right: int = _OLD_WIDTH - _OLD_RIGHT
    top: int = _OLD_TOP
    bottom: int = _OLD_HEIGHT - _OLD_BOTTOM

    @property
    def has_unscaled(self) -> bool:
        """Whether any point comes from a faces version."""
        return any(not p.psychometric for s in self.series for p in s.points)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not any(s.points for s in self.series)


def _scale_max(trajectories: list[Trajectory]) -> float:
    """The top of the y axis, from the packs' own scales (0–40 for the ORS family)."""
    tops = [r.instrument.total_max_tenths for t in trajectories for r in t.ratings
            if r.instrument.total_max_tenths]
    return max(tops) / 10 if tops else 40


def family_graph(data: CaseTrajectories, family: str = "outcome") -> Graph:
    """One line per respondent (never merged), with each subject's cut-off."""
    trajectories = data.family(family)
    n = max(len(data.meetings), 1)
    span = (_OLD_WIDTH - _OLD_RIGHT) - _OLD_LEFT
    x_of = {m.id: _OLD_LEFT + (span * (i + 0.5) / n) for i, m in enumerate(data.meetings)}
    top = _scale_max(trajectories)

    def y_of(value: float) -> float:
        bottom = _OLD_HEIGHT - _OLD_BOTTOM
        return bottom - (value / top) * (bottom - _OLD_TOP)

    series = []
    for t in trajectories:
        s = Series(str(t.participant_id), t.role, t.label,
                   cutoff=None if t.cutoff_tenths is None else t.cutoff_tenths / 10)
        for r in t.ratings:
            total = r.total_tenths / 10
            s.points.append(Point(str(r.meeting.id), r.meeting.held_on, total, r.instrument,
                                  x_of[r.meeting.id], y_of(total), r.psychometric))
        series.append(s)
    cutoffs = sorted({s.cutoff for s in series if s.cutoff is not None})
    step = top / 4
    return Graph(
        meetings=[(str(m.id), m.held_on, x_of[m.id]) for m in data.meetings],
        series=series,
        cutoffs=[(c, y_of(c)) for c in cutoffs],
        ticks=[(round(step * i, 1) if step % 1 else int(step * i), y_of(step * i))
               for i in range(5)],
        scale_max=top,
    )
