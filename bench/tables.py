"""Markdown tables for docs/benchmarks.md from the last run's bench/out/*.json.

    python -m bench.tables
"""

from __future__ import annotations

import json
import re
import sys

from bench.common import OUT


def _load(name: str) -> dict | None:
    path = OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def submit(data: dict) -> list[str]:
    rows = ["| Engine, connections | App req/s | App p95 | Baseline req/s | Baseline p95 "
            "| Throughput ratio | Client CPU (app / baseline runs) |",
            "|---|---|---|---|---|---|---|"]
    for what, d in data["data"].items():
        app, base = d["app"], d["baseline"]
        label = what.removeprefix("submit ")
        rows.append(f"| {label} | {app['throughput']:.0f} | {_ms(app['p95_s'])} | "
                    f"{base['throughput']:.0f} | {_ms(base['p95_s'])} | "
                    f"{app['throughput'] / base['throughput']:.2f} | "
                    f"{app['client_cores']:.2f} / {base['client_cores']:.2f} cores |")
    return rows


def case_page(data: dict) -> list[str]:
    rows = ["| Meetings (× 3 respondents) | Points | App p50 | App p95 | Baseline p50 "
            "| Baseline p95 | p95 ratio |", "|---|---|---|---|---|---|---|"]
    for what, d in data["data"].items():
        meetings = re.search(r"(\d+) meetings", what).group(1)
        app, base = d["app"], d["baseline"]
        rows.append(f"| {meetings} | {d['points'][0]} | {_ms(app['p50_s'])} | "
                    f"{_ms(app['p95_s'])} | {_ms(base['p50_s'])} | {_ms(base['p95_s'])} | "
                    f"{app['p95_s'] / base['p95_s']:.1f} |")
    return rows


def export(data: dict) -> list[str]:
    rows = ["| Engine | Answers | `flask export` | of which the command | Baseline "
            "| Time ratio | Peak memory growth |", "|---|---|---|---|---|---|---|"]
    for what, d in data["data"].items():
        kind, answers = re.match(r"export (\w+) ([\d ]+) answers", what).groups()
        app = sorted(d["app"], key=lambda r: r["wall_s"])[len(d["app"]) // 2]
        base = sorted(d["baseline"], key=lambda r: r["wall_s"])[len(d["baseline"]) // 2]
        growth = max(r["growth_kb"] for r in d["app"]) / 1024
        rows.append(f"| {kind} | {answers.strip()} | {app['wall_s']:.2f} s | "
                    f"{app['command_s']:.2f} s | {base['wall_s']:.2f} s | "
                    f"{app['wall_s'] / base['wall_s']:.1f} | {growth:.1f} MB |")
    return rows


def figures() -> list[str]:
    rows = ["| Figure | Ratio |", "|---|---|"]
    for name in ("submit", "case_page", "export", "page_weight"):
        data = _load(name)
        for figure in (data or {}).get("figures", []):
            rows.append(f"| {figure['what']} | {figure['ratio']:.2f} |")
    return rows


def main() -> int:
    for title, name, render in (("Submit", "submit", submit), ("Case page", "case_page", case_page),
                                ("Export", "export", export)):
        data = _load(name)
        if data:
            machine = data["machine"]
            print(f"### {title} ({machine['date']}, {machine['nproc']} × {machine['cpu']}, "
                  f"load {machine.get('load_average')})\n")
            print("\n".join(render(data)) + "\n")
    print("### All figures\n")
    print("\n".join(figures()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
