"""The administrator's audit pages: the log, its export, and a family's access export.

Registered on the admin blueprint, so only administrators reach them (403,
audited, for everyone else). Reading the log and making an access export are
audited too.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request, stream_with_context
from flask_babel import gettext as _

from feedback import clock, sessions
from feedback.admin.audit_forms import AccessForm, LogFilterForm
from feedback.admin.views import bp
from feedback.labels import STAFF_ROLE_LABELS
from feedback.services import access_export, audit, retention
from feedback.services.errors import NotFound
from feedback.services.exports import dialects


def _filter_form() -> tuple[LogFilterForm, audit.LogFilter]:
    actor = sessions.staff_actor()
    form = LogFilterForm(request.args)
    form.who.choices = [("", _("Everybody")), ("respondent", _("Respondents (links)")),
                        ("system", _("The system")), ("anonymous", _("Not signed in"))] + [
        (str(u.id), f"{u.username} ({STAFF_ROLE_LABELS[u.role.value]})")
        for u in audit.staff_choices(actor)]
    form.action.choices = [("", _("Every action"))] + [(a, a) for a in audit.actions()]
    if not form.validate():
        return form, None
    return form, audit.LogFilter(
        who=form.who.data or None, case_reference=(form.case.data or "").strip() or None,
        action=form.action.data or None, date_from=form.date_from.data,
        date_to=form.date_to.data, refused_only=bool(form.refused.data))


@bp.route("/audit")
def audit_log():
    """The audit log, filtered and paginated, newest first."""
    form, flt = _filter_form()
    if flt is None:
        return render_template("admin/audit.html", form=form, log=None), 400
    log = audit.read_log(sessions.staff_actor(), flt, form.page.data or 1)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("admin/audit.html", form=form, log=log, args=args)


@bp.route("/audit.csv")
def audit_csv():
    """The filtered log as CSV (either dialect), streamed, oldest first."""
    form, flt = _filter_form()
    if flt is None:
        abort(400, description=_("The filter is not valid."))
    dialect = dialects.dialect(form.dialect.data or "excel-da")
    rows = audit.export_rows(sessions.staff_actor(), flt)
    return Response(
        stream_with_context(dialects.csv_chunks(dialect, audit.CSV_COLUMNS, rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"',
                 "X-Accel-Buffering": "no"})


@bp.route("/access")
def access_export_page():
    """A family's access export: what is stored about their case, and who looked at it."""
    form = AccessForm(request.args)
    actor = sessions.staff_actor()
    if not form.reference.data or not form.validate():
        return render_template("admin/audit_access.html", form=form,
                               report=None), 400 if form.errors else 200
    try:
        report = access_export.build(actor, form.reference.data.strip())
    except NotFound:
        return render_template("admin/audit_access.html", form=form, report=None,
                               not_found=True), 404
    if request.args.get("format") == "json":
        return Response(access_export.to_json(report), mimetype="application/json",
                        headers={"Content-Disposition":
                                 'attachment; filename="access-export.json"'})
    return render_template("admin/audit_access.html", form=form, report=report)


@bp.route("/retention")
def retention_page():
    """What retention removes, and when: cases due now and in the next 90 days."""
    conf, due = retention.overview(sessions.staff_actor())
    return render_template("admin/audit_retention.html", conf=conf, due=due,
                           today=clock.today())
