"""The machine's description, the printed tables, RESULTS.md and results.json."""

from __future__ import annotations

import datetime as dt
import os
import platform
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks.harness import Result, Row, Scale


def machine() -> dict[str, str]:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "memory": _memory(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "airflow": version("apache-airflow"),
        "load average at start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
    }


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory() -> str:
    import psutil

    return f"{psutil.virtual_memory().total / 2**30:.0f} GiB"


def _table(columns: Row, rows: list[Row]) -> list[str]:
    return [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def section(result: Result) -> list[str]:
    lines = [
        f"## {result.title}",
        "",
        f"Measures: {result.measures}.",
        "",
        f"Reproduce: `{result.command}`",
        "",
        *_table(result.columns, result.rows),
        "",
        *(f"- {_verdict(target.met)}: {target.text}" for target in result.targets),
    ]
    for note in result.notes:
        lines += ["", note]
    return [*lines, ""]


def markdown(results: list[Result], described: dict[str, str], scale: Scale) -> str:
    summary = [
        "| benchmark | target | verdict |",
        "|---|---|---|",
        *(
            f"| {result.title} | {target.text} | {_verdict(target.met)} |"
            for result in results
            for target in result.targets
        ),
    ]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`); `benchmarks/README.md` says what each benchmark "
        "measures and why. Each section names the command that reproduces its figures alone.",
        "",
        " · ".join(f"{key}: {value}" for key, value in described.items()),
        "",
        f"Timings are medians of {scale.runs} runs (import cost: {scale.parse_runs} fresh interpreters). The "
        "emulator runs in a process of its own; round trips are counted by its request log.",
        "",
        *summary,
        "",
    ]
    for result in results:
        lines += section(result)
    return "\n".join(lines)


def document(results: list[Result], described: dict[str, str], scale: Scale) -> dict[str, Any]:
    return {
        "machine": described,
        "scale": asdict(scale),
        "results": [{**asdict(result), "command": result.command} for result in results],
    }


def console(result: Result) -> str:
    """One benchmark as aligned text, printed as soon as it has run."""
    rows = [result.columns, *result.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"{result.title} ({result.command})"]
    lines += [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows
    ]
    lines += [f"  {_verdict(t.met).strip('*')}: {t.text}" for t in result.targets]
    return "\n".join(lines) + "\n"
