"""Upgrading from the first release's schema with data in it: `flask db upgrade` to the
code's head, and every answer (and everything around it) is still there.

The data is written with plain SQL against the first release's schema, so the
test keeps working unchanged as later migrations are added: it always starts
from the same schema and ends at whatever head the code has then. A migration
that renames or drops one of these tables has to say here what became of it.
"""

from __future__ import annotations

import json
import uuid

from flask_migrate import upgrade
from sqlalchemy import text

from feedback.checks import code_heads, database_heads, run_checks
from feedback.extensions import db
from feedback.instruments.loader import SHIPPED, load_pack
from tests.conftest import fresh_database
from tests.deploy.conftest import app_on

#: The head of the first release (main on 2026-11-22): the initial schema, then
#: throttle counts. Never change this when adding migrations.
FIRST_RELEASE = "0cd19bc4aa50"

#: The first release's tables (besides alembic_version).
TABLES = ("organisations", "teams", "users", "team_memberships", "instrument_versions",
          "cases", "case_tags", "participants", "meetings", "invitations",
          "invitation_items", "invitation_tokens", "responses", "answers", "audit_events",
          "throttle_counts")

ORS_ITEMS = ("individually", "interpersonally", "socially", "overall")


class Rows:
    """INSERTs in the first release's schema, with ids in the engine's own format."""

    def __init__(self, conn):
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"

    def id(self) -> str:
        value = uuid.uuid4()
        # SQLAlchemy's Uuid type: 32 hex digits on SQLite, a native uuid on PostgreSQL.
        return value.hex if self.sqlite else str(value)

    def insert(self, table: str, **values) -> None:
        columns = ", ".join(values)
        params = ", ".join(f":{name}" for name in values)
        self.conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)


def _first_release_data(conn) -> None:
    """A team with a caseworker, two cases with meetings, links and answers, and audit rows."""
    rows = Rows(conn)
    at = "2026-11-20 10:00:00"
    org, team, user = rows.id(), rows.id(), rows.id()
    rows.insert("organisations", id=org, name="Første Kommune")
    rows.insert("teams", id=team, organisation_id=org, name="Nord")
    rows.insert("users", id=user, organisation_id=org, username="anna", display_name="Anna",
                password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", role="caseworker",
                active=True, locale="da", session_version=1, created_at=at)
    rows.insert("team_memberships", user_id=user, team_id=team)
    ors = rows.id()
    # Frozen as the shipped pack freezes itself, so the start-up pack check is satisfied.
    pack = load_pack(SHIPPED / "ors.toml")
    assert [i.key for i in pack.items] == list(ORS_ITEMS)
    rows.insert("instrument_versions", id=ors, key="ors", version=pack.version,
                family="outcome", digest=pack.digest, definition=json.dumps(pack.to_json()),
                created_at=at)

    for number, (reference, values) in enumerate([("2026-0001", (35, 70, 100, 1)),
                                                  ("2026-0002", (50, None, 80, 65))]):
        case, child, mother = rows.id(), rows.id(), rows.id()
        rows.insert("cases", id=case, organisation_id=org, reference=reference, team_id=team,
                    responsible_id=user, opened_on="2026-01-10", closed_on=None,
                    child_birth_year=2012, child_birth_month=None, created_at=at)
        rows.insert("case_tags", case_id=case, name="Forsøg")
        rows.insert("participants", id=child, case_id=case, role="child", label=None,
                    created_at=at)
        rows.insert("participants", id=mother, case_id=case, role="mother", label="M",
                    created_at=at)
        meeting, invitation = rows.id(), rows.id()
        rows.insert("meetings", id=meeting, case_id=case, held_on="2026-11-20", type="first",
                    mode="in_person", created_by_id=user, created_at=at)
        rows.insert("invitations", id=invitation, meeting_id=meeting, participant_id=child,
                    subject="child", created_by_id=user, created_at=at,
                    expires_at="2026-11-24 00:00:00")
        rows.insert("invitation_items", invitation_id=invitation, position=0,
                    instrument_version_id=ors, used_at=at)
        for kind in ("link", "code"):
            rows.insert("invitation_tokens", id=rows.id(), invitation_id=invitation, kind=kind,
                        token_hash=uuid.uuid4().hex * 2, created_at=at, revoked_at=None,
                        opened_at=at if kind == "link" else None)
        response = rows.id()
        total = None if None in values else sum(values)
        rows.insert("responses", id=response, submission_id=rows.id(), meeting_id=meeting,
                    participant_id=child, staff_user_id=None, invitation_id=invitation,
                    instrument_version_id=ors, subject="child", total_tenths=total,
                    submitted_at=f"2026-11-20 10:0{number}:00.123456", locale="da")
        for position, (item, value) in enumerate(zip(ORS_ITEMS, values, strict=True)):
            rows.insert("answers", response_id=response, item_key=item, position=position,
                        value_tenths=value, missing_code="skipped" if value is None else None)
        # An invitation for the mother, not answered yet.
        pending = rows.id()
        rows.insert("invitations", id=pending, meeting_id=meeting, participant_id=mother,
                    subject="child", created_by_id=user, created_at=at,
                    expires_at="2026-11-24 00:00:00")
        rows.insert("invitation_items", invitation_id=pending, position=0,
                    instrument_version_id=ors, used_at=None)
        for action in ("case.create", "case.read", "response.submit"):
            conn.execute(text(
                "INSERT INTO audit_events (at, actor_id, actor_kind, action, object_type, "
                "object_id, outcome, detail, remote_addr) VALUES (:at, :actor, 'staff', "
                ":action, 'case', :case, 'ok', NULL, '10.0.0.1')"),
                {"at": at, "actor": user, "action": action, "case": case})
    rows.insert("throttle_counts", key="code-addr:10.0.0.9", window_start="2026-11-20 10:00:00",
                count=3)


def _snapshot(conn) -> dict:
    counts = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
              for table in TABLES}
    answers = conn.execute(text(
        "SELECT c.reference, a.item_key, a.position, a.value_tenths, a.missing_code, "
        "r.total_tenths, r.submitted_at FROM answers a "
        "JOIN responses r ON r.id = a.response_id JOIN meetings m ON m.id = r.meeting_id "
        "JOIN cases c ON c.id = m.case_id ORDER BY c.reference, a.position")).all()
    return {"counts": counts, "answers": [tuple(row) for row in answers]}


def test_answers_survive_the_upgrade_from_the_first_release(backend, tmp_path_factory):
    with fresh_database(backend, tmp_path_factory) as url, app_on(url) as app:
        with app.app_context():
            upgrade(revision=FIRST_RELEASE)
            assert database_heads() == {FIRST_RELEASE}
            with db.engine.begin() as conn:
                _first_release_data(conn)
            with db.engine.connect() as conn:
                before = _snapshot(conn)
        assert before["counts"]["answers"] == 8 and before["counts"]["audit_events"] == 6

        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output

        with app.app_context():
            assert database_heads() == code_heads()
            assert run_checks() == [], "the upgraded database fits the code"
            with db.engine.connect() as conn:
                after = _snapshot(conn)
    assert after["counts"] == before["counts"]
    assert after["answers"] == before["answers"]
    skipped = [row for row in after["answers"] if row[4] == "skipped"]
    assert [(row[0], row[1], row[3], row[5]) for row in skipped] == [
        ("2026-0002", "interpersonally", None, None)]
