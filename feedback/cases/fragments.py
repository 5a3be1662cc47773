"""The case graphs' repeated parts as markup, built once per page in Python.

A case with 200 meetings has hundreds of points, table rows and timeline
entries; building each from a template loop costs more than the whole raw
page (issue 8). These functions join already computed values into markup,
every text escaped; templates print the result as it is.
"""

from __future__ import annotations

from markupsafe import Markup, escape


class Html:
    """Markup joined here, printed by templates as it is (its ``__html__``).

    Not a :class:`~markupsafe.Markup`: templates wrap what they print in a new
    ``Markup``, and CPython copies a long string that is already a ``str``
    subclass slowly when it holds characters beyond Latin-1 ("–", "−"): about
    a millisecond per 500 KB, paid again at every level. A plain ``str``
    inside is copied at memory speed.
    """

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __html__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


class _Escaped(dict):
    """Short texts escaped once: names, dates and notes repeat on every row of a long case."""

    def __missing__(self, text: str) -> str:
        if len(self) > 20_000:  # bounded: a long-lived worker sees many cases
            self.clear()
        found = self[text] = str(escape(text))
        return found


escaped = _Escaped()


#: Texts shorter than this are kept escaped; longer ones (a point's description,
#: a row's items) rarely repeat and are escaped each time.
SHORT = 40


def _e(value) -> str:
    kind = type(value)
    if kind is str:
        return escaped[value] if len(value) < SHORT else str(escape(value))
    if kind is Markup:
        return value
    if kind is Html:  # escaped already (an items line)
        return value.text
    return str(escape(value))


def points(s) -> Html:
    """One series' points: focusable, labelled for screen readers, with their data.

    A point's description (``detail``) is escaped already: charts build it from
    parts escaped once per page.
    """
    out = []
    colour = _e(s.colour)
    for p in s.points:
        flag = f" flag-{p.flag}" if p.flag else ""
        if p.hollow:
            dot = (f'<circle cx="{p.x}" cy="{p.y}" r="7" class="hollow" fill="#fff" '
                   f'stroke="{colour}"/>')
        else:
            dot = f'<circle cx="{p.x}" cy="{p.y}" r="6" fill="{colour}"/>'
        mark = f'<circle class="mark" cx="{p.x}" cy="{p.y}" r="11"/>' if p.flag else ""
        label = (f'<text class="val" x="{p.x}" y="{p.label_y}" text-anchor="middle" '
                 f'aria-hidden="true">{_e(p.value_text)}</text>') if p.labelled else ""
        out.append(f'<g class="pt{flag}" tabindex="0" role="img" aria-label="{p.detail}" '
                   f'data-date="{p.held_on}" data-value="{p.value}" '
                   f'data-meeting="{p.meeting_number}">{dot}{mark}{label}</g>')
    return Html("".join(out))


def x_ticks(chart) -> Html:
    """The time axis: a tick per meeting, its date and number where there is room."""
    bottom = chart.bottom
    y1, y2, y3 = bottom + 6, bottom + 24, bottom + 44
    out = []
    for t in chart.x_ticks:
        out.append(f'<line class="xtick" x1="{t.x}" x2="{t.x}" y1="{bottom}" y2="{y1}"/>')
        if t.labelled:
            out.append(f'<text class="tick" x="{t.x}" y="{y2}" text-anchor="middle">'
                       f'{_e(t.date_text)}</text><text class="tick meeting-no" x="{t.x}" '
                       f'y="{y3}" text-anchor="middle">#{t.number}</text>')
    return Html("".join(out))


def timeline(meetings, href: str, marker: str, types: dict) -> Html:
    """The timeline's list items: each meeting linked (``href``, a meeting's link with
    ``marker`` for its id), its date, number and kind (``types``: each kind's name),
    and who answered what."""
    before, _, after = href.partition(marker)
    before, after = _e(before), _e(after)
    out = []
    for m in meetings:
        out.append(f'\n    <li><a href="{before}{m.id}{after}"><span class="tl-date">'
                   f"{_e(m.date_text)}</span> · #{m.number} · {_e(types[m.type])}</a>"
                   f"{m.markup}</li>")
    return Html("".join(out))


FLAGGED = '<tr class="flagged">'


def rows(chart, words: dict) -> Html:
    """The table alternative's body: one row per answer, each cell labelled for phones."""
    who, date, meeting, version, score, items, note = (
        f'<td data-label="{_e(words.get(k, k))}"' for k in (
            "who", "date", "meeting", "version", "score",
            "band" if chart.family == "ruler" else "items", "note"))
    with_score = chart.family != "meeting-experience"
    # Names, dates, versions, values and notes repeat down the table: kept escaped.
    short = escaped
    out = []
    # Rows are charts.Row named tuples, unpacked (faster than ten attribute reads).
    for (r_who, _role, r_date, r_number, r_version, r_value, r_items, r_note, flagged,
         hollow) in chart.rows:
        value = f'{score} class="num">{short[r_value]}</td>' if with_score else ""
        out.append(
            f'{FLAGGED if flagged else "<tr>"}{who}>{short[r_who]}</td>'
            f'{date}>{short[r_date]}</td>{meeting} class="num">{r_number}</td>'
            f'{version}>{short[r_version]}{"*" if hollow else ""}</td>{value}'
            f'{items}>{_e(r_items)}</td>{note}>{short[r_note]}</td></tr>')
    return Html("\n".join(out))


def answered(people: dict[str, list[str]], words: dict) -> str:
    """Who answered what at one meeting: one line per person (``people``: each person's
    name and the markup of their answers, :func:`answer`, in the order they came)."""
    if not people:
        return f'<p class="hint">{_e(words.get("no_answers", ""))}</p>'
    lines = "".join(f"<li><strong>{_e(who)}:</strong> " + " · ".join(line) + "</li>"
                    for who, line in people.items())
    return f'<ul class="answered">{lines}</ul>'


def answer(title: str, total: str | None, missing: int, voided: bool, words: dict) -> str:
    """One answered questionnaire in the timeline: its title and total, skips counted,
    struck out when voided."""
    text = _e(title) + (f" {_e(total)}" if total else "")
    if voided:
        mark = _e(words.get("voided", "voided"))
        text = f'<del>{text}</del> <span class="voided-mark">({mark})</span>'
    if missing:
        skipped = words.get("skipped_n", lambda n: f"{n}")
        text += f' <span class="hint">({_e(skipped(missing))})</span>'
    return (f'<span class="entry voided">{text}</span>' if voided
            else f'<span class="entry">{text}</span>')
