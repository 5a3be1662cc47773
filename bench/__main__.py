"""``make bench``: every benchmark in bench/, one line per figure with the word ``ratio``.

    python -m bench [--only submit,case_page,export,page_weight,report_outcome]

Each figure compares the app with a baseline measured in the same run, or
(page weight) with its budget. Results also go to bench/out/<benchmark>.json.
PostgreSQL comes from FEEDBACK_BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1/postgres); each benchmark creates and drops
its own databases there. Set it to the empty string to measure SQLite only.
Exits with 1 when a benchmark refused to print a ratio (the two sides did
not do the same work) or could not run.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import case_page, export, import_rows, page_weight, report_outcome, submit
from bench.common import BenchError, Report, machine, postgres_admin_url

BENCHMARKS = {
    "submit": lambda report, engines: submit.run(report, engines),
    "case_page": lambda report, engines: case_page.run(report, ("sqlite",)),
    "export": lambda report, engines: export.run(report, engines),
    "import_rows": lambda report, engines: import_rows.run(report, engines),
    "page_weight": lambda report, engines: page_weight.run(report),
    "report_outcome": lambda report, engines: report_outcome.run(report, engines),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help="comma-separated: " + ", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    info = machine()
    print(f"machine: {info['nproc']} × {info['cpu']}, Python {info['python']}, "
          f"{info['date']}, load average {' '.join(map(str, info['load_average']))}",
          flush=True)
    engines = ("sqlite", "postgresql") if postgres_admin_url() else ("sqlite",)
    if len(engines) == 1:
        print("  FEEDBACK_BENCH_POSTGRES_URL is empty: SQLite only", flush=True)
    ok = True
    for name in args.only.split(","):
        report = Report(name)
        started = time.monotonic()
        print(f"== {name}", flush=True)
        try:
            BENCHMARKS[name](report, engines)
        except BenchError as error:
            report.refuse(name, str(error))
        report.note(f"({time.monotonic() - started:.0f} s; {report.write()})")
        ok = ok and report.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
