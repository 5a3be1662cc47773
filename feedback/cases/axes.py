"""The case graphs' shared parts: role styles, number and date formats, the time axis.

Pure geometry and formatting (no queries, no templates); cases/charts.py
builds each family's graph on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from feedback.services.trajectories import MeetingPoint

# Geometry, in SVG user units: wide enough for a tablet, text large enough for a phone.
WIDTH = 640
LEFT, RIGHT, TOP, BOTTOM = 44, 112, 28, 58
HEIGHT = 320
SMALL_HEIGHT = 150
#: Labels under the x axis and on points keep at least this much room between them.
TICK_SPACING = 92
#: Points keep this far from the plot's left and right edges.
INSET = 14


@dataclass(frozen=True)
class Style:
    """How one role is drawn: the same in every case (colour, dash, name key)."""

    colour: str
    dash: str


#: Fixed per role, all at least 3:1 against white (WCAG 1.4.11), told apart by dash too.
ROLE_STYLES = {
    "child": Style("#0b5cad", ""),
    "mother": Style("#b35900", "10 5"),
    "father": Style("#1a7f37", "3 4"),
    "other_carer": Style("#8250df", "12 4 3 4"),
    "network": Style("#bf3989", "6 3"),
    "professional": Style("#57606a", "2 3"),
    "staff": Style("#006d75", "14 4 2 4 2 4"),
}
ITEM_COLOURS = ("#0b5cad", "#b35900", "#1a7f37", "#8250df", "#bf3989", "#57606a")


def style_for(role: str) -> Style:
    """The role's style (an unknown role is drawn like a professional)."""
    return ROLE_STYLES.get(role, ROLE_STYLES["professional"])


class Formatter:
    """Numbers and dates as people read them, each date formatted once per page."""

    def __init__(self, decimal: str = ",", date_text: Callable[[date], str] | None = None,
                 percent: Callable[[float], str] | None = None):
        self.decimal = decimal
        self._date_text = date_text or (lambda d: d.strftime("%d.%m.%Y"))
        self._percent = percent or (lambda share: f"{round(share * 100)} %")
        self._dates: dict[date, str] = {}
        self._tenths: dict[int, str] = {}

    @classmethod
    def for_page(cls) -> Formatter:
        """The formatter of the current request's language."""
        from babel.numbers import get_decimal_symbol
        from flask_babel import format_percent, get_locale

        locale = get_locale()
        name = str(locale)
        return cls(get_decimal_symbol(locale), lambda d: _short_date(name, d),
                   lambda share: format_percent(share))

    def tenths(self, value: float | int | None) -> str:
        """73 → "7,3" (one decimal; rounded when the value is not whole tenths)."""
        if value is None:
            return "–"
        if type(value) is not int:
            value = round(value)
        text = self._tenths.get(value)
        if text is None:
            text = self._tenths[value] = (
                f"−{-value // 10}{self.decimal}{-value % 10}" if value < 0
                else f"{value // 10}{self.decimal}{value % 10}")
        return text

    def value(self, value: int | None, decimals: int = 1) -> str:
        """A value in tenths with the scale's decimals: "7,3", or "7" on a whole-number scale."""
        if decimals or value is None or value % 10:
            return self.tenths(value)
        return f"{value // 10}"

    def signed(self, value: int | None) -> str:
        """A change: "+6,1", "−2,0"."""
        if value is None:
            return "–"
        return ("+" if value >= 0 else "") + self.tenths(value)

    def date(self, day: date) -> str:
        """A date in the page's short format."""
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = self._date_text(day)
        return text

    def percent(self, share: float | None) -> str:
        """A share (0.8) as a percentage in the page's format."""
        return "–" if share is None else self._percent(share)


@lru_cache(maxsize=50_000)
def _short_date(locale: str, day: date) -> str:
    """A date in the locale's short format; the same text every time, so kept."""
    from babel.dates import format_date

    return format_date(day, "short", locale=locale)


# --- the shared time axis --------------------------------------------------------

@dataclass(frozen=True)
class Tick:
    """A meeting under the x axis: its date and number, printed when there is room."""

    x: float
    date_text: str
    number: int
    labelled: bool


class TimeAxis:
    """Meeting dates to x, proportional to time; one axis for every graph of a case."""

    def __init__(self, meetings: list[MeetingPoint], fmt: Formatter, width: int = WIDTH):
        self.meetings = meetings
        self.left, self.right = LEFT + INSET, width - RIGHT - INSET
        first = meetings[0].held_on if meetings else date.today()
        last = meetings[-1].held_on if meetings else first
        self._first = first
        self._days = max((last - first).days, 0)
        self.ticks: list[Tick] = []
        #: Each meeting date's x, rounded as drawn.
        self.xs: dict[date, float] = {}
        previous = None
        for m in meetings:
            x = self.x(m.held_on)
            self.xs[m.held_on] = round(x, 1)
            labelled = previous is None or x - previous >= TICK_SPACING
            if labelled:
                previous = x
            self.ticks.append(Tick(round(x, 1), fmt.date(m.held_on), m.number, labelled))
        # The last meeting is always named; drop the label before it if they would touch.
        if len(self.ticks) > 1 and not self.ticks[-1].labelled:
            for n in range(len(self.ticks) - 2, -1, -1):
                if self.ticks[n].labelled:
                    if self.ticks[-1].x - self.ticks[n].x < TICK_SPACING and n > 0:
                        self.ticks[n] = Tick(self.ticks[n].x, self.ticks[n].date_text,
                                             self.ticks[n].number, False)
                    break
            last_tick = self.ticks[-1]
            self.ticks[-1] = Tick(last_tick.x, last_tick.date_text, last_tick.number, True)

    def x(self, day: date) -> float:
        """The x of a date."""
        if self._days == 0:
            return (self.left + self.right) / 2
        return self.left + (self.right - self.left) * (day - self._first).days / self._days


class Y:
    """Values to y, clamped to the plot."""

    def __init__(self, low: float, high: float, top: float, bottom: float):
        self.low, self.high, self.top, self.bottom = low, high, top, bottom
        self._tenths: dict[int, float] = {}

    def of_tenths(self, value: int) -> float:
        """The y of a value given in tenths (each value computed once)."""
        found = self._tenths.get(value)
        if found is None:
            found = self._tenths[value] = self(value / 10)
        return found

    def __call__(self, value: float) -> float:
        """The y of a value."""
        value = min(max(value, self.low), self.high)
        return round(self.bottom - (value - self.low) / (self.high - self.low)
                     * (self.bottom - self.top), 1)


def ticks(y: Y, low: int, high: int, step: int) -> list[tuple[float, str]]:
    """Labelled grid lines from ``low`` to ``high``."""
    return [(y(v), str(v)) for v in range(low, high + 1, step)]
