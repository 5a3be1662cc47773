"""A progress bar on standard error, one per phase, shown only where someone can see it."""

from __future__ import annotations

import sys

import click


class Bars:
    """``bars(phase, done, total)``: keeps one click progress bar per phase on stderr."""

    LABELS = {"validating": "checking the file", "report": "writing the report",
              "writing": "writing answers", "export": "exporting rows",
              "rollback": "deleting answers"}

    def __init__(self, enabled: bool | None = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._phase = None
        self._bar = None
        self._done = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Move the bar of ``phase`` to ``done`` of ``total`` (a new bar for a new phase)."""
        if not self.enabled:
            return
        if phase != self._phase:
            self.close()
            self._phase = phase
            self._done = 0
            self._bar = click.progressbar(length=max(total, 1), file=sys.stderr,
                                          label=self.LABELS.get(phase, phase), show_pos=True)
            self._bar.__enter__()
        step = done - self._done
        if step > 0:
            self._bar.update(step)
            self._done = done

    def close(self) -> None:
        """Finish the current bar (a newline on stderr)."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
