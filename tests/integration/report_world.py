"""A small world whose report figures are computed by hand in the tests.

Totals are written straight into responses (the answering path is tested
elsewhere); each case, meeting and rating is chosen so that every figure of
the outcome report can be worked out on paper. Today is 2026-03-11.

Children's CORS (cut-off 32 for 6–12), half-years from 1 April:

====  =====  ==========  ==========  =====================  ============================
case  team   opened      closed      child's totals         why it is here
====  =====  ==========  ==========  =====================  ============================
A     Nord   2025-04-10  2025-12-01  20 → 30 → 33           +13, crosses 32; mother 15→25
B     Nord   2025-05-01  2026-01-15  30 → 24 (then voided)  −6, deteriorated; a void
C     Syd    2025-06-01  2025-11-01  25                     one rating
E     Nord   2025-04-20  2025-09-01  skipped, 28 → 31       +3; a skipped questionnaire
F     Nord   2025-07-01  2025-08-01  —                      no rating (coverage)
G     Syd    2025-05-05  2025-10-01  faces 6 → 8            a 4-year-old: faces only
D     Syd    2025-10-05  open        10 → 12                still open, next cohort
====  =====  ==========  ==========  =====================  ============================
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from feedback.extensions import db
from feedback.models import (
    Answer,
    Case,
    Meeting,
    Participant,
    Response,
    ResponseVoid,
)
from feedback.services.instruments import current, ensure_version
from tests import factories as f


@dataclass
class Built:
    world: object
    cases: dict


def _case(w, team, birth_year, opened, closed=None):
    case = Case(organisation_id=w.org.id, reference=f"SAG-{uuid.uuid4().hex[:6]}",
                team_id=team.id, responsible_id=w.anna.id, opened_on=opened, closed_on=closed,
                child_birth_year=birth_year, child_birth_month=1)
    db.session.add(case)
    db.session.flush()
    child = Participant(case_id=case.id, role="child")
    mother = Participant(case_id=case.id, role="mother")
    db.session.add_all([child, mother])
    db.session.flush()
    return case, child, mother


def rate(w, case, who, day, pack, total, subject="child", answers=None):
    """One response on ``day`` with ``total`` points (None: a skipped item)."""
    meeting = db.session.query(Meeting).filter_by(case_id=case.id, held_on=day).first()
    if meeting is None:
        meeting = Meeting(case_id=case.id, held_on=day, type="follow_up", mode="in_person",
                          created_by_id=w.anna.id)
        db.session.add(meeting)
        db.session.flush()
    version = ensure_version(current(pack))
    response = Response(
        submission_id=uuid.uuid4(), meeting_id=meeting.id, participant_id=who.id,
        instrument_version_id=version.id, subject=subject,
        total_tenths=None if total is None else round(total * 10), locale="da",
        submitted_at=datetime(day.year, day.month, day.day, 9, tzinfo=UTC))
    db.session.add(response)
    db.session.flush()
    for n, (key, value) in enumerate((answers or {}).items()):
        db.session.add(Answer(response_id=response.id, item_key=key, position=n,
                              value_tenths=None if value is None else value * 10,
                              missing_code="skipped" if value is None else None))
    return response


def build() -> Built:
    w = f.world()
    a, a_child, a_mother = _case(w, w.north, 2015, date(2025, 4, 10), date(2025, 12, 1))
    for day, total in ((date(2025, 5, 1), 20), (date(2025, 7, 1), 30), (date(2025, 10, 1), 33)):
        rate(w, a, a_child, day, "cors", total)
    rate(w, a, a_mother, date(2025, 5, 1), "ors", 15)
    rate(w, a, a_mother, date(2025, 10, 1), "ors", 25)
    b, b_child, _ = _case(w, w.north, 2015, date(2025, 5, 1), date(2026, 1, 15))
    rate(w, b, b_child, date(2025, 5, 20), "cors", 30)
    rate(w, b, b_child, date(2025, 9, 20), "cors", 24)
    wrong = rate(w, b, b_child, date(2025, 12, 1), "cors", 40)
    db.session.add(ResponseVoid(response_id=wrong.id, voided_by_id=w.anna.id,
                                reason="given by the wrong person"))
    c, c_child, _ = _case(w, w.south, 2015, date(2025, 6, 1), date(2025, 11, 1))
    rate(w, c, c_child, date(2025, 6, 15), "cors", 25)
    e, e_child, _ = _case(w, w.north, 2015, date(2025, 4, 20), date(2025, 9, 1))
    rate(w, e, e_child, date(2025, 4, 25), "cors", None)
    rate(w, e, e_child, date(2025, 5, 2), "cors", 28)
    rate(w, e, e_child, date(2025, 8, 2), "cors", 31)
    _case(w, w.north, 2015, date(2025, 7, 1), date(2025, 8, 1))
    g, g_child, _ = _case(w, w.south, 2021, date(2025, 5, 5), date(2025, 10, 1))
    rate(w, g, g_child, date(2025, 5, 10), "ycors", 6)
    rate(w, g, g_child, date(2025, 8, 10), "ycors", 8)
    d, d_child, _ = _case(w, w.south, 2015, date(2025, 10, 5))
    rate(w, d, d_child, date(2025, 10, 20), "cors", 10)
    rate(w, d, d_child, date(2026, 1, 20), "cors", 12)
    # The child's smiley questionnaire: three answers from two children, one skipped item.
    rate(w, a, a_child, date(2025, 5, 1), "child-meeting", None,
         answers={"say_everything": 10, "listened": 9, "important": 2})
    rate(w, a, a_child, date(2025, 7, 1), "child-meeting", None,
         answers={"say_everything": 8, "listened": None, "important": 3})
    rate(w, b, b_child, date(2025, 5, 20), "child-meeting", None,
         answers={"say_everything": 1, "listened": 10, "important": 9})
    db.session.commit()
    return Built(w, {"A": a, "B": b, "C": c, "D": d, "E": e, "G": g})
