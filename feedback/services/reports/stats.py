"""The statistics the reports use, as plain functions of numbers (no app, no database).

Written from the formulas in docs/decisions.md ("Reports"), so the unit tests
can check each one against values computed by hand or published elsewhere.
Sums arrive from SQL (count, sum, sum of squares), which is how SQLite gets a
standard deviation it has no function for (decision 21).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

#: Reliable change on ORS-family totals: 5 points, in tenths (decision 19).
RELIABLE_TENTHS = 50


def mean(values: Sequence[float]) -> float | None:
    """The arithmetic mean; ``None`` for no values."""
    return sum(values) / len(values) if values else None


def sample_sd(values: Sequence[float]) -> float | None:
    """The sample standard deviation (divisor n − 1); ``None`` below two values."""
    n = len(values)
    if n < 2:
        return None
    m = sum(values) / n
    return math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1))


def sd_from_sums(n: int, total: float, squares: float) -> float | None:
    """The sample standard deviation from n, Σx and Σx² (as SQL returns them)."""
    if n < 2:
        return None
    variance = (squares - total * total / n) / (n - 1)
    return math.sqrt(max(variance, 0.0))


def share(part: int, whole: int) -> float | None:
    """``part / whole``; ``None`` when there is nothing to divide by."""
    return part / whole if whole else None


def effect_size(changes: Sequence[float], firsts: Sequence[float]) -> float | None:
    """Mean change divided by the sample SD of the first totals (same episodes)."""
    sd = sample_sd(firsts)
    if not changes or not sd:
        return None
    return (sum(changes) / len(changes)) / sd


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0–1) by linear interpolation between closest ranks.

    The same as PostgreSQL's ``percentile_cont`` and numpy's default.
    """
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- Welch's t-test -------------------------------------------------------------------

def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta (modified Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) for a, b > 0 and 0 ≤ x ≤ 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError("x must lie in [0, 1]")
    if x in (0.0, 1.0):
        return x
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    # The fraction converges fast on the side of the mean; use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_two_sided_p(t: float, df: float) -> float:
    """The two-sided p-value of Student's t with ``df`` degrees of freedom."""
    return betainc(df / 2.0, 0.5, df / (df + t * t))


def welch(first: Sequence[float], second: Sequence[float]
          ) -> tuple[float, float, float] | None:
    """Welch's unequal-variance t-test: (t, df, two-sided p), or ``None``.

    ``None`` when either group has fewer than two values or both have no
    spread (the statistic is undefined).
    """
    n1, n2 = len(first), len(second)
    if n1 < 2 or n2 < 2:
        return None
    m1, m2 = sum(first) / n1, sum(second) / n2
    v1 = sum((x - m1) ** 2 for x in first) / (n1 - 1)
    v2 = sum((x - m2) ** 2 for x in second) / (n2 - 1)
    se1, se2 = v1 / n1, v2 / n2
    if se1 + se2 == 0:
        return None
    t = (m1 - m2) / math.sqrt(se1 + se2)
    df = (se1 + se2) ** 2 / (se1 ** 2 / (n1 - 1) + se2 ** 2 / (n2 - 1))
    return t, df, t_two_sided_p(t, df)
