"""The raw baseline for the case page: plain WSGI, plain SQL, strings joined by hand.

Run under the same gunicorn configuration as the app
(``gunicorn -c deploy/gunicorn.conf.py bench.baseline_case:app``), on a copy
of the app's database. For ``GET /cases/<id>`` it does what the case page
must do and shows what it shows:

* check the staff cookie (an HMAC of the user id) and load the user;
* load the case if the user is responsible for it (the access check);
* write the audit row of the read and commit it before sending anything
  (SQLite: ``BEGIN IMMEDIATE``, WAL, ``synchronous=FULL``, as the app);
* run the graph's indexed query (every answer of the case with its item values
  aggregated per answer, voided ones marked), the meetings and the participants;
* render the page: an SVG with one line per respondent and one focusable point
  per outcome answer, named with its date, meeting number, total and item
  values; the cut-off lines, a date under each meeting, the legend, the table
  of the same numbers with the items and the change from the first; the
  timeline of meetings with who answered what (voided answers marked), the
  participants and the forms.

Instrument definitions are parsed once per process (they are frozen rows).
Environment: ``BENCH_DATABASE``, ``BENCH_DATABASE_KIND``, ``FEEDBACK_SECRET_KEY``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from datetime import date
from html import escape

from bench.baseline_submit import (
    KEY,
    SECURITY_HEADERS,
    SQLITE,
    clock_now,
    db_id,
    db_time,
    sql,
)
from bench.baseline_submit import connection as _connection

COOKIE = "feedback_baseline_staff"
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 360, 48, 24, 16, 48
MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.",
          "nov.", "dec.")
ROLES = {"child": "Barn", "mother": "Mor", "father": "Far", "other_carer": "Anden omsorgsperson",
         "network": "Netværksperson", "professional": "Fagperson"}
TYPES = {"first": "Første samtale", "follow_up": "Opfølgning", "network": "Netværksmøde",
         "closing": "Afsluttende møde"}
MODES = {"in_person": "Fremmøde", "video": "Video", "phone": "Telefon"}




def cookie_for(user_id: str, key: bytes | None = None) -> str:
    mac = hmac.new(key or KEY, f"staff:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"{user_id}.{mac}"


USER = sql("SELECT display_name, role FROM users WHERE id = ? AND active = ?")
CASE = sql("""
    SELECT c.reference, c.child_birth_year, c.child_birth_month, c.opened_on, c.closed_on,
           t.name
    FROM cases c JOIN teams t ON t.id = c.team_id
    WHERE c.id = ? AND c.responsible_id = ?""")
AUDIT = sql("""
    INSERT INTO audit_events (at, actor_id, actor_kind, action, object_type, object_id,
                              outcome, detail, remote_addr)
    VALUES (?, ?, 'staff', 'case.view', 'case', ?, ?, NULL, ?)""")
MEETINGS = sql("""SELECT id, held_on, type, mode FROM meetings WHERE case_id = ?
                  ORDER BY held_on, created_at""")
#: Every answer of the case with its items in one text (key=73,key2=!skipped), as the app.
ITEMS = ("(SELECT group_concat(a.item_key || '=' || coalesce(CAST(a.value_tenths AS TEXT), "
         "'!' || a.missing_code), ',') FROM answers a WHERE a.response_id = r.id)") if SQLITE \
    else ("(SELECT string_agg(a.item_key || '=' || coalesce(CAST(a.value_tenths AS TEXT), "
          "'!' || a.missing_code), ',') FROM answers a WHERE a.response_id = r.id)")
GRAPH = sql(f"""
    SELECT r.participant_id, p.role, p.label, r.meeting_id, m.held_on, r.total_tenths,
           r.subject, iv.id, iv.family, v.response_id, {ITEMS}
    FROM responses r
    JOIN meetings m ON m.id = r.meeting_id
    JOIN participants p ON p.id = r.participant_id
    JOIN instrument_versions iv ON iv.id = r.instrument_version_id
    LEFT JOIN response_voids v ON v.response_id = r.id
    WHERE m.case_id = ?
    ORDER BY m.held_on, m.created_at, r.submitted_at""")
PARTICIPANTS = sql("SELECT role, label FROM participants WHERE case_id = ? ORDER BY created_at")
DEFINITION = sql("SELECT key, definition FROM instrument_versions WHERE id = ?")

_instruments: dict = {}
_lock = threading.Lock()


def instrument(conn, version_id):
    """(key, psychometric, cut-offs as (min age, max age, tenths), item (key, Danish label)),
    parsed once per process."""
    found = _instruments.get(version_id)
    if found is None:
        key, raw = conn.execute(DEFINITION, (version_id,)).fetchone()
        definition = json.loads(raw) if isinstance(raw, str) else raw
        cuts = [(c["min_age"], c["max_age"], c["value_tenths"]) for c in definition["cutoffs"]]
        labels = [(i["key"], escape(i["label"].get("da") or i["key"]))
                  for i in definition["items"]]
        found = (key, definition["psychometric"], cuts, labels)
        with _lock:
            _instruments[version_id] = found
    return found


def cutoff(psychometric: bool, cuts, age: int | None) -> int | None:
    if not psychometric:
        return None
    age = 18 if age is None else age
    for lo, hi, value in cuts:
        if lo <= age and (hi is None or age <= hi):
            return value
    return None


def as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


_dates: dict = {}


def long_date(day: date) -> str:
    text = _dates.get(day)
    if text is None:
        text = _dates[day] = f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return text


def age_on(birth_year: int, birth_month: int | None, day: date) -> int:
    month = birth_month or 7
    return day.year - birth_year - (0 if (day.month, day.day) >= (month, 1) else 1)


def page(conn, user_id: uuid.UUID, case_id: uuid.UUID, remote_addr: str | None) -> bytes | None:
    user = conn.execute(USER, (db_id(user_id), True)).fetchone()
    case = user and conn.execute(CASE, (db_id(case_id), db_id(user_id))).fetchone()
    if SQLITE:
        conn.execute("BEGIN IMMEDIATE")
    conn.execute(AUDIT, (db_time(clock_now()), db_id(user_id), str(case_id),
                         "ok" if case else "refused", remote_addr))
    conn.commit() if not SQLITE else conn.execute("COMMIT")
    if case is None:
        return None
    reference, birth_year, birth_month, opened_on, closed_on, team = case
    meetings = conn.execute(MEETINGS, (db_id(case_id),)).fetchall()
    rows = conn.execute(GRAPH, (db_id(case_id),)).fetchall()
    participants = conn.execute(PARTICIPANTS, (db_id(case_id),)).fetchall()
    if not SQLITE:
        conn.commit()  # end the read transaction psycopg opened

    n = max(len(meetings), 1)
    span = (WIDTH - RIGHT) - LEFT
    x_of = {m[0]: LEFT + span * (i + 0.5) / n for i, m in enumerate(meetings)}

    def y_of(value: float) -> float:
        return (HEIGHT - BOTTOM) - value / 40 * ((HEIGHT - BOTTOM) - TOP)

    series: dict = {}
    answered: dict = {}
    numbers = {m[0]: n for n, m in enumerate(meetings, 1)}
    for (participant_id, role, label, meeting_id, held_on, total, subject, version_id, family,
         void, items) in rows:
        key, psychometric, cuts, labels = instrument(conn, version_id)
        name = ROLES[role] + (f" ({escape(label)})" if label else "")
        shown = "" if total is None else f"{total // 10},{total % 10}"
        answered.setdefault(meeting_id, []).append(
            (name, key.upper(), shown, void is not None))
        if family != "outcome" or total is None or void is not None:
            continue
        values = dict(pair.split("=") for pair in (items or "").split(",") if pair)
        text = " · ".join(f"{lab} {int(values[k]) // 10},{int(values[k]) % 10}"
                          if k in values and not values[k].startswith("!") else f"{lab} –"
                          for k, lab in labels)
        day = as_date(held_on)
        s = series.get(participant_id)
        if s is None:
            s = series[participant_id] = {"name": name, "points": [], "cut": None}
        value = total / 10
        s["points"].append((x_of[meeting_id], y_of(value), value, day, key.upper(),
                            psychometric, text, numbers[meeting_id], shown))
        about_child = subject == "child" or role == "child"
        cut = cutoff(psychometric, cuts,
                     age_on(birth_year, birth_month, day) if about_child else None)
        s["cut"] = None if cut is None else cut / 10

    out = [f'<!doctype html>\n<html lang="da">\n<head>\n<meta charset="utf-8">\n'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
           f"<title>Sag {escape(reference)} · Feedback</title>\n"
           f'<link rel="stylesheet" href="/static/css/staff.css">\n</head>\n<body>\n'
           f'<a class="skip" href="#main">Gå til indhold</a>\n<header class="top">'
           f'<a class="brand" href="/">Feedback</a><nav aria-label="Hovedmenu"><ul>'
           f'<li><a href="/cases">Mine sager</a></li></ul></nav>'
           f'<form class="logout" method="post" action="/logout"><span class="who">'
           f"{escape(user[0])}</span><button>Log ud</button></form></header>\n"
           f'<main id="main">\n<div class="title-row"><h1>Sag {escape(reference)}</h1>'
           f'<p class="meta">{escape(team)} · født {birth_year} · åbnet '
           f"{long_date(as_date(opened_on))}"
           + (f" · lukket {long_date(as_date(closed_on))}" if closed_on else "")
           + '</p></div>\n<section aria-labelledby="graph-title"><h2 id="graph-title">'
           "Hvordan det går (ORS-familien)</h2>\n"]
    if not series:
        out.append("<p>Ingen vurderinger endnu.</p>")
    else:
        out.append(f'<figure class="graph"><svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
                   f'aria-labelledby="graph-desc" xmlns="http://www.w3.org/2000/svg">'
                   f'<desc id="graph-desc">Totaler (0–40) pr. besvarer over møderne. '
                   f"Tabellen nedenfor har de samme tal.</desc>\n")
        for value in range(0, 41, 10):
            y = y_of(value)
            out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" '
                       f'y2="{y}"/><text class="tick" x="{LEFT - 8}" y="{y + 4}" '
                       f'text-anchor="end">{value}</text>\n')
        for cut in sorted({s["cut"] for s in series.values() if s["cut"] is not None}):
            y = y_of(cut)
            out.append(f'<line class="cutoff" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" '
                       f'y2="{y}"/><text class="cutoff-label" x="{WIDTH - RIGHT}" '
                       f'y="{y - 6}" text-anchor="end">Grænse {cut}</text>\n')
        for meeting_id, held_on, _type, _mode in meetings:
            day = as_date(held_on)
            out.append(f'<text class="tick" x="{x_of[meeting_id]}" y="{HEIGHT - BOTTOM + 20}" '
                       f'text-anchor="middle">{day.day:02d}/{day.month:02d}</text>\n')
        table = []
        for n_series, s in enumerate(series.values()):
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, *_ in s["points"])
            out.append(f'<g class="series s{n_series % 6}"><title>{s["name"]}</title>'
                       f'<polyline points="{path}"/>')
            first = s["points"][0][2]
            for x, y, value, day, key, psychometric, text, number, shown in s["points"]:
                when = long_date(day)
                unscaled = "" if psychometric else ' class="unscaled"'
                out.append(f'<g class="pt" tabindex="0" role="img" aria-label="{s["name"]}: '
                           f'{when} · #{number} · {shown} ({text})" data-date="{day}" '
                           f'data-value="{value}" data-meeting="{number}">'
                           f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6"{unscaled}/></g>')
                change = round(value - first, 1)
                table.append(f'<tr><td data-label="Besvarer">{s["name"]}</td>'
                             f'<td data-label="Dato">{when}</td><td data-label="Møde" '
                             f'class="num">{number}</td><td data-label="Skema">{key}'
                             f'{"" if psychometric else "*"}</td><td data-label="Score" '
                             f'class="num">{shown}</td><td data-label="Spørgsmål">{text}</td>'
                             f'<td data-label="Bemærkning">{change:+}</td></tr>\n')
            out.append("</g>\n")
        out.append('</svg><figcaption><ul class="legend">')
        for n_series, s in enumerate(series.values()):
            cut = f" – grænse {s['cut']}" if s["cut"] is not None else ""
            out.append(f'<li><span class="swatch s{n_series % 6}" aria-hidden="true"></span>'
                       f"{s['name']}{cut}</li>")
        out.append('</ul></figcaption></figure>\n<details class="graph-table"><summary>Vis '
                   'tallene som tabel</summary><table class="list"><thead><tr>'
                   '<th scope="col">Besvarer</th><th scope="col">Dato</th>'
                   '<th scope="col">Skema</th><th scope="col">Total</th></tr></thead><tbody>\n')
        out.extend(table)
        out.append("</tbody></table></details>\n")
    out.append('</section>\n<div class="columns"><section id="meetings"><h2>Møder</h2>'
               '<ul class="meetings">\n')
    for meeting_id, held_on, type_, mode in reversed(meetings):
        mid = meeting_id if isinstance(meeting_id, str) else meeting_id.hex
        who: dict = {}
        for name, key, shown, voided in answered.get(meeting_id, ()):
            entry = f"{key} {shown}" if shown else key
            who.setdefault(name, []).append(
                f'<del>{entry}</del> <span class="voided-mark">(annulleret)</span>'
                if voided else entry)
        lines = "".join(f"<li><strong>{name}:</strong> {' · '.join(e)}</li>"
                        for name, e in who.items())
        out.append(f'<li><a href="/meetings/{uuid.UUID(mid)}">{long_date(as_date(held_on))} · '
                   f"#{numbers[meeting_id]} · {TYPES[type_]} ({MODES[mode]})</a>"
                   f'<ul class="answered">{lines}</ul></li>\n')
    out.append('</ul><h3>Nyt møde</h3><form method="post" action="/cases/'
               f'{case_id}/meetings"><input type="date" name="held_on"><button class="primary">'
               'Opret møde</button></form></section>\n<section id="participants"><h2>Deltagere'
               '</h2><ul class="participants">')
    for role, label in participants:
        out.append(f"<li>{ROLES[role]}{f' ({escape(label)})' if label else ''}</li>")
    out.append("</ul></section></div>\n</main>\n</body>\n</html>\n")
    return "".join(out).encode("utf-8")


def _user_from_cookie(environ) -> uuid.UUID | None:
    for part in environ.get("HTTP_COOKIE", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            user_id = value.partition(".")[0]
            if hmac.compare_digest(cookie_for(user_id), value):
                return uuid.UUID(user_id)
    return None


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    status, body = "404 Not Found", b"not found\n"
    if path == "/":
        status, body = "200 OK", b"baseline\n"
    elif path.startswith("/cases/") and environ["REQUEST_METHOD"] == "GET":
        user_id = _user_from_cookie(environ)
        try:
            case_id = uuid.UUID(path.removeprefix("/cases/"))
        except ValueError:
            case_id = None
        if user_id is None:
            status, body = "302 Found", b""
        elif case_id is not None:
            found = page(_connection(), user_id, case_id, environ.get("REMOTE_ADDR"))
            if found is not None:
                status, body = "200 OK", found
    start_response(status, [("Content-Type", "text/html; charset=utf-8"),
                            ("Content-Length", str(len(body))), *SECURITY_HEADERS])
    return [body]
