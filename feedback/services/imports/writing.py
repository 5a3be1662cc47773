"""Writing an import in short batches tagged with its id, and undoing one by that id.

Each batch is its own short write transaction, so a respondent submitting
answers at the same time waits at most for one batch (on SQLite the write
lock is held only while a batch is written). Cases, respondents and meetings
are created when the first response that needs them is written, and are
found again by (source, source id) — never created twice (decision 39).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import delete, exists, insert, or_, select

from feedback.extensions import db
from feedback.instruments.scoring import ItemAnswer, total_tenths
from feedback.models import (
    Answer,
    Case,
    CaseTag,
    Invitation,
    Meeting,
    MeetingMode,
    MeetingType,
    Participant,
    ParticipantRole,
    Response,
    Subject,
)
from feedback.services.errors import Invalid
from feedback.services.imports.checks import VersionRef
from feedback.services.imports.plan import Plan, ResponseInfo
from feedback.services.instruments import ensure_version
from feedback.services.uow import begin_write

DELETE_CHUNK = 500
CODES = {-1: "skipped", -2: "dont_know"}


def submission_id(source: str, source_id: str) -> uuid.UUID:
    """The submission id of an imported response: the same for the same source and id."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"feedback-import:{source}:{source_id}")


class Writer:
    """Writes a plan's accepted responses, batch by batch, remembering what it created."""

    def __init__(self, plan: Plan, batch_id: uuid.UUID, organisation_id: uuid.UUID,
                 user_id: uuid.UUID):
        self.plan = plan
        self.source = plan.source
        self.batch_id = batch_id
        self.organisation_id = organisation_id
        self.user_id = user_id
        self.case_ids: dict[str, uuid.UUID] = {}
        self.meeting_ids: dict[str, uuid.UUID] = {}
        self.participant_ids: dict[str, uuid.UUID] = {}
        self.version_ids: dict[tuple[str, str], uuid.UUID] = {}

    def _tag(self, sid: str) -> dict:
        return {"source": self.source, "source_id": sid, "import_id": self.batch_id}

    def _case(self, sid: str, rows: dict[str, list]) -> uuid.UUID:
        found = self.case_ids.get(sid)
        if found is not None:
            return found
        info = self.plan.cases[sid]
        if info.existing_id is not None:
            self.case_ids[sid] = info.existing_id
            return info.existing_id
        team_id, opened, closed, birth_year = info.attrs
        case_id = self.case_ids[sid] = uuid.uuid4()
        rows["cases"].append({
            "id": case_id, "organisation_id": self.organisation_id,
            "reference": f"import:{self.source}:{sid}", "team_id": team_id,
            "responsible_id": None, "opened_on": opened, "closed_on": closed,
            "child_birth_year": birth_year, "child_birth_month": info.month, **self._tag(sid)})
        if not info.has_child:
            # Every case has its child as a participant, as a case opened on the page does.
            rows["participants"].append({"id": uuid.uuid4(), "case_id": case_id,
                                         "role": ParticipantRole.child, "source": None,
                                         "source_id": None, "import_id": self.batch_id})
        return case_id

    def _participant(self, sid: str, case_id: uuid.UUID, rows) -> uuid.UUID:
        found = self.participant_ids.get(sid)
        if found is None:
            info = self.plan.respondents[sid]
            found = info.existing_id
            if found is None:
                found = uuid.uuid4()
                rows["participants"].append({"id": found, "case_id": case_id,
                                             "role": ParticipantRole(info.attrs[1]),
                                             **self._tag(sid)})
            self.participant_ids[sid] = found
        return found

    def _meeting(self, sid: str, case_id: uuid.UUID, rows) -> uuid.UUID:
        found = self.meeting_ids.get(sid)
        if found is None:
            info = self.plan.meetings[sid]
            found = info.existing_id
            if found is None:
                found = uuid.uuid4()
                # The long format has no meeting mode; imported meetings are "in person".
                rows["meetings"].append({"id": found, "case_id": case_id,
                                         "held_on": info.attrs[1],
                                         "type": MeetingType(info.attrs[2]),
                                         "mode": MeetingMode.in_person,
                                         "created_by_id": self.user_id, **self._tag(sid)})
            self.meeting_ids[sid] = found
        return found

    def _version(self, ref: VersionRef) -> uuid.UUID:
        key = (ref.key, ref.version)
        found = self.version_ids.get(key)
        if found is None:
            found = ref.stored_id or ensure_version(ref.instrument).id
            self.version_ids[key] = found
        return found

    def write(self, batch: list[tuple[str, ResponseInfo]]) -> int:
        """Write one batch of responses (with what they need) in one short transaction."""
        rows: dict[str, list] = {"cases": [], "participants": [], "meetings": [],
                                 "responses": [], "answers": []}
        begin_write()
        for sid, info in batch:
            case_id = self._case(info.case, rows)
            participant_id = self._participant(info.respondent, case_id, rows)
            meeting_id = self._meeting(info.meeting, case_id, rows)
            instrument = info.version.instrument
            answers = {item.key: ItemAnswer(v, None) if v >= 0 else ItemAnswer(None, CODES[v])
                       for item, v in zip(instrument.items, info.values, strict=True)}
            response_id = uuid.uuid4()
            _, _, _, subject, submitted_at, locale = info.attrs
            rows["responses"].append({
                "id": response_id, "submission_id": submission_id(self.source, sid),
                "meeting_id": meeting_id, "participant_id": participant_id,
                "staff_user_id": None, "invitation_id": None,
                "instrument_version_id": self._version(info.version),
                "subject": Subject(subject), "total_tenths": total_tenths(instrument, answers),
                "submitted_at": submitted_at, "locale": locale, **self._tag(sid)})
            rows["answers"].extend(
                {"response_id": response_id, "item_key": item.key, "position": n,
                 "value_tenths": answers[item.key].value_tenths,
                 "missing_code": answers[item.key].missing_code}
                for n, item in enumerate(instrument.items))
        connection = db.session.connection()
        for model, key in ((Case, "cases"), (Participant, "participants"),
                           (Meeting, "meetings"), (Response, "responses"), (Answer, "answers")):
            if rows[key]:
                # Core executemany: the ORM's bulk path costs more than the insert itself.
                connection.execute(insert(model.__table__), rows[key])
        db.session.commit()
        return len(batch)


def dependents(batch_id: uuid.UUID) -> int:
    """Rows made outside this import that refer to its cases, meetings or respondents."""
    cases = select(Case.id).where(Case.import_id == batch_id)
    meetings = select(Meeting.id).where(Meeting.import_id == batch_id)
    people = select(Participant.id).where(Participant.import_id == batch_id)
    other = lambda column: or_(column.is_(None), column != batch_id)  # noqa: E731
    checks = [
        exists().where(Response.meeting_id.in_(meetings), other(Response.import_id)),
        exists().where(Response.participant_id.in_(people), other(Response.import_id)),
        exists().where(Invitation.meeting_id.in_(meetings)),
        exists().where(Invitation.participant_id.in_(people)),
        exists().where(Meeting.case_id.in_(cases), other(Meeting.import_id)),
        exists().where(Participant.case_id.in_(cases), other(Participant.import_id)),
    ]
    return sum(1 for check in checks if db.session.scalar(select(check)))


def delete_rows(batch_id: uuid.UUID, progress: Callable[[int], None] | None = None) -> int:
    """Delete every row the import created, in short transactions; the responses deleted."""
    if dependents(batch_id):
        db.session.rollback()
        raise Invalid("import_has_dependents", field="import")
    deleted = 0
    while True:
        begin_write()
        ids = db.session.scalars(select(Response.id).where(Response.import_id == batch_id)
                                 .limit(DELETE_CHUNK)).all()
        if not ids:
            break
        db.session.execute(delete(Answer).where(Answer.response_id.in_(ids)))
        db.session.execute(delete(Response).where(Response.id.in_(ids)))
        db.session.commit()
        deleted += len(ids)
        if progress:
            progress(deleted)
    cases = select(Case.id).where(Case.import_id == batch_id)
    db.session.execute(delete(Meeting).where(Meeting.import_id == batch_id))
    db.session.execute(delete(Participant).where(Participant.import_id == batch_id))
    db.session.execute(delete(CaseTag).where(CaseTag.case_id.in_(cases)))
    db.session.execute(delete(Case).where(Case.import_id == batch_id))
    db.session.commit()
    return deleted
