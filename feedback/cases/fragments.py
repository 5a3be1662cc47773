"""The case graphs' repeated parts as markup, built once per page in Python.

A case with 200 meetings has hundreds of points, table rows and timeline
entries; building each from a template loop costs more than the whole raw
page (issue 8). These functions join already computed values into markup,
every text escaped; templates print the result as it is.
"""

from __future__ import annotations

from markupsafe import Markup, escape


def _e(value) -> str:
    return str(escape(value))


def points(s) -> Markup:
    """One series' points: focusable, labelled for screen readers, with their data."""
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
        out.append(f'<g class="pt{flag}" tabindex="0" role="img" aria-label="{_e(p.detail)}" '
                   f'data-date="{p.held_on}" data-value="{p.value}" '
                   f'data-meeting="{p.meeting_number}">{dot}{mark}{label}</g>')
    return Markup("".join(out))  # noqa: S704 (every value went through _e)


def rows(chart, words: dict) -> Markup:
    """The table alternative's body: one row per answer, each cell labelled for phones."""
    heads = [_e(words.get(k, k)) for k in ("who", "date", "meeting", "version", "score",
                                           "band" if chart.family == "ruler" else "items",
                                           "note")]
    score = chart.family != "meeting-experience"
    out = []
    for r in chart.rows:
        cells = [(heads[0], "", r.who), (heads[1], "", r.date_text),
                 (heads[2], ' class="num"', r.number),
                 (heads[3], "", r.version + ("*" if r.hollow else ""))]
        if score:
            cells.append((heads[4], ' class="num"', r.value))
        cells += [(heads[5], "", r.items), (heads[6], "", r.note)]
        flagged = ' class="flagged"' if r.flagged else ""
        out.append(f"<tr{flagged}>" + "".join(
            f'<td data-label="{h}"{cls}>{_e(v)}</td>' for h, cls, v in cells) + "</tr>")
    return Markup("\n".join(out))  # noqa: S704 (every value went through _e)


def entries(meeting, words: dict) -> Markup:
    """Who answered what at one meeting: one line per person, voided answers struck out."""
    if not meeting.entries:
        return Markup(f'<p class="hint">{_e(words.get("no_answers", ""))}</p>')  # noqa: S704
    voided = _e(words.get("voided", "voided"))
    skipped = words.get("skipped_n", lambda n: f"{n}")
    out = ['<ul class="answered">']
    for who, found in meeting.by_person:
        parts = []
        for e in found:
            text = _e(e.title) + (f" {_e(e.total)}" if e.total else "")
            if e.voided:
                text = f'<del>{text}</del> <span class="voided-mark">({voided})</span>'
            if e.missing:
                text += f' <span class="hint">({_e(skipped(e.missing))})</span>'
            parts.append(f'<span class="entry{" voided" if e.voided else ""}">{text}</span>')
        out.append(f"<li><strong>{_e(who)}:</strong> " + " · ".join(parts) + "</li>")
    out.append("</ul>")
    return Markup("".join(out))  # noqa: S704 (every value went through _e)
