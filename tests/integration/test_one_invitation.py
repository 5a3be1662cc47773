"""One invitation per person per meeting (decision 44), in the database and in use.

Adding a questionnaire for somebody already invited extends their invitation;
the links they hold keep working; after a hand-over is unlocked the meeting page
offers to continue on this tablet with the same invitation. The migration merges
duplicates made before, losing nothing.
"""

from __future__ import annotations

import re
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from feedback import clock, create_app
from feedback.extensions import db as _db
from feedback.models import Answer, Invitation, InvitationItem, InvitationToken, Response
from feedback.services import cases, instruments, invitations
from feedback.services.errors import Invalid
from tests import factories as f
from tests.conftest import TEST_CONFIG, TODAY, fresh_database, hidden_inputs


def _invitations(db, meeting) -> list[Invitation]:
    return list(db.session.scalars(select(Invitation).where(Invitation.meeting_id == meeting.id)))


def _answer_in_browser(client) -> None:
    """Answer the questionnaire on screen with the middle value everywhere."""
    page = client.get("/r/").get_data(as_text=True)
    action = re.search(r'action="(/r/q/\d+)"', page).group(1)
    keys = re.findall(r'id="item-([a-z_]+)"', page)
    assert keys
    data = {**hidden_inputs(page), **dict.fromkeys(keys, "5")}
    assert client.post(action, data=data).status_code == 303


def test_a_second_questionnaire_extends_the_invitation_and_the_link_keeps_working(app, db):
    w = f.world()
    case = f.case(w.anna, w.north, birth_year=2012)  # 13 at the meeting: ORS, SRS
    meeting = f.meeting(w.anna, case)
    child = f.child_of(case)
    first = f.invite(w.anna, meeting, child, ["ors"])
    respondent = app.test_client()
    assert respondent.get(f"/r/{first.token}").status_code == 303
    _answer_in_browser(respondent)
    assert "Tak" in respondent.get("/r/").get_data(as_text=True)  # all done, for now

    second = f.invite(w.anna, meeting, child, ["srs"])
    assert second.invitation.id == first.invitation.id
    assert [i.instrument_version.key for i in second.invitation.items] == ["ors", "srs"]
    assert len(_invitations(db, meeting)) == 1
    # The same browser, with the cookie from the first link, now gets the SRS.
    assert 'action="/r/q/1"' in respondent.get("/r/").get_data(as_text=True)
    # Both links open the same invitation.
    other = app.test_client()
    assert other.get(f"/r/{second.token}").status_code == 303


def test_nothing_new_for_someone_already_invited_is_said_and_nothing_is_issued(client, db):
    w = f.world()
    case = f.case(w.anna, w.north)
    mother = cases.add_participant(f.actor(w.anna), case, "mother")
    meeting = f.meeting(w.anna, case)
    f.invite(w.anna, meeting, f.child_of(case), ["ors"])
    tokens_before = db.session.scalar(select(func.count()).select_from(InvitationToken))
    with pytest.raises(Invalid, match="already_invited"):
        invitations.invite_many(f.actor(w.anna), meeting, [str(mother.id), str(f.child_of(case).id)],
                                ["ors"])
    assert db.session.scalar(select(func.count()).select_from(InvitationToken)) == tokens_before
    assert len(_invitations(db, meeting)) == 1  # not even the mother's

    f.login(client, w.anna)
    page = client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(f.child_of(case).id)], "versions": ["ors"]})
    assert page.status_code == 422
    assert "har allerede disse spørgeskemaer" in page.get_data(as_text=True)


def test_the_database_refuses_a_second_invitation_for_the_same_person(db):
    w = f.world()
    case = f.case(w.anna, w.north)
    meeting = f.meeting(w.anna, case)
    issued = f.invite(w.anna, meeting, f.child_of(case))
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Invitation(meeting_id=meeting.id, participant_id=f.child_of(case).id,
                                  subject="self", created_by_id=w.anna.id,
                                  expires_at=issued.invitation.expires_at))


def test_after_unlocking_the_meeting_page_offers_to_continue_on_this_tablet(app, client, db):
    w = f.world()
    case = f.case(w.anna, w.north, birth_year=2016)  # 9: CORS, CSRS
    meeting = f.meeting(w.anna, case)
    child = f.child_of(case)
    f.login(client, w.anna)
    assert client.post(f"/meetings/{meeting.id}/invitations", data={
        "participants": [str(child.id)], "instruments": ["outcome", "session"],
        "handover": "1"}).status_code == 303
    _answer_in_browser(client)  # the child answers the CORS, then hands the tablet back
    assert client.post("/unlock", data={"password": f.PASSWORD}).status_code == 302

    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    [invitation] = _invitations(db, meeting)
    action = f"/invitations/{invitation.id}/handover"
    assert f'action="{action}"' in page
    response = client.post(action)
    assert response.status_code == 303 and response.headers["Location"] == "/r/"
    # The same invitation, its next questionnaire, and the tablet locked again.
    assert 'action="/r/q/1"' in client.get("/r/").get_data(as_text=True)
    assert client.get("/cases").headers["Location"] == "/r/"
    assert len(_invitations(db, meeting)) == 1
    _answer_in_browser(client)
    client.post("/unlock", data={"password": f.PASSWORD})
    page = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert f'action="{action}"' not in page  # all answered: nothing to continue


# --- the migration ----------------------------------------------------------------

BEFORE = "2fe6f0c898c3"  # the revision before one invitation per person
MERGED = "760e8bc2d825"  # one invitation per person per meeting
#: Columns later migrations add to tables the test writes through today's models.
LATER_COLUMNS = {
    "cases": ("source", "source_id", "import_id"),
    "participants": ("source", "source_id", "import_id"),
    "meetings": ("source", "source_id", "import_id"),
    "responses": ("source", "source_id", "import_id"),
    "organisations": ("notice_da", "notice_en"),
    "staff_sessions": ("handover_back",),
}


def _add_later_columns():
    """Give the old schema today's later nullable columns, so today's models can write to it.

    They are plain nullable columns the migration under test never reads; the
    test then upgrades to that migration only, not to the head.
    """
    for table, columns in LATER_COLUMNS.items():
        for column in columns:
            kind = "VARCHAR(100)" if column != "import_id" else "CHAR(32)"
            _db.session.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {kind}"))
    _db.session.commit()


@contextmanager
def _app_at(backend, tmp_path_factory, revision):
    with fresh_database(backend, tmp_path_factory) as url:
        app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(revision=revision)
            try:
                yield app
            finally:
                _db.session.remove()
                _db.engine.dispose()


def _invitation(meeting, participant, created_at, user, packs_used):
    """An invitation made the old way; ``packs_used``: (pack id, answered?) in order."""
    inv = Invitation(meeting_id=meeting.id, participant_id=participant.id, subject="self",
                     created_by_id=user.id, created_at=created_at,
                     expires_at=created_at + timedelta(days=3))
    _db.session.add(inv)
    made = {}
    for position, (pack, answered) in enumerate(packs_used):
        version = instruments.ensure_version(instruments.current(pack))
        used = created_at + timedelta(minutes=position + 1) if answered else None
        _db.session.add(InvitationItem(invitation=inv, position=position,
                                       instrument_version_id=version.id, used_at=used))
        if answered:
            response = Response(submission_id=uuid.uuid4(), meeting_id=meeting.id,
                                participant_id=participant.id, invitation=inv,
                                instrument_version_id=version.id, subject="self",
                                total_tenths=None, submitted_at=used, locale="da")
            response.answers = [Answer(item_key="q", position=0, value_tenths=None,
                                       missing_code="skipped")]
            _db.session.add(response)
            made[pack] = response
    _db.session.add(InvitationToken(invitation=inv, kind="link",
                                    token_hash=uuid.uuid4().hex + uuid.uuid4().hex))
    _db.session.flush()
    return inv, made


def test_the_migration_merges_duplicate_invitations_losing_nothing(backend, tmp_path_factory):
    with _app_at(backend, tmp_path_factory, BEFORE):
        _add_later_columns()
        w = f.world()
        case = f.case(w.anna, w.north, birth_year=2012)
        meeting = f.meeting(w.anna, case, held_on=TODAY)
        child = f.child_of(case)
        mother = cases.add_participant(f.actor(w.anna), case, "mother")
        t0 = clock.now()
        kept, r1 = _invitation(meeting, child, t0, w.anna, [("ors", True), ("srs", False)])
        later, r2 = _invitation(meeting, child, t0 + timedelta(minutes=5), w.anna,
                                [("srs", True), ("child-meeting", True)])
        third, r3 = _invitation(meeting, child, t0 + timedelta(minutes=9), w.anna,
                                [("ors", True)])
        alone, _ = _invitation(meeting, mother, t0, w.anna, [("ors", False)])
        _db.session.commit()
        ids = {name: inv.id for name, inv in
               (("kept", kept), ("later", later), ("third", third), ("alone", alone))}
        child_id, meeting_id, anna_id = child.id, meeting.id, w.anna.id
        answers = {**{f"1{k}": v.id for k, v in r1.items()},
                   **{f"2{k}": v.id for k, v in r2.items()},
                   **{f"3{k}": v.id for k, v in r3.items()}}
        _db.session.remove()

        upgrade(revision=MERGED)

        left = _db.session.scalars(select(Invitation.id)).all()
        assert sorted(left) == sorted([ids["kept"], ids["alone"]])
        items = _db.session.execute(
            select(InvitationItem.position, InvitationItem.used_at.is_not(None),
                   InvitationItem.instrument_version_id)
            .where(InvitationItem.invitation_id == ids["kept"])
            .order_by(InvitationItem.position)).all()
        keys = [instruments.by_version_id(v).id for _p, _u, v in items]
        assert keys == ["ors", "srs", "child-meeting"]
        assert [used for _p, used, _v in items] == [True, True, True]
        by_id = {r.id: r for r in _db.session.scalars(select(Response))}
        assert len(by_id) == 4  # every answer is still there
        assert by_id[answers["1ors"]].invitation_id == ids["kept"]
        assert by_id[answers["2srs"]].invitation_id == ids["kept"]
        assert by_id[answers["2child-meeting"]].invitation_id == ids["kept"]
        # Both invitations had answered the ORS: the later answer stays, unattached.
        detached = by_id[answers["3ors"]]
        assert detached.invitation_id is None
        assert (detached.participant_id, detached.meeting_id) == (child_id, meeting_id)
        tokens = _db.session.scalars(select(InvitationToken.invitation_id)).all()
        assert sorted(tokens) == sorted([ids["kept"]] * 3 + [ids["alone"]])
        # From now on the database itself refuses a duplicate.
        with pytest.raises(IntegrityError):
            _db.session.add(Invitation(meeting_id=meeting_id, participant_id=child_id,
                                       subject="self", created_by_id=anna_id,
                                       expires_at=clock.now()))
            _db.session.flush()
        _db.session.rollback()
