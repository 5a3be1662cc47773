"""The report pages: each report as a page with its formulas, and as CSV in both dialects.

Registered on the reports blueprint (imported at the end of
:mod:`feedback.reports.views`). Filters and options come in the query
string, so a report's address can be bookmarked and shared; a bad value is a
clear 400 page and reads nothing.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, abort, render_template, request, url_for

from feedback import sessions
from feedback.errors import message_for
from feedback.reports.views import bp
from feedback.services import exports, reports
from feedback.services.access import Action
from feedback.services.errors import Invalid, NotFound


def _module_or_404(name: str):
    try:
        return reports.module(name)
    except NotFound:
        abort(404)


@bp.route("/reports")
@sessions.area(Action.report)
def report_list():
    """Every report, with a line on what it answers."""
    return render_template("reports/report_list.html", reports=reports.REPORTS.values())


@bp.route("/report/<name>")
@sessions.area(Action.report)
def report_page(name: str):
    """One report: the form of filters and options, the figures, the formulas, what was left out."""
    module = _module_or_404(name)
    actor = sessions.staff_actor()
    choices = exports.choices_for(actor)
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "dialect"]
    csv_links = {key: url_for("reports.report_csv", name=name) + "?" + urlencode(
        [*kept, ("dialect", key)]) for key in ("excel-da", "rfc4180")}
    context = dict(module=module, choices=choices, chosen=request.args, csv_links=csv_links,
                   option_choices=reports.option_choices(actor), report=None, error=None,
                   invalid_field=None)
    try:
        context["report"] = reports.run(actor, name, request.args)
    except Invalid as error:
        context.update(error=message_for(error), invalid_field=error.details.get("field"))
        return render_template("reports/report_page.html", **context), 400
    return render_template("reports/report_page.html", **context)


@bp.route("/report/<name>.csv")
@sessions.area(Action.report)
def report_csv(name: str):
    """One report as CSV: ``dialect=rfc4180`` (default) or ``excel-da``."""
    _module_or_404(name)
    actor = sessions.staff_actor()
    try:
        dialect = exports.dialect(request.args.get("dialect"))
        report = reports.run(actor, name, request.args)
    except Invalid as error:
        abort(400, description=message_for(error))
    return Response(reports.csv_bytes(report, dialect), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             f'attachment; filename="report-{name}-{dialect.key}.csv"'})
