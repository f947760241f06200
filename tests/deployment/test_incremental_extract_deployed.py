"""Two incremental extracts in a real deployment, run one after the other without a data interval (each starts
from the high-water mark the last one left, kept in an Airflow Variable): contacts are edited while the first run
reads and created and edited between the runs, and every record version lands in exactly one of the two runs'
files, none lost, none twice."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import Deployment

DAG_ID = "deployment_incremental_extract"
SEEDED = 300  # 15 pages of 20 more, each answered after 0.1 s: the first run reads for seconds


def run_files(deployment: Deployment, run_id: str) -> list[tuple[str, str]]:
    """(Id, ModifiedOn) of every record in the files the run's XCom names."""
    summary = deployment.airflow.api(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/extract/xcomEntries/return_value"
    )["value"]
    summary = json.loads(summary) if isinstance(summary, str) else summary
    found = []
    for uri in summary["uris"]:
        for line in Path(uri.removeprefix("file://")).read_text().splitlines():
            record = json.loads(line)
            found.append((record["Id"], record["ModifiedOn"]))
    return found


def contact_reads(deployment: Deployment, since: int) -> int:
    return sum(1 for entry in deployment.creatio.requests[since:] if entry.path.endswith("/Contact"))


def extract(deployment: Deployment, while_reading: Any = None) -> str:
    """Trigger one run; ``while_reading()`` runs once the run has read three pages. The run's id."""
    airflow = deployment.airflow
    since = len(deployment.creatio.requests)
    run_id = airflow.trigger(DAG_ID)
    if while_reading is not None:
        airflow.wait_for("the extract to read its first pages", lambda: contact_reads(deployment, since) >= 3)
        while_reading()
        assert airflow.run_state(DAG_ID, run_id) == "running", "the run ended before the changes"
    assert airflow.wait_for_run(DAG_ID, run_id) == "success"
    return run_id


def test_two_incremental_windows_hold_every_record_version_exactly_once(deployment: Deployment) -> None:
    store, creatio = deployment.creatio.store, deployment.creatio
    deployment.airflow.wait_for_dag(DAG_ID)
    seeded = [store.insert("Contact", {"Name": f"Extract seed {n}"})["Id"] for n in range(SEEDED)]
    time.sleep(6)  # past the clock margin (5 s): the first run's window holds the seeded records
    creatio.settings.patch({"faults": {"latency": 0.1, "path_regex": r"/Contact$"}})
    try:
        first = extract(
            deployment,
            # records the run has read already, and records it has not read yet
            while_reading=lambda: [
                store.update("Contact", record_id, {"Name": "Edited during run 1"})
                for record_id in seeded[::25]
            ],
        )
    finally:
        creatio.settings.patch({"faults": {}})
    for record_id in seeded[1::50]:
        store.update("Contact", record_id, {"Name": "Edited between the runs"})
    created = [store.insert("Contact", {"Name": f"Created between the runs {n}"})["Id"] for n in range(3)]
    time.sleep(6)  # past the clock margin (5 s): the second run's window covers every change above
    second = extract(deployment)

    landed = run_files(deployment, first) + run_files(deployment, second)
    assert not [v for v, n in Counter(landed).items() if n > 1], "a record version landed twice"
    current = {(row["Id"], row["ModifiedOn"]) for row in store.rows("Contact")}
    assert current <= set(landed), f"versions lost: {sorted(current - set(landed))[:5]}"
    second_ids = {record_id for record_id, _ in run_files(deployment, second)}
    assert set(seeded[::25]) | set(seeded[1::50]) | set(created) <= second_ids
