"""Reports computed by the service: one module per report, the same object for every output.

:func:`run` checks that the actor may read reports (:data:`Action.report`),
parses the export's filters and the report's own options strictly (a bad
value is :class:`Invalid`, nothing is read), builds the report and writes
it to the audit log. The page, the CSV in both dialects and ``flask report``
all call it.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app

from feedback.models import Role
from feedback.services import access, audit
from feedback.services.access import Action
from feedback.services.actors import Actor
from feedback.services.errors import NotFound
from feedback.services.exports.filters import choices_for, parse
from feedback.services.reports import (
    alliance,
    leaders,
    likert,
    outcome,
    response_rates,
    ruler,
    satisfaction,
    suppression,
)
from feedback.services.reports.common import Report, csv_bytes, parse_options

#: Every report, in the order the reports page lists them.
REPORTS = {m.NAME: m for m in (outcome, satisfaction, response_rates, alliance, likert, ruler,
                               leaders)}

__all__ = ["REPORTS", "Report", "csv_bytes", "module", "option_choices", "run"]


def module(name: str):
    """The report called ``name``; :class:`NotFound` for any other name."""
    try:
        return REPORTS[name]
    except KeyError:
        raise NotFound() from None


def option_choices(actor: Actor) -> dict[str, tuple[str, ...]]:
    """Allowed values of the options that depend on what is installed or stored."""
    choices = choices_for(actor)
    return {"family": choices.families, "instrument": choices.instruments}


def run(actor: Actor, name: str, data: Mapping) -> Report:
    """Build report ``name`` for ``actor`` from form fields or options; audited.

    ``data`` holds the export's filter fields and the report's options.
    Refused actors get :class:`Forbidden` (audited by the policy); bad values
    :class:`Invalid` naming the field.
    """
    report_module = module(name)
    access.require_area(actor, Action.report)
    choices = choices_for(actor)
    filters = parse(data, choices)
    options = parse_options(report_module.OPTIONS, data, option_choices(actor))
    report = report_module.build(actor, filters, options)
    if actor.user.role != Role.team_lead:  # outside a team's own view (decision 37)
        suppression.apply(report, current_app.config.get("FEEDBACK_REPORT_MIN_CHILDREN", 5))
    shown = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in options.items()
             if v not in (None, "")}
    audit.record_now(actor, f"report.{name}", "report", name,
                     detail=(f"filters={filters.summary(250)}; options={shown}; "
                             f"suppressed={report.suppressed}")[:500])
    return report
