"""The case graph: one line per respondent, each with the cut-off for its subject's age."""

import uuid

from sqlalchemy import select

from feedback.cases import charts
from feedback.extensions import db
from feedback.instruments.scoring import ItemAnswer
from feedback.models import InvitationToken
from feedback.services import cases, responses, trajectories
from feedback.services.actors import Actor
from feedback.services.invitations import hash_token
from tests import factories as f
from tests.conftest import TODAY


def _answer(link, per_item: str):
    """Answer the invitation's next questionnaire with the same value on every item."""
    token = db.session.scalar(select(InvitationToken).where(
        InvitationToken.token_hash == hash_token(link.token)))
    position = responses.next_position(token)
    _item, instrument = responses.bundle_item(token, position)
    responses.submit(Actor.respondent(token.invitation_id), token, position, str(uuid.uuid4()),
                     {i.key: ItemAnswer(int(float(per_item) * 10)) for i in instrument.items},
                     "da")


def test_each_respondent_has_a_line_and_the_cutoff_for_whom_it_is_about(db):
    w = f.world()
    the_case = f.case(w.anna, w.north, birth_year=TODAY.year - 10)  # a 9-year-old
    mother = cases.add_participant(f.actor(w.anna), the_case, "mother")
    meeting = f.meeting(w.anna, the_case)
    _answer(f.invite(w.anna, meeting, f.child_of(the_case), ["cors"]), "6")
    _answer(f.invite(w.anna, meeting, mother, ["ors"]), "5")  # about the child
    # Another family, added to the mother's invitation: not drawn.
    _answer(f.invite(w.anna, meeting, mother, ["srs"]), "9")
    drawn = charts.family_graph(trajectories.for_case(the_case))
    by_role = {s.role: s for s in drawn.series}
    assert set(by_role) == {"child", "mother"}  # never merged, session scale left out
    assert [p.total for p in by_role["child"].points] == [24.0]
    assert [p.total for p in by_role["mother"].points] == [20.0]
    # The mother rates her 9-year-old: the 6–12 cut-off, not the adult 25.
    assert by_role["mother"].cutoff == 32.0 and by_role["child"].cutoff == 32.0
    assert [value for value, _y in drawn.cutoffs] == [32.0]
