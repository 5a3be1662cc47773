"""On PostgreSQL exports read their rows with COPY (feedback/services/exports/pgcopy.py).

The files must be the same, byte for byte, as those read with a cursor, also
when team names and tags hold what COPY's text format escapes (tabs, line
ends, backslashes, a literal ``\\N``) and what text may hold besides (quotes,
emoji, right-to-left marks, control characters), and with every kind of filter
bound as a parameter: team and tag names typed by users, dates, roles, the
team ids of a team lead's scope. On SQLite the cursor is the only path.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import BigInteger, Integer, String, func, literal, select

from feedback import clock
from feedback.extensions import db
from feedback.models import Case, CaseTag, Participant, Team
from feedback.services.exports import pgcopy
from tests.conftest import FROZEN_NOW, migrated_app
from tests.integration import export_world
from tests.integration.test_export_formats import Source, export, members

#: The world's teams renamed (Nord is the team lead's team).
HOSTILE_TEAMS = {
    "Nord": 'Nord\tfane\nny linje\r\\sti\\ "citat" \'enkelt\' \\N',
    "=Formel": "\\N",
    "Syd; Vest": "=Syd; Vest 😀 \u200f\u202eעברית\u202c \\t \b\f\v\x01\x1b\x7f,",
}
HOSTILE_TAGS = ("\\N", "tag\tmed fane", "§52\n\\", "😀\u200f", '"; DROP TABLE cases; --')


@pytest.fixture(scope="module")
def hostile(backend, tmp_path_factory):
    """The export world with hostile team names, tags and participant labels."""
    clock.freeze(FROZEN_NOW)
    try:
        with migrated_app(backend, tmp_path_factory) as app:
            with app.app_context():
                built = export_world.build()
                for team in db.session.scalars(select(Team)):
                    team.name = HOSTILE_TEAMS[team.name]
                for n, case in enumerate(db.session.scalars(select(Case).order_by(Case.opened_on))):
                    for tag in HOSTILE_TAGS[n::2]:
                        db.session.add(CaseTag(case_id=case.id, name=tag))
                for participant in db.session.scalars(select(Participant)):
                    participant.label = "\\N\t\n😀\u200f\\"
                db.session.commit()
                yield Source(app, built.responses, built.answers, built.unanswered)
    finally:
        clock.freeze(None)


FILTERS = [
    {},
    {"team": [HOSTILE_TEAMS["Nord"], "\\N"], "tag": ["\\N", "tag\tmed fane", "§52\n\\"]},
    {"team": [HOSTILE_TEAMS["Syd; Vest"]], "tag": ["😀\u200f", '"; DROP TABLE cases; --']},
    {"meeting_from": "2025-03-01", "meeting_to": "2025-10-01", "opened_from": "2025-01-01",
     "opened_to": "2025-03-01", "role": ["child", "mother", "staff"], "case_status": "open"},
    {"role": ["network", "father"], "family": ["outcome"], "instrument": ["child-ruler"]},
]


def both_ways(app, monkeypatch, username, kind, dialect, filters) -> tuple[bytes, bytes, int]:
    """The export read with COPY (where it applies) and with a cursor, and the rows COPY read."""
    read = []
    copy_rows = pgcopy.copy_rows

    @contextmanager
    def counted(stmt, connection):
        with copy_rows(stmt, connection) as found:
            yield (read.append(1) or row for row in found)

    with monkeypatch.context() as patch:
        patch.setattr(pgcopy, "copy_rows", counted)
        by_copy = export(app, username, kind, dialect, **filters)
    with monkeypatch.context() as patch:
        patch.setattr(pgcopy, "supported", lambda stmt: False)
        by_cursor = export(app, username, kind, dialect, **filters)
    return by_copy, by_cursor, len(read)


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("dialect", ["rfc4180", "excel-da"])
def test_the_long_file_read_with_copy_is_the_cursors_byte_for_byte(hostile, backend, monkeypatch,
                                                                   filters, dialect):
    by_copy, by_cursor, read = both_ways(hostile.app, monkeypatch, "ali", "long", dialect,
                                         filters)
    assert by_copy == by_cursor
    lines = by_copy.count(b"\n")
    assert lines > 1 or filters  # some filters leave little
    if backend == "postgresql":
        assert read > 0 or lines == 1
    else:
        assert read == 0
    if not filters:
        text = by_copy.decode("utf-8-sig")
        assert "\\sti\\" in text and "😀" in text and "\u200f" in text and "\\N" in text
        assert read == (hostile.answers if backend == "postgresql" else 0)


@pytest.mark.parametrize("filters", FILTERS[:4])
def test_every_file_of_a_zip_read_with_copy_is_the_cursors(hostile, backend, monkeypatch,
                                                           filters):
    by_copy, by_cursor, read = both_ways(hostile.app, monkeypatch, "ali", "zip", "excel-da",
                                         filters)
    assert members(by_copy) == members(by_cursor)
    assert (read > 0) == (backend == "postgresql")


# Not .sav: its header holds the hour it was written.
@pytest.mark.parametrize("kind", ["long", "invitations", "wide", "zip"])
@pytest.mark.parametrize("filters", [{}, FILTERS[3]])
def test_a_team_leads_export_binds_their_team_ids(hostile, backend, monkeypatch, kind, filters):
    by_copy, by_cursor, read = both_ways(hostile.app, monkeypatch, "lene", kind, "rfc4180",
                                         filters)
    if by_copy[:2] == b"PK":  # one file per family
        assert members(by_copy) == members(by_cursor)
    else:
        assert by_copy == by_cursor
    assert (read > 0) == (backend == "postgresql")
    if kind == "long" and not filters:
        assert b"=Syd" not in by_copy and b"Nord" in by_copy  # only the lead's team


def test_parameters_are_bound_by_psycopg_never_pasted_into_the_sql(hostile, backend):
    with hostile.app.app_context():
        stmt = select(Team.name).where(Team.name.in_(["\\N", "x'); DROP TABLE teams; --"]),
                                       Team.name != "'")
        sql, params = pgcopy.bound(stmt, db.session.connection())
        assert "DROP" not in sql and "\\N" not in sql
        assert sorted(params.values()) == ["'", "\\N", "x'); DROP TABLE teams; --"]
        if backend == "postgresql":
            with pgcopy.copy_rows(stmt, db.session.connection()) as found:
                assert list(found) == [("\\N",)]
        db.session.rollback()


@pytest.mark.parametrize("text", [
    "plain", "a\\b", "tab\there", "line\nend\r", "\b\f\v\x01\x1b\x7f", "\\N", "\\\\N\\",
    "\\t\\n\\101\\x41", "😀\u200f\u202eעברית\u202c", "", " ", "\"'",
])
def test_copy_gives_the_cursors_text_and_integers(hostile, backend, text):
    with hostile.app.app_context():
        stmt = select(literal(text, String).label("t"), literal(None, String).label("none"),
                      literal(-7, Integer).label("n"), literal(None, Integer).label("m"),
                      literal(2**40, BigInteger).label("big"))
        connection = db.session.connection()
        expected = tuple(connection.execute(stmt).one())
        assert expected == (text, None, -7, None, 2**40)
        if backend == "postgresql":
            with pgcopy.copy_rows(stmt, connection) as found:
                assert list(found) == [expected]
        db.session.rollback()


def test_an_abandoned_copy_is_cancelled_and_the_session_still_works(hostile, backend):
    with hostile.app.app_context():
        if backend != "postgresql":  # SQLite keeps the cursor: nothing to cancel
            assert db.session.connection().dialect.name == "sqlite"
            return
        stmt = select(func.generate_series(1, 2_000_000, type_=Integer).label("n"))
        assert pgcopy.supported(stmt)
        with pgcopy.copy_rows(stmt, db.session.connection()) as found:
            assert [next(found) for _ in range(3)] == [(1,), (2,), (3,)]
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Team)) == 3
        # Left with an error (a download closed mid-file raises GeneratorExit there).
        with pytest.raises(KeyError), pgcopy.copy_rows(stmt, db.session.connection()) as found:
            next(found)
            raise KeyError("gone")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Team)) == 3
