"""Importing historical answers in the long format (decisions 17 and 39).

:func:`run` takes a long CSV file (either dialect) and a source label:

1. the whole file is read and checked without writing anything
   (:mod:`.reader`, :mod:`.checks`, :mod:`.plan`);
2. a report gives every line its outcome — accepted, already imported,
   rejected with the column and the problem — in the file's own dialect;
3. then, unless the person chose "all or nothing" and a line was rejected,
   the accepted responses are written in short batches tagged with the
   import's id (:mod:`.writing`), so :func:`rollback` can delete exactly them.

If writing fails half-way, what was written is deleted again: an import is
never partial unless the person chose "accepted rows only".
"""

from __future__ import annotations

import csv
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from feedback import clock
from feedback.extensions import db
from feedback.models import ImportBatch
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import DomainError, Invalid, NotFound
from feedback.services.exports.dialects import EXCEL_DA, RFC4180, restore_text
from feedback.services.imports import reader
from feedback.services.imports.checks import Lookups, Problem, parse_line
from feedback.services.imports.messages import message
from feedback.services.imports.plan import Plan
from feedback.services.imports.writing import Writer, delete_rows
from feedback.services.uow import begin_write

MODES = ("all_or_nothing", "accepted_only")
SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,29}$")
#: Responses written per transaction.
BATCH_RESPONSES = 200
REPORT_COLUMNS = ("line", "outcome", "column", "problem")

Progress = Callable[[str, int, int], None]


class ImportFailed(DomainError):
    """Writing failed half-way; what was written has been deleted again."""

    code = "import_failed"


@dataclass(frozen=True)
class Rejection:
    """A rejected line as the result page shows it."""

    line: str
    column: str
    problem: str


def _size(fh: BinaryIO) -> int:
    position = fh.tell()
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(position)
    return size


def _response_id(fields: dict | None) -> str | None:
    if not fields:
        return None
    value = restore_text(fields.get("response_id", "")).strip()
    return value if value and len(value) <= 60 and "\x00" not in value else None


def report_path(report_dir: Path, batch_id) -> Path:
    """Where an import's report is kept."""
    return Path(report_dir) / f"import-{batch_id}.csv"


def run(actor: Actor, fh: BinaryIO, *, source: str, mode: str, report_dir: Path,
        file_name: str | None = None, language: str = "da",
        batch_responses: int = BATCH_RESPONSES, progress: Progress | None = None
        ) -> ImportBatch:
    """Import a long CSV file; returns the batch with its counts and status.

    ``fh`` is the file, opened in binary and seekable (an upload spooled to
    disk, or a file). The report is written to :func:`report_path`.
    """
    access.require_area(actor, Action.import_data)
    if not SOURCE.match(source or ""):
        raise Invalid("import_source", field="source")
    if mode not in MODES:
        raise Invalid("import_mode", field="mode")
    begin_write()
    batch = ImportBatch(source=source, file_name=(file_name or "")[:200] or None,
                        created_by_id=actor.user_id, mode=mode, status="validating")
    db.session.add(batch)
    db.session.flush()
    audit.record(actor, "import.start", "import", batch.id,
                 detail=f"source={source}; mode={mode}; file={(file_name or '-')[:200]}")
    db.session.commit()
    path = report_path(report_dir, batch.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with force_locale(language):
        try:
            plan, shape = _validate(actor, fh, source, progress)
        except reader.FileRefused as refused:
            _report_refusal(path, refused)
            return _finish(actor, batch, "refused",
                           refusal=message(refused.code, refused.details))
        counts = _report(fh, shape, plan, path, actor, progress)
        batch.rows_read, batch.rows_accepted, batch.rows_unchanged, batch.rows_rejected = counts
        if mode == "all_or_nothing" and batch.rows_rejected:
            return _finish(actor, batch, "refused", refusal=message(
                "rows_rejected", {"count": batch.rows_rejected}))
        return _write(actor, batch, plan, batch_responses, progress)


def _validate(actor: Actor, fh: BinaryIO, source: str, progress: Progress | None):
    shape = reader.shape(fh)
    size = _size(fh)
    lookups = Lookups(db.session, actor.user.organisation_id, clock.now())
    plan = Plan(source)
    for n, record in enumerate(reader.records(fh, shape)):
        if record.empty:
            continue
        if record.problem is not None:
            plan.reject_line(record.line, None)
        else:
            try:
                line = parse_line(record.fields, lookups)
            except Problem:
                plan.reject_line(record.line, _response_id(record.fields))
            else:
                plan.add(record.line, line)
        if progress and n % 5000 == 0:
            progress("validating", fh.tell(), size)
    plan.finish(db.session, actor.user.organisation_id)
    # Nothing holds the database while the report is written.
    db.session.rollback()
    if progress:
        progress("validating", size, size)
    return plan, shape


def _report(fh: BinaryIO, shape: reader.FileShape, plan: Plan, path: Path, actor: Actor,
            progress: Progress | None) -> tuple[int, int, int, int]:
    """Give every line its outcome in the report; returns (read, accepted, unchanged, rejected)."""
    dialect = EXCEL_DA if shape.delimiter == ";" else RFC4180
    lookups = Lookups(db.session, actor.user.organisation_id, clock.now())
    read = accepted = unchanged = rejected = 0
    size = _size(fh)
    reader.shape(fh)
    with open(path, "w", encoding="utf-8-sig" if dialect.bom else "utf-8", newline="") as out:
        writer = dialect.writer(out)
        writer.writerow(REPORT_COLUMNS)
        empty_from = empty_to = None

        def flush_empty():
            if empty_from is not None:
                lines = str(empty_from) if empty_from == empty_to else f"{empty_from}-{empty_to}"
                writer.writerow((lines, "ignored", "", message("empty_lines")))

        for n, record in enumerate(reader.records(fh, shape)):
            if progress and n % 5000 == 0:
                progress("report", fh.tell(), size)
            if record.empty:
                if empty_from is None:
                    empty_from = record.line
                empty_to = record.line
                continue
            flush_empty()
            empty_from = empty_to = None
            read += 1
            if record.problem is not None:
                column, code, details = record.problem
                writer.writerow((record.line, "rejected", column, message(code, details)))
                rejected += 1
                continue
            verdict, problem = plan.verdict(_response_id(record.fields))
            if verdict == "rejected":
                # Only lines of rejected responses are checked again, to tell a line's own
                # problem from its response's: a line with a problem of its own always
                # rejected its response in the first pass.
                try:
                    parse_line(record.fields, lookups)
                except Problem as own:
                    writer.writerow((record.line, "rejected", own.column,
                                     message(own.code, own.details)))
                    rejected += 1
                    continue
            if record.line in plan.duplicates:
                writer.writerow((record.line, "rejected", "",
                                 message("duplicate_line", {"line": plan.duplicates[record.line]})))
                rejected += 1
                continue
            if verdict == "rejected":
                code, details = problem or ("response_line_rejected", {"line": "?"})
                writer.writerow((record.line, "rejected", details.get("column", ""),
                                 message(code, details)))
                rejected += 1
            elif verdict == "unchanged":
                writer.writerow((record.line, "unchanged", "", message("unchanged")))
                unchanged += 1
            else:
                writer.writerow((record.line, "accepted", "", ""))
                accepted += 1
        flush_empty()
    db.session.rollback()
    return read, accepted, unchanged, rejected


def _report_refusal(path: Path, refused: reader.FileRefused) -> None:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = RFC4180.writer(out)
        writer.writerow(REPORT_COLUMNS)
        writer.writerow((refused.details.get("line", ""), "refused", "",
                         message(refused.code, refused.details)))


def _write(actor: Actor, batch: ImportBatch, plan: Plan, size: int,
           progress: Progress | None) -> ImportBatch:
    begin_write()
    batch.status = "writing"
    db.session.commit()
    accepted = plan.accepted()
    writer = Writer(plan, batch.id, actor.user.organisation_id, actor.user_id)
    written = 0
    try:
        for start in range(0, len(accepted), size):
            written += writer.write(accepted[start:start + size])
            if progress:
                progress("writing", written, len(accepted))
    except BaseException as error:
        # Undo: the person did not choose a partial import. A database error is
        # reported as a failed import; anything else is a defect and is raised as is.
        db.session.rollback()
        delete_rows(batch.id)
        _finish(actor, batch, "failed", refusal=message("write_failed"))
        if isinstance(error, SQLAlchemyError):
            raise ImportFailed(batch=str(batch.id)) from error
        raise
    batch.responses_written = written
    return _finish(actor, batch, "completed")


def _finish(actor: Actor, batch: ImportBatch, status: str, refusal: str | None = None
            ) -> ImportBatch:
    begin_write()
    batch.status = status
    batch.refusal = refusal[:200] if refusal else None
    batch.finished_at = clock.now()
    audit.record(actor, "import.end", "import", batch.id,
                 detail=f"{status}; read={batch.rows_read}; accepted={batch.rows_accepted}; "
                        f"unchanged={batch.rows_unchanged}; rejected={batch.rows_rejected}; "
                        f"responses={batch.responses_written}")
    db.session.commit()
    return batch


def rollback(actor: Actor, batch_id, progress: Callable[[int], None] | None = None
             ) -> ImportBatch:
    """Delete everything an import wrote; refused while other data refers to it."""
    access.require_area(actor, Action.import_data)
    batch = get(actor, batch_id)
    if batch.status != "completed":
        raise Invalid("import_not_completed", field="import")
    delete_rows(batch.id, progress)
    begin_write()
    batch.status = "rolled_back"
    batch.rolled_back_at = clock.now()
    audit.record(actor, "import.rollback", "import", batch.id,
                 detail=f"responses={batch.responses_written}")
    db.session.commit()
    return batch


def get(actor: Actor, batch_id) -> ImportBatch:
    """One import, for the people who may import."""
    access.require_area(actor, Action.import_data)
    try:
        batch = db.session.get(ImportBatch, uuid.UUID(str(batch_id)))
    except ValueError:
        batch = None
    if batch is None:
        raise NotFound()
    # Its page and report show the imported lines: a read of case data.
    audit.record_now(actor, "import.view", "import", batch.id)
    return batch


def recent(actor: Actor, limit: int = 50) -> list[ImportBatch]:
    """The latest imports, newest first."""
    access.require_area(actor, Action.import_data)
    return list(db.session.scalars(select(ImportBatch).order_by(ImportBatch.created_at.desc())
                                   .limit(limit)))


def rejections(path: Path, limit: int = 200) -> list[Rejection]:
    """The first rejected lines of a report, for the result page."""
    if not path.exists():
        return []
    with open(path, encoding="utf-8-sig", newline="") as fh:
        header = fh.readline()
        delimiter = ";" if header.count(";") > header.count(",") else ","
        found = []
        for row in csv.reader(fh, delimiter=delimiter):
            if len(row) == 4 and row[1] in ("rejected", "refused"):
                found.append(Rejection(row[0], row[2], row[3]))
                if len(found) >= limit:
                    break
    return found


__all__ = ["MODES", "ImportFailed", "Rejection", "get", "recent", "rejections", "report_path",
           "rollback", "run"]
