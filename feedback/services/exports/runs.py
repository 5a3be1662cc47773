"""One export from start to end: access, the audit log, and the bytes, streamed.

:func:`start` checks the actor, refuses what cannot be built (an .xlsx beyond
Excel's rows), writes the start to the audit log with the filters, and
returns an :class:`ExportRun`: an iterable of bytes the web page and
``flask export`` send as it comes. When the last byte is out, or the
download is abandoned, the end goes to the audit log with the rows written
and whether it completed.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from flask import current_app
from flask_babel import force_locale

from feedback import clock
from feedback.extensions import db
from feedback.models import User
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import Invalid
from feedback.services.exports import codebook as codebooks
from feedback.services.exports import files, invitations, rows, wide
from feedback.services.exports.dialects import RFC4180, Dialect, csv_chunks, line_chunks
from feedback.services.exports.filters import DataFilters
from feedback.services.exports.long import long_lines
from feedback.services.exports.package import zip_stream
from feedback.services.exports.pseudonyms import Pseudonyms, domain

KINDS = ("long", "wide", "invitations", "codebook", "xlsx", "sav", "zip")
#: Rows fetched from the database at a time (a server-side cursor on PostgreSQL).
FETCH_ROWS = 2000
READ_BYTES = 1024 * 1024
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "zip": "application/zip",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}


@dataclass(frozen=True)
class ExportRequest:
    """What to export: the kind of file, the CSV dialect, the filters and the language."""

    kind: str = "long"
    dialect: Dialect = RFC4180
    filters: DataFilters = field(default_factory=DataFilters)
    #: Language of the codebook's texts and the band labels.
    language: str = "da"


class ExportRun:
    """The bytes of one export, as an iterable; ``rows`` counts the data rows sent so far."""

    def __init__(self, actor: Actor, request: ExportRequest, run_id: uuid.UUID, filename: str,
                 mimetype: str, chunks: Callable[[ExportRun], Iterator[bytes]],
                 expected: Callable[[], int]):
        self.actor = actor
        self.request = request
        self.id = run_id
        self.filename = filename
        self.mimetype = mimetype
        self.rows = 0
        self._done_rows = 0
        self._chunks = chunks
        self._expected = expected
        self._generator: Iterator[bytes] | None = None
        self._ended = False

    def expected_rows(self) -> int:
        """How many data rows the export will have (counted in the database; for progress)."""
        return self._expected()

    def count(self, rows_in_current_file: int) -> None:
        """Called by the writers as rows go out."""
        self.rows = self._done_rows + rows_in_current_file

    def file_done(self) -> int:
        """A file of a zip is complete: its rows; the next file counts from here."""
        in_file = self.rows - self._done_rows
        self._done_rows = self.rows
        return in_file

    def __iter__(self) -> Iterator[bytes]:
        self._generator = self._run()
        return self._generator

    def _run(self) -> Iterator[bytes]:
        completed = False
        try:
            yield from self._chunks(self)
            completed = True
        finally:
            self._end(completed)

    def close(self) -> None:
        """Stop the export (the download was abandoned); the end is audited as aborted."""
        if self._generator is not None:
            self._generator.close()
        self._end(False)

    def _end(self, completed: bool) -> None:
        if self._ended:
            return
        self._ended = True
        # The read transaction (and a server-side cursor) ends before the audit write.
        db.session.rollback()
        outcome = "completed" if completed else "aborted"
        audit.record_now(self.actor, "export.end", "export", self.id,
                         detail=f"{outcome}; rows={self.rows}")


def _label(request: ExportRequest) -> str:
    return {"long": "long_csv", "wide": "wide_csv", "invitations": "invitations_csv"}.get(
        request.kind, request.kind)


def _stamp() -> str:
    return clock.now().strftime("%Y%m%dT%H%MZ")


def start(actor: Actor, request: ExportRequest,
          render_html: Callable[[dict], str] | None = None) -> ExportRun:
    """Begin an export: access checked, refusals explained, the start audited.

    ``render_html`` turns a codebook into its readable page (the caller's
    template); zips include that page when it is given.
    """
    access.require_area(actor, Action.export)
    actor = _detached(actor)
    if request.kind not in KINDS:
        raise Invalid("unknown_export", field="kind", value=str(request.kind)[:40])
    key = current_app.config["FEEDBACK_PSEUDONYM_KEY"].encode()
    context = _Context(actor, request, key, render_html)
    families = context.families() if request.kind in ("wide", "xlsx", "sav") else []
    if request.kind in ("xlsx", "sav"):
        _check_cap(actor, request, families)
    run_id = uuid.uuid4()
    detail = (f"started; kind={request.kind}; dialect={request.dialect.key}; "
              f"filters={request.filters.summary()}")
    audit.record_now(actor, f"export.{_label(request)}", "export", run_id, detail=detail)
    stamp = _stamp()
    kind = request.kind
    if kind == "long":
        return ExportRun(actor, request, run_id, f"feedback-long-{stamp}.csv", MIMETYPES["csv"],
                         context.long_file, context.count_long)
    if kind == "invitations":
        return ExportRun(actor, request, run_id, f"feedback-invitations-{stamp}.csv",
                         MIMETYPES["csv"], context.invitations_file, context.count_invitations)
    if kind == "codebook":
        return ExportRun(actor, request, run_id, f"feedback-codebook-{stamp}.json",
                         MIMETYPES["json"], context.codebook_file, lambda: 0)
    if kind == "xlsx":
        return ExportRun(actor, request, run_id, f"feedback-wide-{stamp}.xlsx",
                         MIMETYPES["xlsx"], lambda run: context.xlsx_file(run, families),
                         lambda: sum(n for _, n in families))
    if kind in ("wide", "sav") and len(families) == 1:
        layout = families[0][0]
        if kind == "wide":
            return ExportRun(actor, request, run_id, f"feedback-wide-{layout.family}-{stamp}.csv",
                             MIMETYPES["csv"], lambda run: context.wide_file(run, layout),
                             lambda: families[0][1])
        return ExportRun(actor, request, run_id, f"feedback-{layout.family}-{stamp}.sav",
                         MIMETYPES["sav"], lambda run: context.sav_file(run, layout),
                         lambda: families[0][1])
    name = {"wide": "wide", "sav": "spss", "zip": "export"}[kind]
    return ExportRun(actor, request, run_id, f"feedback-{name}-{stamp}.zip", MIMETYPES["zip"],
                     lambda run: context.zip_file(run, families), context.count_all)


def _detached(actor: Actor) -> Actor:
    """The actor with a copy of its user that needs no database session.

    The bytes are made after the view has returned: the request's session may
    be gone by then, and a user loaded in it could no longer be read.
    """
    user = actor.user
    if user is None:
        return actor
    copy = User(id=user.id, organisation_id=user.organisation_id, username=user.username,
                display_name=user.display_name, role=user.role, active=user.active,
                locale=user.locale)
    return replace(actor, user=copy)


def _check_cap(actor: Actor, request: ExportRequest, families) -> None:
    cap = current_app.config["FEEDBACK_EXPORT_FILE_MAX_ROWS"]
    limit = min(cap, files.EXCEL_MAX_ROWS) if request.kind == "xlsx" else cap
    biggest = max((n for _, n in families), default=0)
    if biggest > limit:
        audit.record_now(actor, f"export.{request.kind}", outcome="refused",
                         detail=f"{biggest} rows > {limit}; filters={request.filters.summary()}")
        excel = request.kind == "xlsx" and limit == files.EXCEL_MAX_ROWS
        raise Invalid("export_too_many_rows_excel" if excel else "export_too_many_rows",
                      field="kind", rows=biggest, limit=limit, format=request.kind)


class _Context:
    """Everything one export's writers share: the actor, the filters, the key, the files."""

    def __init__(self, actor: Actor, request: ExportRequest, key: bytes,
                 render_html: Callable[[dict], str] | None):
        self.actor = actor
        self.request = request
        self.filters = request.filters
        self.dialect = request.dialect
        self.key = key
        self.render_html = render_html
        self.pseudonyms = Pseudonyms(key)
        self.formatter = rows.ResponseFormatter(self.pseudonyms)
        self.entries: list[codebooks.FileEntry] = []

    # --- what there is --------------------------------------------------------------

    def families(self) -> list[tuple[wide.WideLayout, int]]:
        """Each family's layout with its number of responses; families without any left out
        (unless none has any: then every family the filters name, with empty files)."""
        counts = dict(db.session.execute(
            rows.count_responses_by_family(self.actor, self.filters)).all())
        layouts = wide.layouts(self.filters)
        found = [(layout, counts.get(layout.family, 0)) for layout in layouts]
        with_rows = [pair for pair in found if pair[1]]
        return with_rows or found

    def count_long(self) -> int:
        return db.session.scalar(rows.count_answers(self.actor, self.filters)) or 0

    def count_invitations(self) -> int:
        return db.session.scalar(invitations.count_query(self.actor, self.filters)) or 0

    def count_all(self) -> int:
        families = self.families()
        count = sum(n for _, n in families)
        if self.request.kind == "zip":
            count += self.count_long() + self.count_invitations()
        return count

    @contextmanager
    def _execute(self, stmt):
        """The rows of ``stmt``, streamed (a server-side cursor on PostgreSQL), then closed."""
        # Core rows on the session's connection: the ORM's row handling would double the
        # time of a big export for nothing (no objects are loaded).
        result = db.session.connection().execute(
            stmt, execution_options={"stream_results": True, "max_row_buffer": FETCH_ROWS}
        ).yield_per(FETCH_ROWS)
        try:
            yield result
        finally:
            result.close()

    # --- the files ------------------------------------------------------------------

    def long_file(self, run: ExportRun) -> Iterator[bytes]:
        entry = codebooks.FileEntry("long.csv", "long", rows.LONG_COLUMNS)
        self.entries.append(entry)
        # Two statements read side by side on the session's connection, so that each
        # response's columns are read once, not once per answer (rows.items_query).
        with self._execute(rows.responses_query(self.actor, self.filters)) as responses, \
             self._execute(rows.items_query(self.actor, self.filters)) as items:
            yield from line_chunks(
                self.dialect, rows.LONG_COLUMNS,
                long_lines(rows.paired(responses, items), self.formatter, self.dialect),
                run.count)
        entry.rows = run.file_done()

    def _records(self, layout: wide.WideLayout) -> Iterator[wide.WideRecord]:
        with self._execute(rows.answers_query(self.actor, self.filters, layout.family)) as result:
            yield from wide.wide_records(result, self.formatter, layout, self.request.language)

    def wide_file(self, run: ExportRun, layout: wide.WideLayout) -> Iterator[bytes]:
        entry = codebooks.FileEntry(f"wide-{layout.family}.csv", "wide", layout.columns,
                                    family=layout.family, layout=layout)
        self.entries.append(entry)
        records = (wide.csv_row(rec, layout, self.dialect) for rec in self._records(layout))
        yield from csv_chunks(self.dialect, layout.columns, records, run.count)
        entry.rows = run.file_done()

    def invitations_file(self, run: ExportRun) -> Iterator[bytes]:
        entry = codebooks.FileEntry("invitations.csv", "invitations",
                                    invitations.INVITATION_COLUMNS)
        self.entries.append(entry)
        now = clock.now().replace(tzinfo=None)
        with self._execute(invitations.invitations_query(self.actor, self.filters)) as result:
            yield from csv_chunks(self.dialect, invitations.INVITATION_COLUMNS,
                                  invitations.invitation_rows(result, self.pseudonyms, now),
                                  run.count)
        entry.rows = run.file_done()

    def _temporary(self, suffix: str, build: Callable[[str], None]) -> Iterator[bytes]:
        fd, path = tempfile.mkstemp(prefix="feedback-export-", suffix=suffix)
        os.close(fd)
        try:
            build(path)
            with open(path, "rb") as fh:
                while chunk := fh.read(READ_BYTES):
                    yield chunk
        finally:
            os.unlink(path)

    def xlsx_file(self, run: ExportRun, families) -> Iterator[bytes]:
        def build(path):
            sheets = ((layout, self._records(layout)) for layout, _ in families)
            files.write_xlsx(path, sheets, run.count)
            for layout, count in families:
                self.entries.append(codebooks.FileEntry(
                    f"sheet {files.sheet_title(layout.family)}", "wide", layout.columns,
                    rows=count, family=layout.family, layout=layout))

        yield from self._temporary(".xlsx", build)

    def sav_file(self, run: ExportRun, layout: wide.WideLayout) -> Iterator[bytes]:
        entry = codebooks.FileEntry(f"{layout.family}.sav", "sav", layout.columns,
                                    family=layout.family, layout=layout)
        self.entries.append(entry)

        def build(path):
            entry.rows = files.write_sav(path, layout, self._records(layout),
                                         self.request.language, run.count)
            run.file_done()

        yield from self._temporary(".sav", build)

    def codebook(self, entries: list[codebooks.FileEntry] | None = None) -> dict:
        """The codebook of this export; counted in the database when nothing was written."""
        if entries is None:
            entries = self._counted_entries()
        user = self.actor.user
        with force_locale(self.request.language):
            return codebooks.build(
                kind=self.request.kind,
                dialect=self.dialect if self.request.kind not in ("xlsx", "sav") else None,
                filters=self.filters, files=entries,
                created_at=clock.now().isoformat().replace("+00:00", "Z"),
                created_by_role=user.role.value if user else "system",
                pseudonym_domain=domain(self.key), language=self.request.language)

    def _counted_entries(self) -> list[codebooks.FileEntry]:
        entries = [codebooks.FileEntry("long.csv", "long", rows.LONG_COLUMNS,
                                       rows=self.count_long())]
        for layout, count in self.families():
            entries.append(codebooks.FileEntry(f"wide-{layout.family}.csv", "wide",
                                               layout.columns, rows=count, family=layout.family,
                                               layout=layout))
        entries.append(codebooks.FileEntry("invitations.csv", "invitations",
                                           invitations.INVITATION_COLUMNS,
                                           rows=self.count_invitations()))
        return entries

    def codebook_file(self, run: ExportRun) -> Iterator[bytes]:
        yield _json(self.codebook())

    def zip_file(self, run: ExportRun, families) -> Iterator[bytes]:
        kind = self.request.kind
        members: list[tuple[str, Callable[[], Iterable[bytes]]]] = []
        if kind == "zip":
            members.append(("long.csv", lambda: self.long_file(run)))
            families = self.families()
        for layout, _ in families:
            if kind == "sav":
                members.append((f"{layout.family}.sav",
                                lambda layout=layout: self.sav_file(run, layout)))
            else:
                members.append((f"wide-{layout.family}.csv",
                                lambda layout=layout: self.wide_file(run, layout)))
        if kind == "zip":
            members.append(("invitations.csv", lambda: self.invitations_file(run)))
        members.append(("codebook.json", lambda: [_json(self.codebook(self.entries))]))
        if self.render_html is not None:
            members.append(("codebook.html", lambda: [self._html()]))
        yield from zip_stream(members, clock.local(clock.now()))

    def _html(self) -> bytes:
        with force_locale(self.request.language):
            return self.render_html(self.codebook(self.entries)).encode()


def _json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def codebook_for(actor: Actor, request: ExportRequest) -> dict:
    """The codebook of an export with ``request``'s filters, counted in the database.

    For the readable page; reading it is audited like an export of the codebook.
    """
    access.require_area(actor, Action.export)
    audit.record_now(actor, "export.codebook_page", "export",
                     detail=f"filters={request.filters.summary()}")
    key = current_app.config["FEEDBACK_PSEUDONYM_KEY"].encode()
    return _Context(actor, request, key, None).codebook()
