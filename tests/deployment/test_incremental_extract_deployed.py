"""Incremental extracts in a real deployment, run one after the other without a data interval (each starts from the
high-water mark the last one left, kept in an Airflow Variable): contacts are edited and deleted while the first
run reads and created, edited and deleted between the runs. Every record version lands in exactly one of the two
runs' files, none lost, none twice; the second run's tombstones hold exactly the Ids deleted since the first run
wrote them, and a third run with no change writes none."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from conftest import Deployment

DAG_ID = "deployment_incremental_extract"
SEEDED = 300  # 15 pages of 20 more, each answered after 0.1 s: the first run reads for seconds


def summary(deployment: Deployment, run_id: str) -> dict[str, Any]:
    value = deployment.airflow.api(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/extract/xcomEntries/return_value"
    )["value"]
    return json.loads(value) if isinstance(value, str) else value


def lines(uris: list[str]) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for uri in uris
        for line in Path(uri.removeprefix("file://")).read_text().splitlines()
    ]


def run_files(deployment: Deployment, run_id: str) -> list[tuple[str, str]]:
    """(Id, ModifiedOn) of every record in the files the run's XCom names."""
    return [(record["Id"], record["ModifiedOn"]) for record in lines(summary(deployment, run_id)["uris"])]


def tombstone_ids(deployment: Deployment, run_id: str) -> list[str]:
    return sorted(record["Id"] for record in lines(summary(deployment, run_id)["deleted_uris"]))


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
            while_reading=lambda: (
                [
                    store.update("Contact", record_id, {"Name": "Edited during run 1"})
                    for record_id in seeded[::25]
                ]
                + [store.delete("Contact", record_id) for record_id in seeded[7::40]]
            ),
        )
    finally:
        creatio.settings.patch({"faults": {}})
    for record_id in seeded[1::50]:
        store.update("Contact", record_id, {"Name": "Edited between the runs"})
    deleted_between = seeded[13::60]
    for record_id in deleted_between:
        store.delete("Contact", record_id)
    created = [store.insert("Contact", {"Name": f"Created between the runs {n}"})["Id"] for n in range(3)]
    time.sleep(6)  # past the clock margin (5 s): the second run's window covers every change above
    second = extract(deployment)

    landed = run_files(deployment, first) + run_files(deployment, second)
    assert not [v for v, n in Counter(landed).items() if n > 1], "a record version landed twice"
    current = {(row["Id"], row["ModifiedOn"]) for row in store.rows("Contact")}
    assert current <= set(landed), f"versions lost: {sorted(current - set(landed))[:5]}"
    second_ids = {record_id for record_id, _ in run_files(deployment, second)}
    assert set(seeded[::25]) | set(seeded[1::50]) | set(created) <= second_ids

    # Deleted while run 1 read: reported by run 2 if run 1 wrote it (it is in the warehouse), else never.
    written_first = {record_id for record_id, _ in run_files(deployment, first)}
    deleted_during = [record_id for record_id in seeded[7::40] if record_id in written_first]
    assert summary(deployment, first)["deleted"] == 0  # the first run has nothing to compare with
    assert tombstone_ids(deployment, second) == sorted(i.lower() for i in deleted_during + deleted_between)
    third = extract(deployment)
    assert summary(deployment, third)["deleted"] == 0 and summary(deployment, third)["deleted_uris"] == []
