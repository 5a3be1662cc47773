"""One invitation per person per meeting (decision 44), earlier duplicates merged.

Before this, ticking a second questionnaire for somebody already invited made
a second invitation, and response rates counted that person twice. The
earliest invitation of each (meeting, participant) is kept; the later ones'
questionnaires, answers and tokens move onto it, and then the later rows go.
Nothing answered is lost:

* a questionnaire only the later invitation had is appended to the kept one,
  with its answer;
* a questionnaire both had keeps the kept one's answer; if only the later one
  was answered, that answer moves over and the questionnaire counts as used;
  if both were answered, the later answer stays as it was but belongs to no
  invitation (like a staff rating), since an invitation holds one answer per
  questionnaire;
* every token of the later invitation opens the kept one.

Revision ID: 760e8bc2d825
Revises: 2fe6f0c898c3
Create Date: 2026-11-24 15:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "760e8bc2d825"
down_revision = "2fe6f0c898c3"
branch_labels = None
depends_on = None

invitations = sa.table(
    "invitations", sa.column("id", sa.Uuid()), sa.column("meeting_id", sa.Uuid()),
    sa.column("participant_id", sa.Uuid()), sa.column("created_at", sa.DateTime()),
    sa.column("expires_at", sa.DateTime()),
)
items = sa.table(
    "invitation_items", sa.column("invitation_id", sa.Uuid()), sa.column("position", sa.Integer()),
    sa.column("instrument_version_id", sa.Uuid()), sa.column("used_at", sa.DateTime()),
)
tokens = sa.table("invitation_tokens", sa.column("invitation_id", sa.Uuid()))
responses = sa.table(
    "responses", sa.column("id", sa.Uuid()), sa.column("invitation_id", sa.Uuid()),
    sa.column("instrument_version_id", sa.Uuid()),
)


def _merge(conn, keeper, later) -> None:
    # The kept invitation's questionnaires: instrument version → position.
    kept_items = {row.instrument_version_id: row.position for row in conn.execute(
        sa.select(items).where(items.c.invitation_id == keeper.id))}
    next_position = max(kept_items.values(), default=-1) + 1
    for item in conn.execute(sa.select(items).where(items.c.invitation_id == later.id)
                             .order_by(items.c.position)).all():
        version = item.instrument_version_id
        answer = conn.execute(sa.select(responses.c.id).where(
            responses.c.invitation_id == later.id,
            responses.c.instrument_version_id == version)).scalar()
        kept = kept_items.get(version)
        if kept is None:
            # Only the later invitation had it: append it, answer and all.
            conn.execute(sa.insert(items).values(
                invitation_id=keeper.id, position=next_position,
                instrument_version_id=version, used_at=item.used_at))
            kept_items[version] = next_position
            next_position += 1
            if answer is not None:
                conn.execute(sa.update(responses).where(responses.c.id == answer)
                             .values(invitation_id=keeper.id))
        elif answer is not None:
            kept_answer = conn.execute(sa.select(responses.c.id).where(
                responses.c.invitation_id == keeper.id,
                responses.c.instrument_version_id == version)).scalar()
            if kept_answer is None:
                conn.execute(sa.update(responses).where(responses.c.id == answer)
                             .values(invitation_id=keeper.id))
                conn.execute(sa.update(items).where(
                    items.c.invitation_id == keeper.id, items.c.position == kept)
                    .values(used_at=item.used_at))
            else:
                conn.execute(sa.update(responses).where(responses.c.id == answer)
                             .values(invitation_id=None))
        conn.execute(sa.delete(items).where(items.c.invitation_id == later.id,
                                            items.c.position == item.position))
    conn.execute(sa.update(tokens).where(tokens.c.invitation_id == later.id)
                 .values(invitation_id=keeper.id))
    if later.expires_at > keeper.expires_at:
        conn.execute(sa.update(invitations).where(invitations.c.id == keeper.id)
                     .values(expires_at=later.expires_at))
    conn.execute(sa.delete(invitations).where(invitations.c.id == later.id))


def upgrade():
    conn = op.get_bind()
    groups = conn.execute(
        sa.select(invitations.c.meeting_id, invitations.c.participant_id)
        .group_by(invitations.c.meeting_id, invitations.c.participant_id)
        .having(sa.func.count() > 1)).all()
    for meeting_id, participant_id in groups:
        rows = conn.execute(
            sa.select(invitations).where(invitations.c.meeting_id == meeting_id,
                                         invitations.c.participant_id == participant_id)
            .order_by(invitations.c.created_at, invitations.c.id)).all()
        for later in rows[1:]:
            _merge(conn, rows[0], later)
    # Leads with meeting_id, so it also serves what ix_invitations_meeting_id did.
    op.create_index("uq_invitations_meeting_id_participant_id", "invitations",
                    ["meeting_id", "participant_id"], unique=True)
    op.drop_index("ix_invitations_meeting_id", table_name="invitations")


def downgrade():
    op.create_index("ix_invitations_meeting_id", "invitations", ["meeting_id"])
    op.drop_index("uq_invitations_meeting_id_participant_id", table_name="invitations")
