"""``flask expected-range compute``: the expected ranges from closed episodes (decision 20).

Run nightly by deploy/systemd/feedback-expected-range.timer; closing a case
recomputes them too. The case page only reads the table.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

expected_range = AppGroup("expected-range", help="Expected ranges from closed episodes.")


@expected_range.command("compute", help="Recompute every organisation's expected ranges.")
def compute():
    """Replace the expected-range table from the closed cases."""
    from feedback.services import expected

    for organisation, stored in expected.compute_all().items():
        click.echo(f"{organisation}: {stored} expected ranges")
