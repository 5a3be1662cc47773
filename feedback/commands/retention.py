"""``flask retention run``: delete or anonymise closed cases whose time is up, purge old audit rows.

Run daily from ``deploy/systemd/feedback-retention.timer`` (or cron). With
``--dry-run`` it lists what would go and changes nothing.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from feedback.services import retention as service

retention = AppGroup("retention", help="Retention: remove what may no longer be kept.")


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="List what would go; change nothing.")
def run(dry_run: bool) -> None:
    """Delete or anonymise the cases that are due and purge audit rows past their period."""
    conf = service.settings()
    result = service.run(dry_run=dry_run)
    done = {"delete": "deleted", "anonymise": "anonymised"}
    click.echo(f"Cases closed more than {conf.case_days} days ago are "
               f"{'anonymised' if conf.keep_anonymised else 'deleted'}; audit rows are kept "
               f"{conf.audit_days} days.")
    for due in result.cases:
        what = f"would {due.action}" if dry_run else done[due.action]
        click.echo(f"{what}: case {due.reference} ({due.team}), "
                   f"closed {due.closed_on.isoformat()}, due {due.due_on.isoformat()}")
    be = "would be" if dry_run else "were"
    click.echo(f"{len(result.cases)} cases {be} {done[conf.case_action]}; "
               f"{result.audit_rows} audit rows and {result.import_reports} import reports "
               f"{be} deleted.")
