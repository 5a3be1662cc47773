"""The whole file, validated before anything is written: what agrees across lines, and with
what an earlier import from the same source already brought in.

Each line is checked on its own (:mod:`.checks`); here the lines are put
together. A case's details must be the same on every line; the child's ages
must fit one birth date (the birth month is inferred from them); a response
must have each of its version's items exactly once. A problem with a case,
meeting or respondent rejects its responses; a problem with one line rejects
its whole response, since a response is stored whole or not at all.

Memory: about a hundred bytes per answer, kept as small per-response lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select

from feedback.models import Answer, Case, Meeting, Participant, Response, Tombstone
from feedback.services.imports.checks import Line, VersionRef

CHUNK = 500
MISSING_NUMBERS = {"skipped": -1, "dont_know": -2}


class CaseInfo:
    """A case as the file describes it."""

    __slots__ = ("attrs", "line", "lo", "hi", "problem", "existing_id", "month", "has_child")

    def __init__(self, attrs: tuple, line: int):
        self.attrs = attrs  # (team_id, opened, closed, birth_year)
        self.line = line
        self.lo, self.hi = 1, 12  # the birth months the ages allow
        self.problem: tuple | None = None
        self.existing_id: uuid.UUID | None = None
        self.month: int | None = None
        self.has_child = False


class MeetingInfo:
    """A meeting as the file describes it."""

    __slots__ = ("attrs", "line", "problem", "existing_id")

    def __init__(self, attrs: tuple, line: int):
        self.attrs = attrs  # (case, held_on, type)
        self.line = line
        self.problem: tuple | None = None
        self.existing_id: uuid.UUID | None = None


class RespondentInfo:
    """A respondent (participant) as the file describes it."""

    __slots__ = ("attrs", "line", "problem", "existing_id")

    def __init__(self, attrs: tuple, line: int):
        self.attrs = attrs  # (case, role)
        self.line = line
        self.problem: tuple | None = None
        self.existing_id: uuid.UUID | None = None


class ResponseInfo:
    """A response: its details and its answers by position (tenths, or -1/-2 for a code)."""

    __slots__ = ("attrs", "line", "values", "problem", "unchanged", "version")

    def __init__(self, attrs: tuple, line: int, version: VersionRef):
        self.attrs = attrs  # (meeting, respondent, case, subject, submitted_at, locale)
        self.line = line
        self.version = version
        self.values: list[int | None] = [None] * len(version.instrument.items)
        self.problem: tuple | None = None
        self.unchanged = False

    @property
    def meeting(self) -> str:
        """The meeting's source id."""
        return self.attrs[0]

    @property
    def respondent(self) -> str:
        """The respondent's source id."""
        return self.attrs[1]

    @property
    def case(self) -> str:
        """The case's source id."""
        return self.attrs[2]


CASE_COLUMNS = ("team", "case_opened", "case_closed", "child_birth_year")
MEETING_COLUMNS = ("case_id", "meeting_date", "meeting_type")
RESPONDENT_COLUMNS = ("case_id", "respondent_role")
RESPONSE_COLUMNS = ("meeting_id", "respondent_id", "case_id", "subject", "submitted_at",
                    "locale")


def _first_difference(a: tuple, b: tuple, columns: tuple[str, ...]) -> str:
    return next(c for c, x, y in zip(columns, a, b, strict=True) if x != y)


class Plan:
    """Everything the file says, put together, with a verdict per case and response."""

    def __init__(self, source: str):
        self.source = source
        self.cases: dict[str, CaseInfo] = {}
        self.meetings: dict[str, MeetingInfo] = {}
        self.respondents: dict[str, RespondentInfo] = {}
        self.responses: dict[str, ResponseInfo] = {}
        #: Lines that repeat an answer already given on an earlier line.
        self.duplicates: dict[int, int] = {}

    # --- pass 1: line by line -------------------------------------------------------

    def add(self, line_no: int, line: Line) -> None:
        """Put a checked line together with the others."""
        case = self.cases.get(line.case)
        attrs = (line.team_id, line.opened, line.closed, line.birth_year)
        if case is None:
            case = self.cases[line.case] = CaseInfo(attrs, line_no)
        elif case.attrs != attrs and case.problem is None:
            case.problem = ("differs", {"column": _first_difference(case.attrs, attrs,
                                                                    CASE_COLUMNS),
                                        "line": case.line, "what": "case"})
        self._age(case, line.birth_year, line.age, line.held_on)
        if line.role == "child":
            case.has_child = True

        meeting_attrs = (line.case, line.held_on, line.meeting_type)
        meeting = self.meetings.get(line.meeting)
        if meeting is None:
            self.meetings[line.meeting] = MeetingInfo(meeting_attrs, line_no)
        elif meeting.attrs != meeting_attrs and meeting.problem is None:
            meeting.problem = ("differs", {"column": _first_difference(
                meeting.attrs, meeting_attrs, MEETING_COLUMNS), "line": meeting.line,
                "what": "meeting"})

        respondent_attrs = (line.case, line.role)
        respondent = self.respondents.get(line.respondent)
        if respondent is None:
            self.respondents[line.respondent] = RespondentInfo(respondent_attrs, line_no)
        elif respondent.attrs != respondent_attrs and respondent.problem is None:
            respondent.problem = ("differs", {"column": _first_difference(
                respondent.attrs, respondent_attrs, RESPONDENT_COLUMNS),
                "line": respondent.line, "what": "respondent"})

        response_attrs = (line.meeting, line.respondent, line.case, line.subject,
                          line.submitted_at, line.locale)
        response = self.responses.get(line.response)
        if response is None:
            response = self.responses[line.response] = ResponseInfo(
                response_attrs, line_no, line.version)
        elif isinstance(response, _RejectedResponse):
            return
        elif response.problem is None and (response.attrs != response_attrs
                                           or response.version is not line.version):
            column = ("instrument" if response.version is not line.version
                      else _first_difference(response.attrs, response_attrs, RESPONSE_COLUMNS))
            response.problem = ("differs", {"column": column, "line": response.line,
                                            "what": "response"})
            return
        if response.version is not line.version:
            return
        value = line.value_tenths if line.missing_code is None \
            else MISSING_NUMBERS[line.missing_code]
        earlier = response.values[line.position]
        if earlier is None:
            response.values[line.position] = value
        elif earlier == value:
            self.duplicates[line_no] = response.line
        elif response.problem is None:
            response.problem = ("conflicting_item", {"item": line.item, "line": response.line})

    def reject_line(self, line_no: int, response_id: str | None) -> None:
        """A line with a problem of its own rejects its response (if the line names one)."""
        if not response_id:
            return
        response = self.responses.get(response_id)
        if response is None:
            # Keep the rejection even if no good line of this response came before.
            response = self.responses[response_id] = _RejectedResponse(line_no)
        if response.problem is None:
            response.problem = ("response_line_rejected", {"line": line_no})

    @staticmethod
    def _age(case: CaseInfo, birth_year: int, age: int, held_on: date) -> None:
        # Birthday passed on the meeting day ⇔ birth month ≤ the meeting's month.
        passed = held_on.year - birth_year - age
        if passed == 0:
            case.hi = min(case.hi, held_on.month)
        elif passed == 1:
            case.lo = max(case.lo, held_on.month + 1)
        else:
            case.lo, case.hi = 13, 0

    # --- after pass 1 ----------------------------------------------------------------

    def finish(self, session, organisation_id: uuid.UUID) -> None:
        """Check what needs the whole file, and compare with earlier imports; cascade."""
        for response in self.responses.values():
            if response.problem is None and not isinstance(response, _RejectedResponse):
                lacking = [response.version.instrument.items[n].key
                           for n, v in enumerate(response.values) if v is None]
                if lacking:
                    response.problem = ("items_missing", {"items": ", ".join(lacking)})
        for case in self.cases.values():
            if case.problem is None and case.lo > case.hi:
                case.problem = ("ages_inconsistent", {})
            elif case.problem is None:
                # The month nearest to 1 July (the assumption without a month) that fits.
                case.month = None if case.lo <= 7 <= case.hi else (
                    case.hi if case.hi < 7 else case.lo)
        self._compare_with_earlier(session, organisation_id)
        self._cascade()
        self._tombstoned(session)

    def _tombstoned(self, session) -> None:
        """Responses of cases or answers retention deleted count as imported before.

        Their tombstones (source, source id) keep a later import of the same
        file from bringing them back.
        """
        gone: dict[str, set[str]] = {"case": set(), "response": set()}
        for kind, ids in (("case", list(self.cases)), ("response", list(self.responses))):
            for start in range(0, len(ids), CHUNK):
                gone[kind].update(session.execute(select(Tombstone.source_id).where(
                    Tombstone.kind == kind, Tombstone.source == self.source,
                    Tombstone.source_id.in_(ids[start:start + CHUNK]))).scalars())
        if not gone["case"] and not gone["response"]:
            return
        for sid, response in self.responses.items():
            if isinstance(response, _RejectedResponse) or response.problem is not None:
                continue
            if sid in gone["response"] or response.case in gone["case"]:
                response.unchanged = True

    def _existing(self, session, model, ids: Iterable[str]):
        ids = list(ids)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            yield from session.execute(select(model).where(
                model.source == self.source, model.source_id.in_(chunk))).scalars()

    def _compare_with_earlier(self, session, organisation_id) -> None:
        case_by_id: dict[uuid.UUID, str] = {}
        for row in self._existing(session, Case, self.cases):
            info = self.cases[row.source_id]
            case_by_id[row.id] = row.source_id
            info.existing_id = row.id
            stored = (row.team_id, row.opened_on, row.closed_on, row.child_birth_year)
            if info.problem is None and stored != info.attrs:
                info.problem = ("earlier_import_differs", {"column": _first_difference(
                    stored, info.attrs, CASE_COLUMNS)})
            elif info.problem is None and not info.lo <= (row.child_birth_month or 7) <= info.hi:
                info.problem = ("earlier_import_differs", {"column": "child_age_at_meeting"})
        self._references_taken(session, organisation_id)
        meeting_by_id: dict[uuid.UUID, str] = {}
        for row in self._existing(session, Meeting, self.meetings):
            info = self.meetings[row.source_id]
            info.existing_id = row.id
            meeting_by_id[row.id] = row.source_id
            stored = (case_by_id.get(row.case_id), row.held_on, row.type.value)
            if info.problem is None and stored != info.attrs:
                info.problem = ("earlier_import_differs", {"column": _first_difference(
                    stored, info.attrs, MEETING_COLUMNS)})
        respondent_by_id: dict[uuid.UUID, str] = {}
        for row in self._existing(session, Participant, self.respondents):
            info = self.respondents[row.source_id]
            info.existing_id = row.id
            respondent_by_id[row.id] = row.source_id
            stored = (case_by_id.get(row.case_id), row.role.value)
            if info.problem is None and stored != info.attrs:
                info.problem = ("earlier_import_differs", {"column": _first_difference(
                    stored, info.attrs, RESPONDENT_COLUMNS)})
        existing = {row.id: row for row in self._existing(session, Response, self.responses)}
        answers: dict[uuid.UUID, dict[int, int]] = {}
        ids = list(existing)
        for start in range(0, len(ids), CHUNK):
            for a in session.execute(select(Answer).where(
                    Answer.response_id.in_(ids[start:start + CHUNK]))).scalars():
                value = a.value_tenths if a.missing_code is None \
                    else MISSING_NUMBERS[a.missing_code]
                answers.setdefault(a.response_id, {})[a.position] = value
        for row in existing.values():
            info = self.responses[row.source_id]
            if info.problem is not None or isinstance(info, _RejectedResponse):
                continue
            # The meeting's case was compared above; the response follows its meeting.
            stored = (meeting_by_id.get(row.meeting_id), respondent_by_id.get(row.participant_id),
                      info.case, row.subject.value, row.submitted_at, row.locale)
            values = [answers.get(row.id, {}).get(n) for n in range(len(info.values))]
            same_version = info.version.stored_id == row.instrument_version_id
            if stored != info.attrs or values != info.values or not same_version:
                column = "instrument" if not same_version else (
                    "value" if stored == info.attrs else
                    _first_difference(stored, info.attrs, RESPONSE_COLUMNS))
                info.problem = ("earlier_import_differs", {"column": column})
            else:
                info.unchanged = True

    def _references_taken(self, session, organisation_id) -> None:
        new = {f"import:{self.source}:{sid}": sid for sid, info in self.cases.items()
               if info.existing_id is None}
        refs = list(new)
        for start in range(0, len(refs), CHUNK):
            for reference in session.scalars(select(Case.reference).where(
                    Case.organisation_id == organisation_id,
                    Case.reference.in_(refs[start:start + CHUNK]))):
                info = self.cases[new[reference]]
                if info.problem is None:
                    info.problem = ("reference_taken", {"value": reference})

    def _cascade(self) -> None:
        for meeting in self.meetings.values():
            case = self.cases.get(meeting.attrs[0])
            if meeting.problem is None and case is not None and case.problem is not None:
                meeting.problem = ("case_rejected", {"reason": case.problem})
        for respondent in self.respondents.values():
            case = self.cases.get(respondent.attrs[0])
            if respondent.problem is None and case is not None and case.problem is not None:
                respondent.problem = ("case_rejected", {"reason": case.problem})
        for response in self.responses.values():
            if response.problem is not None or isinstance(response, _RejectedResponse):
                continue
            for kind, info in (("meeting", self.meetings.get(response.meeting)),
                               ("respondent", self.respondents.get(response.respondent))):
                if info is not None and info.problem is not None:
                    # A case's rejection is said as such, not as its meeting's.
                    response.problem = info.problem if info.problem[0] == "case_rejected" \
                        else (f"{kind}_rejected", {"reason": info.problem})
                    break
            else:
                meeting = self.meetings.get(response.meeting)
                respondent = self.respondents.get(response.respondent)
                if meeting.attrs[0] != response.case or respondent.attrs[0] != response.case:
                    response.problem = ("differs", {"column": "case_id", "line": meeting.line,
                                                    "what": "meeting"})

    # --- what will be written ----------------------------------------------------------

    def accepted(self) -> list[tuple[str, ResponseInfo]]:
        """Responses to write, in the order of their first line."""
        found = [(sid, r) for sid, r in self.responses.items()
                 if r.problem is None and not r.unchanged
                 and not isinstance(r, _RejectedResponse)]
        found.sort(key=lambda pair: pair[1].line)
        return found

    def verdict(self, response_id: str) -> tuple[str, tuple | None]:
        """``accepted``, ``unchanged`` or ``rejected`` (with the problem) for a response."""
        response = self.responses.get(response_id)
        if response is None:
            return "rejected", None
        if response.problem is not None:
            return "rejected", response.problem
        return ("unchanged" if response.unchanged else "accepted"), None


class _RejectedResponse:
    """A response named only by lines that were rejected on their own."""

    __slots__ = ("line", "problem", "unchanged")

    def __init__(self, line: int):
        self.line = line
        self.problem: tuple | None = None
        self.unchanged = False

