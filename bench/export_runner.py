"""Run ``flask export`` in this process and measure the memory the export itself takes.

    python -m bench.export_runner <result.json> export --user NAME --output FILE

The app is created and everything the command uses is imported first; then
the resident set size is noted, the kernel's peak counter is reset
(``/proc/self/clear_refs``), the command runs through Flask's own CLI, and
the peak is read again: the growth is what the export added, not what
importing the app costs. The configuration comes from the environment
(``FEEDBACK_DATABASE_URL`` and the keys), as for ``flask --app feedback``.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
import time
from pathlib import Path


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


class PeakMemory:
    """The peak resident set size from now on, in kB."""

    def __init__(self):
        self.sampled = 0
        self._stop = threading.Event()
        self._thread = None
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            self.method = "VmHWM"
        except OSError:
            # Older kernels: sample instead (may miss a short spike).
            self.method = "sampled"
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()

    def _sample(self):
        while not self._stop.is_set():
            self.sampled = max(self.sampled, _status_kb("VmRSS"))
            time.sleep(0.005)

    def peak(self) -> int:
        if self._thread is None:
            return _status_kb("VmHWM")
        self._stop.set()
        self._thread.join()
        return max(self.sampled, _status_kb("VmRSS"))


def main(argv: list[str]) -> int:
    result_path, args = Path(argv[0]), argv[1:]
    from flask.cli import FlaskGroup

    import feedback.commands.export  # noqa: F401 (imported before the baseline is taken)
    from feedback.app import create_app

    app = create_app()
    with app.app_context():
        from feedback.extensions import db

        db.engine  # noqa: B018 (the engine and its dialect, before measuring)
    gc.collect()
    before = _status_kb("VmRSS")
    peak = PeakMemory()
    started = time.perf_counter()
    FlaskGroup(create_app=lambda: app).main(args=args, prog_name="flask",
                                            standalone_mode=False)
    elapsed = time.perf_counter() - started
    top = peak.peak()
    result_path.write_text(json.dumps({
        "rss_before_kb": before, "peak_kb": top, "growth_kb": top - before,
        "command_s": elapsed, "method": peak.method}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
