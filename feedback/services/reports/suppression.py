"""Small cells (decision 37): figures built on fewer than k children are shown as "<k".

Applied to reports seen outside a team's own view (analysts); a team lead
reading their own teams sees every figure. Each table says how many
children each row (or each group of its columns) rests on; a cell under the
threshold is hidden, and where a table has total rows, the smallest other
cell of the same group is hidden too when the total would otherwise reveal
the hidden one (secondary suppression).
"""

from __future__ import annotations

from feedback.services.reports.common import ROLE, TEXT, Report, Table


def _bases(table: Table, i: int) -> list[tuple[tuple[str, ...], int]]:
    base = table.children[i]
    if isinstance(base, dict):
        return list(base.items())
    figures = tuple(c.key for c in table.columns if c.kind not in (TEXT, ROLE))
    return [(figures, base)]


def _hide(table: Table, i: int, keys, marker: str) -> None:
    row = list(table.rows[i])
    for n, column in enumerate(table.columns):
        if column.key in keys and row[n] is not None:
            row[n] = marker
    table.rows[i] = tuple(row)


def _children(table: Table, i: int) -> int:
    return min(n for _, n in _bases(table, i))


def apply(report: Report, threshold: int) -> int:
    """Hide small cells in place; returns how many rows had a cell hidden."""
    if threshold <= 1:
        return 0
    marker = f"<{threshold}"
    hidden_rows = 0
    for table in report.tables:
        if not table.children:
            continue
        hidden: set[int] = set()
        for i in range(len(table.rows)):
            for keys, n in _bases(table, i):
                if 0 < n < threshold:
                    _hide(table, i, keys, marker)
                    hidden.add(i)
        groups: dict = {}
        for i, key in enumerate(table.groups):
            if key is not None:
                groups.setdefault(key, []).append(i)
        for members in groups.values():
            totals = [i for i in members if i in table.totals]
            parts = [i for i in members if i not in table.totals]
            if not totals or any(t in hidden for t in totals):
                continue
            if sum(1 for i in parts if i in hidden) == 1:
                shown = [i for i in parts if i not in hidden]
                victim = min(shown, key=lambda i: _children(table, i)) if shown else totals[0]
                _hide(table, victim, {c.key for c in table.columns}
                      - {c.key for c in table.columns if c.kind in (TEXT, ROLE)}, marker)
                hidden.add(victim)
        hidden_rows += len(hidden)
    if report.chart_children:
        kept = [(entry, n) for entry, n in zip(report.chart, report.chart_children, strict=True)
                if not 0 < n < threshold]
        hidden_rows += len(report.chart) - len(kept)
        report.chart = [entry for entry, _ in kept]
    report.suppressed = hidden_rows
    report.threshold = threshold
    return hidden_rows
