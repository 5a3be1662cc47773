"""Analysts' and team leads' pages: the export (filters, format, dialect) and the import.

Views are thin: the export and import services check access, validate,
audit and stream; these pages parse the form, call one service, and send
what it gives.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from feedback import sessions
from feedback.errors import message_for
from feedback.reports.forms import MODES, ExportForm, ImportForm
from feedback.services import exports, imports, instruments
from feedback.services.access import Action, may_enter
from feedback.services.errors import Invalid, NotFound

bp = Blueprint("reports", __name__)
bp.before_request(sessions.guard(Action.export, Action.report, Action.import_data))

IMPORT_ENDPOINT = "reports.import_upload"
IMPORT_STATUS = {
    "validating": _l("Being checked"),
    "writing": _l("Being written"),
    "completed": _l("Completed"),
    "refused": _l("Nothing imported"),
    "failed": _l("Failed and undone"),
    "rolled_back": _l("Rolled back"),
}


@bp.context_processor
def import_labels():
    """Names of import statuses and modes for the import pages."""
    return {"IMPORT_STATUS": IMPORT_STATUS, "IMPORT_MODES": {c.value: c.label for c in MODES}}


@bp.url_value_preprocessor
def upload_limit(endpoint, values):
    """Imports have their own size limit (the rest of the service accepts 64 KB).

    Runs before any before-request hook, so the CSRF check (which reads the
    form) already parses the upload under this limit; Werkzeug spools the
    file to disk rather than memory.
    """
    if endpoint == IMPORT_ENDPOINT and request.method == "POST":
        request.max_content_length = current_app.config["FEEDBACK_IMPORT_MAX_BYTES"]


def _language() -> str:
    return str(get_locale() or "da")


def _render_codebook_file(codebook: dict) -> str:
    return render_template("reports/codebook_file.html", codebook=codebook)


def _page(form: ExportForm, choices, error: str | None = None, status: int = 200,
          invalid_field: str | None = None):
    actor = sessions.staff_actor()
    titles = {p.id: p for p in instruments.installed()}
    return render_template(
        "reports/index.html", form=form, choices=choices, error=error,
        invalid_field=invalid_field,
        chosen=request.form if request.method == "POST" else MultiDict(),
        packs=titles, may_import=may_enter(actor, Action.import_data),
        columns=exports.LONG_COLUMNS), status


@bp.route("/")
@sessions.area(Action.export)
def index():
    """The export page: filters, what to download, the CSV dialect."""
    actor = sessions.staff_actor()
    return _page(ExportForm(formdata=None), exports.choices_for(actor))


def _stream(run: exports.ExportRun) -> Response:
    return Response(
        stream_with_context(run), mimetype=run.mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{run.filename}"',
            # Let nginx pass the stream through instead of buffering it whole.
            "X-Accel-Buffering": "no",
        },
    )


def _request(form: ExportForm, data, choices) -> exports.ExportRequest:
    return exports.ExportRequest(
        kind=form.kind.data, dialect=exports.dialect(form.dialect.data),
        filters=exports.parse(data, choices), language=_language())


@bp.route("/export", methods=["POST"])
@sessions.area(Action.export)
def export():
    """Download what the form asks for, streamed; a clear 400 for an unknown filter value."""
    actor = sessions.staff_actor()
    choices = exports.choices_for(actor)
    form = ExportForm()
    if not form.validate_on_submit():
        return _page(form, choices, status=400)
    try:
        export_request = _request(form, request.form, choices)
        run = exports.start(actor, export_request, render_html=_render_codebook_file)
    except Invalid as error:
        return _page(form, choices, error=message_for(error), status=400,
                     invalid_field=error.details.get("field"))
    return _stream(run)


@bp.route("/codebook", methods=["POST"])
@sessions.area(Action.export)
def codebook():
    """The codebook of the export the form describes, as a readable page."""
    actor = sessions.staff_actor()
    choices = exports.choices_for(actor)
    form = ExportForm()
    if not form.validate_on_submit():
        return _page(form, choices, status=400)
    try:
        export_request = _request(form, request.form, choices)
    except Invalid as error:
        return _page(form, choices, error=message_for(error), status=400,
                     invalid_field=error.details.get("field"))
    return render_template("reports/codebook.html",
                           codebook=exports.codebook_for(actor, export_request))


@bp.route("/export.csv")
@sessions.area(Action.export)
def export_csv():
    """The long CSV of everything the user may export (RFC 4180), streamed.

    Filters and ``dialect`` may be given in the query string for short lists;
    the page sends longer ones by POST.
    """
    actor = sessions.staff_actor()
    try:
        export_request = exports.ExportRequest(
            kind="long", dialect=exports.dialect(request.args.get("dialect")),
            filters=exports.parse(request.args, exports.choices_for(actor)),
            language=_language())
    except Invalid as error:
        abort(400, description=message_for(error))
    return _stream(exports.start(actor, export_request))


# --- import -----------------------------------------------------------------------

def _report_dir() -> Path:
    configured = current_app.config.get("FEEDBACK_IMPORT_REPORTS_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def _import_page(form: ImportForm, status: int = 200, error: str | None = None):
    actor = sessions.staff_actor()
    return render_template("reports/import.html", form=form, error=error,
                           batches=imports.recent(actor),
                           max_mb=current_app.config["FEEDBACK_IMPORT_MAX_BYTES"] // 2**20
                           ), status


@bp.route("/import", methods=["GET", "POST"], endpoint="import_upload")
@sessions.area(Action.import_data)
def import_upload():
    """Upload a long CSV file of historical answers; the whole file is checked first."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, status=400 if request.method == "POST" else 200)
    upload = form.file.data
    try:
        batch = imports.run(sessions.staff_actor(), upload.stream, source=form.source.data,
                            mode=form.mode.data, report_dir=_report_dir(),
                            file_name=upload.filename, language=_language())
    except Invalid as error:
        return _import_page(form, status=400, error=message_for(error))
    except imports.ImportFailed as error:
        return _import_page(form, status=409, error=message_for(error))
    return redirect(url_for("reports.import_result", batch_id=batch.id), code=303)


def _batch_or_404(batch_id: str):
    try:
        return imports.get(sessions.staff_actor(), batch_id)
    except NotFound:
        abort(404)


@bp.route("/import/<batch_id>")
@sessions.area(Action.import_data)
def import_result(batch_id: str):
    """What an import did: counts, the rejected lines, the report to download."""
    batch = _batch_or_404(batch_id)
    path = imports.report_path(_report_dir(), batch.id)
    return render_template("reports/import_result.html", batch=batch,
                           rejections=imports.rejections(path), has_report=path.exists(),
                           form=ImportForm(formdata=None))


@bp.route("/import/<batch_id>/report.csv")
@sessions.area(Action.import_data)
def import_report(batch_id: str):
    """The import's report: every line with its outcome, in the file's own dialect."""
    batch = _batch_or_404(batch_id)
    path = imports.report_path(_report_dir(), batch.id)
    if not path.exists():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"import-report-{batch.source}.csv")


@bp.route("/import/<batch_id>/rollback", methods=["POST"])
@sessions.area(Action.import_data)
def import_rollback(batch_id: str):
    """Delete everything the import wrote."""
    batch = _batch_or_404(batch_id)
    form = ImportForm(formdata=None)
    try:
        imports.rollback(sessions.staff_actor(), batch.id)
    except Invalid as error:
        path = imports.report_path(_report_dir(), batch.id)
        return render_template("reports/import_result.html", batch=batch,
                               rejections=imports.rejections(path), has_report=path.exists(),
                               form=form, error=message_for(error)), 409
    return redirect(url_for("reports.import_result", batch_id=batch.id), code=303)


# The report pages live in their own module on this blueprint.
from feedback.reports import report_views  # noqa: E402,F401
