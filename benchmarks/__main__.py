"""``python -m benchmarks [--no-fail]``: run every benchmark, rewrite RESULTS.md and results.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.cases import run_all

HERE = Path(__file__).parent


def render(results: list[dict[str, Any]], machine: dict[str, str]) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`); see README.md here for what each one measures and why.",
        "",
        " · ".join(f"{k}: {v}" for k, v in machine.items()),
        "",
        "| benchmark | measures | target | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        measured = ", ".join(f"{k} {v:,.2f}" for k, v in result["measured"].items())
        for target in result["targets"]:
            verdict = "met" if target["met"] else "**missed**"
            lines.append(
                f"| {result['name']} | {result['measures']} | {target['target']} | {measured} | {verdict} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    machine = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "python": platform.python_version(),
        "airflow": version("apache-airflow"),
    }
    results = run_all()
    (HERE / "results.json").write_text(json.dumps({"machine": machine, "results": results}, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(render(results, machine))
    print(render(results, machine))
    missed = [r["name"] for r in results if not all(t["met"] for t in r["targets"])]
    if missed and "--no-fail" not in sys.argv:
        print(f"targets missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
