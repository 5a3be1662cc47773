"""A case with a history for the graph tests: three respondents over twelve meetings.

Past meetings with answers cannot be made through links (they expire), so the
answers are written with the app's models, as the demo loader does.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

from feedback.extensions import db
from feedback.instruments.scoring import ItemAnswer, total_tenths
from feedback.models import (
    Answer,
    Case,
    Meeting,
    MeetingMode,
    MeetingType,
    Participant,
    ParticipantRole,
    Response,
    ResponseVoid,
    Subject,
)
from feedback.services.instruments import current, ensure_version
from feedback.services.uow import begin_write

#: Twelve meeting dates, with a four-month pause between the 6th and the 7th.
DATES = [date(2025, 3, 3) + timedelta(days=d) for d in
         (0, 14, 28, 49, 63, 77, 200, 214, 235, 249, 263, 277)]


def record(meeting: Meeting, person: Participant | None, pack_id: str, values, *,
           subject: str = "child", staff=None, voided_by=None) -> Response:
    """One answered questionnaire; ``values`` per item (numbers, or "skipped")."""
    pack = current(pack_id)
    version = ensure_version(pack)
    if not isinstance(values, dict):
        values = {item.key: values for item in pack.items}
    answers = {k: ItemAnswer(None, v) if isinstance(v, str) else ItemAnswer(round(v * 10))
               for k, v in values.items()}
    stamp = datetime.combine(meeting.held_on, time(10), tzinfo=UTC)
    response = Response(
        submission_id=uuid.uuid4(), meeting=meeting, participant=person,
        staff_user_id=staff.id if staff else None, instrument_version=version,
        subject=Subject(subject), total_tenths=total_tenths(pack, answers),
        submitted_at=stamp, locale="da")
    response.answers = [Answer(item_key=key, position=i, value_tenths=a.value_tenths,
                               missing_code=a.missing_code)
                        for i, (key, a) in enumerate(answers.items())]
    db.session.add(response)
    if voided_by is not None:
        db.session.flush()
        db.session.add(ResponseVoid(response=response, voided_by_id=voided_by.id,
                                    reason="Forkert person"))
    return response


#: Outcome totals per meeting (None: no answer at that meeting), per item = total / 4.
CHILD = [None, 20.0, 21.2, 22.0, 22.4, 24.8, 26.0, None, 27.2, 28.0, 30.4, 31.6]
MOTHER = [18.0, 19.2, 17.6, 18.4, 16.0, 17.2, 18.8, 19.6, 20.0, 20.8, 21.6, 22.4]
FATHER = [25.2, 24.0, 22.8, 21.6, 20.4, 20.0, 19.6, 19.2, 18.8, 18.4, 18.0, 17.6]


def history(owner, team, reference="SAG-GRAF", birth_year=2015, meetings=12) -> Case:
    """Child (CORS; YCORS at the first meeting), mother and father (ORS about the child),
    session scales, the smiley questionnaire, the ruler by every party and the caseworker,
    the parents' themed pack; one voided answer and one with a skipped item."""
    begin_write()
    case = Case(organisation_id=owner.organisation_id, reference=reference, team_id=team.id,
                responsible_id=owner.id, opened_on=DATES[0] - timedelta(days=7),
                child_birth_year=birth_year)
    db.session.add(case)
    child = Participant(case=case, role=ParticipantRole.child)
    mother = Participant(case=case, role=ParticipantRole.mother)
    father = Participant(case=case, role=ParticipantRole.father)
    db.session.add_all([child, mother, father])
    for n, day in enumerate(DATES[:meetings]):
        m = Meeting(case=case, held_on=day, created_by_id=owner.id,
                    type=MeetingType.first if n == 0 else MeetingType.follow_up,
                    mode=MeetingMode.in_person)
        db.session.add(m)
        if n == 0:
            record(m, child, "ycors", 5.0, subject="self")  # a faces version, by override
        elif CHILD[n] is not None:
            record(m, child, "cors", CHILD[n] / 4, subject="self")
        record(m, mother, "ors", MOTHER[n] / 4)
        record(m, father, "ors", FATHER[n] / 4)
        record(m, child, "csrs", 9.5 if n != 10 else 8.0, subject="self")
        record(m, mother, "srs", {"relationship": 9.5, "goals": 9.2 if n < 11 else 7.5,
                                  "approach": 9.4, "overall": 9.3})
        record(m, child, "child-meeting", {"say_everything": 9, "listened": 10,
                                           "important": 8 if n % 3 else 3,
                                           "liked_way": 9, "understood": 10}, subject="self")
        for who, value in ((child, 6 + n % 3), (mother, 5 + n % 4), (father, 4 + n % 2)):
            record(m, who, "child-ruler", value)
        record(m, None, "child-ruler", 6, staff=owner)
        if n in (0, 5, 11):
            record(m, mother, "parent-coordination", 3 + n // 5)
    # The wrong person answered at meeting 4; a skipped item at meeting 8.
    db.session.flush()
    held = sorted(case.meetings, key=lambda x: x.held_on)
    if len(held) > 3:
        record(held[3], father, "cors", 9.0, subject="self", voided_by=owner)
    if len(held) > 7:
        record(held[7], child, "cors", {"me": "skipped", "family": 7, "school": 7,
                                        "everything": 7}, subject="self")
    db.session.commit()
    return case
