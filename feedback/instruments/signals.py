"""Rules on ratings (pure: no app, no database): cut-offs, signals, expected ranges.

Each rule is a plain function of numbers and instrument definitions, tested
without a database; the pages write the rule beside the signal it raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedback.instruments.schema import Instrument


def about_child(subject: str, role: str) -> bool:
    """Whether a rating is about the child: the child's own, or anyone's about the child."""
    return subject == "child" or role == "child"


def cutoff_tenths(instrument: Instrument, *, subject: str, role: str,
                  child_age: int) -> int | None:
    """The cut-off that applies to one rating, in tenths (decisions 8 and 9).

    The cut-off follows the subject: the child (rated by anyone, or rating
    themself) by the child's age at the meeting; an adult rating themself by
    the adult norm. Faces versions have none.
    """
    age = child_age if about_child(subject, role) else None
    return instrument.cutoff_for(age)


# --- signals (decision 19, issue 9's settled details) ------------------------------
#
# Each rule is a plain function of one episode's totals in tenths, in rating
# order, with whether each came from a psychometric version. Totals of the faces
# versions (YCORS, YCSRS) and questionnaires without a total (a skipped item)
# are left out before counting: they never trigger a signal and do not count
# as ratings. The pages write each rule beside the signal it raised.

#: Reliable change for the ORS family's totals: 5.0 points (decision 9).
RELIABLE_CHANGE_TENTHS = 50
#: "Not on track" is judged from this rating of the episode on (configurable).
NOT_ON_TRACK_AFTER = 4
#: The session scales: a fall of this much from the previous meeting is a signal.
SESSION_FALL_TENTHS = 10
#: The smiley questionnaire's shares: 9–10 is the top, 1–3 the bottom.
TOP_FROM_TENTHS, BOTTOM_TO_TENTHS = 90, 30


@dataclass(frozen=True)
class Signal:
    """A rule that fired: which, at which rating (1-based, counted as the rule counts)."""

    kind: str
    rating: int
    first_tenths: int | None = None
    value_tenths: int | None = None

    @property
    def change_tenths(self) -> int | None:
        """The value's change from the first rating, where the rule uses one."""
        if self.first_tenths is None or self.value_tenths is None:
            return None
        return self.value_tenths - self.first_tenths


def counted(totals: Iterable[tuple[int | None, bool]]) -> list[int]:
    """The totals a rule counts: with a total, from a psychometric version."""
    return [t for t, psychometric in totals if t is not None and psychometric]


def outcome_signals(totals: Iterable[tuple[int | None, bool]], *,
                    after: int = NOT_ON_TRACK_AFTER,
                    reliable_change_tenths: int = RELIABLE_CHANGE_TENTHS) -> list[Signal]:
    """The outcome rules over one episode; the signals in force at its latest rating.

    * ``fallen``: the latest total is at or below first − reliable change;
    * ``not_on_track``: from the ``after``-th rating, latest − first is less
      than the reliable change.
    Both may hold at once. One rating (or none) raises nothing.
    """
    values = counted(totals)
    if len(values) < 2:
        return []
    first, latest, n = values[0], values[-1], len(values)
    found = []
    if latest <= first - reliable_change_tenths:
        found.append(Signal("fallen", n, first, latest))
    if n >= after and latest - first < reliable_change_tenths:
        found.append(Signal("not_on_track", n, first, latest))
    return found


def falls(totals: Iterable[tuple[int | None, bool]], *,
          reliable_change_tenths: int = RELIABLE_CHANGE_TENTHS) -> list[bool]:
    """For each rating given (in order): whether it is a reliable fall from the first.

    The list is aligned with the input, so a graph can mark the very points;
    faces versions and totals missing are never marked.
    """
    totals = list(totals)
    values = counted(totals)
    first = values[0] if values else None
    return [first is not None and t is not None and psychometric
            and t <= first - reliable_change_tenths for t, psychometric in totals]


def session_flags(totals: Sequence[tuple[int | None, bool]],
                  cutoff_tenths: int | None) -> list[set[str]]:
    """For each session rating (aligned with the input): ``low`` and/or ``fall``.

    ``low``: the total is under the cut-off (no cut-off, no ``low``);
    ``fall``: one point or more below the previous counted rating.
    """
    flags: list[set[str]] = []
    previous = None
    for total, psychometric in totals:
        found: set[str] = set()
        if total is not None and psychometric:
            if cutoff_tenths is not None and total < cutoff_tenths:
                found.add("low")
            if previous is not None and previous - total >= SESSION_FALL_TENTHS:
                found.add("fall")
            previous = total
        flags.append(found)
    return flags


def session_signals(totals: Sequence[tuple[int | None, bool]],
                    cutoff_tenths: int | None) -> list[Signal]:
    """Session alliance low at the latest counted rating: under the cut-off, or a fall."""
    values = counted(totals)
    if not values:
        return []
    flags = [f for f, (t, p) in zip(session_flags(totals, cutoff_tenths), totals, strict=True)
             if t is not None and p]
    latest = flags[-1]
    n = len(values)
    previous = values[-2] if n > 1 else None
    return [Signal(kind, n, previous if kind == "fall" else cutoff_tenths, values[-1])
            for kind in ("low", "fall") if kind in latest]


def items_below(values: Iterable[tuple[str, int | None]], threshold_tenths: int | None
                ) -> list[str]:
    """The items answered below the pack's threshold (skipped items are not below)."""
    if threshold_tenths is None:
        return []
    return [key for key, value in values if value is not None and value < threshold_tenths]


def shares(values: Iterable[int | None]) -> tuple[int, float | None, float | None]:
    """(answers, share 9–10, share 1–3) of one smiley item so far; skips are not answers."""
    answered = [v for v in values if v is not None]
    if not answered:
        return 0, None, None
    n = len(answered)
    return (n, sum(v >= TOP_FROM_TENTHS for v in answered) / n,
            sum(v <= BOTTOM_TO_TENTHS for v in answered) / n)


def ruler_concern(total_tenths: int | None, concern_below_tenths: int | None) -> bool:
    """The child ruler's concern: a rating below the pack's threshold (5.5)."""
    return (total_tenths is not None and concern_below_tenths is not None
            and total_tenths < concern_below_tenths)


# --- expected range (decision 20) ---------------------------------------------------

#: First totals are grouped in bands this wide (5 points).
BAND_WIDTH_TENTHS = 50
#: The band is drawn only with this many closed episodes overall …
MIN_EPISODES = 30
#: … and this many of them with a rating at the meeting number asked about.
MIN_AT_RATING = 10


def first_band(first_tenths: int) -> int:
    """The 5-point band a first total falls in: 0 for 0–4.9, 1 for 5–9.9, …"""
    return first_tenths // BAND_WIDTH_TENTHS


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100), linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class ExpectedRange:
    """The 25th–75th percentile of the k-th totals of similar closed episodes."""

    band: int
    rating: int
    p25_tenths: float
    p75_tenths: float
    episodes: int


def expected_ranges(episodes: Iterable[Sequence[int]], *, min_episodes: int = MIN_EPISODES,
                    min_at_rating: int = MIN_AT_RATING) -> list[ExpectedRange]:
    """Bands per (first-total band, rating number) from closed episodes' counted totals.

    Only episodes with two or more totals count. Nothing at all when there are
    fewer than ``min_episodes`` of them; a (band, k) pair only with at least
    ``min_at_rating`` episodes of that band that have a k-th total.
    """
    usable = [list(e) for e in episodes if len(e) >= 2]
    if len(usable) < min_episodes:
        return []
    by_key: dict[tuple[int, int], list[int]] = {}
    for totals in usable:
        band = first_band(totals[0])
        for k, value in enumerate(totals, 1):
            by_key.setdefault((band, k), []).append(value)
    return [ExpectedRange(band, k, percentile(v, 25), percentile(v, 75), len(v))
            for (band, k), v in sorted(by_key.items()) if len(v) >= min_at_rating]
