"""The benchmarks keep working: one quick run (small sizes) produces every figure and the behavioural facts.

Nothing here checks a time or a rate; ``make bench`` records those in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = [
    "dag_parse",
    "round_trips",
    "bulk_write",
    "streaming",
    "deferrable",
    "headroom",
    "bulk_load",
    "extract",
    "reconcile",
    "bulk_lanes",
    "parallel_extract",
    "ram_limit",
    "files",
]


def test_a_quick_run_produces_every_figure_and_the_behavioural_facts(tmp_path: Path) -> None:
    recorded = (REPO / "benchmarks" / "RESULTS.md").read_text()
    command = [sys.executable, "-m", "benchmarks", "--quick", "--output-dir", str(tmp_path)]
    done = subprocess.run(command, check=False, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = {item["key"]: item for item in json.loads((tmp_path / "results.json").read_text())["results"]}
    assert list(results) == BENCHMARKS
    for key, result in results.items():
        assert (
            result["rows"] and result["figures"] and result["command"] == f"python -m benchmarks --only {key}"
        )
    behaviour = [target for result in results.values() for target in result["targets"] if target["behaviour"]]
    assert behaviour and all(target["met"] for target in behaviour), behaviour

    tasks = results["round_trips"]["figures"].values()
    assert all(task["logins"] == 1 and task["data_requests"] == task["bound"] for task in tasks)
    waits = results["deferrable"]["figures"]
    assert waits["threads_added"] <= 0 and waits["logins_for_all_triggers"] == 1
    assert waits["events_success"] == waits["triggers"] and waits["logouts_after_the_last_trigger"] == 1
    assert results["dag_parse"]["figures"]["heavy_imported_by_provider"] == []
    assert results["parallel_extract"]["figures"]["parallelism_4"]["peak_concurrency"] >= 2
    assert set(results["headroom"]["figures"]) == {
        "GET one record (a trigger's poll)",
        "$batch of 100 creates (bulk write)",
        "GET a page of 1,000 records (query streaming)",
        "server model",
    }

    written = (tmp_path / "RESULTS.md").read_text()
    assert all(f"`python -m benchmarks --only {key}`" in written for key in BENCHMARKS)
    assert (REPO / "benchmarks" / "RESULTS.md").read_text() == recorded  # the recorded results are left alone
