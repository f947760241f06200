"""CreatioRecordChangeTrigger(include_deletes="reconcile") in a real deployment: a watcher whose Id scans find
deleted cases starts a DAG run whose asset event carries their Ids (dag_files/deployment_record_deletes.py: polls
every 5 s, scans every 10 s). It runs in the ``scheduling`` deployment (conftest.py)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from conftest import Site

from airflow_provider_creatio.client.keyset import parse_date_time
from airflow_provider_creatio.testing.deployment import DeploymentError
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

DAG_ID = "deployment_record_deletes"
ASSET = "deployment_watched_case_deletes"
SUBJECT = "deployment deletes"
TRIGGER = CreatioRecordChangeTrigger(entity="Case", filter={"Subject": SUBJECT})  # the watched arguments
LIMIT = 300.0


def run_ids(site: Site) -> set[str]:
    runs = site.airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?limit=100")
    return {run["dag_run_id"] for run in runs["dag_runs"]}


def payloads(site: Site, runs: set[str]) -> list[dict[str, Any]]:
    found = []
    for run_id in sorted(runs):
        assert site.airflow.wait_for_run(DAG_ID, run_id, LIMIT) == "success"
        path = f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/payloads/xcomEntries/return_value"
        value = site.airflow.api("GET", path)["value"]
        found.extend(json.loads(value) if isinstance(value, str) else value)
    return found


def scanned_at(site: Site) -> dt.datetime | None:
    """When the scan the watch keeps began, from the watched asset's state store (None before the first)."""
    assets = site.airflow.api("GET", f"/api/v2/assets?name_pattern={ASSET}")["assets"]
    [asset_id] = [asset["id"] for asset in assets if asset["name"] == ASSET]
    try:
        state = site.airflow.api("GET", f"/api/v2/assets/{asset_id}/state-store/{TRIGGER.mark_variable()}")
    except DeploymentError:  # 404: not written yet
        return None
    deletes = state["value"].get("deletes")
    return None if deletes is None else parse_date_time(deletes["scanned_at"])


def test_a_dag_started_by_the_watcher_receives_the_deleted_ids(scheduling: Site) -> None:
    site, airflow, store = scheduling, scheduling.airflow, scheduling.creatio.store
    airflow.wait_for_dag(DAG_ID)
    airflow.wait_for("the first scan to be kept", lambda: scanned_at(site) is not None, LIMIT)
    before = run_ids(site)
    with store.lock:
        cases = [store.insert("Case", {"Subject": SUBJECT})["Id"] for _ in range(3)]
        created_at = max(parse_date_time(store.get("Case", case_id)["ModifiedOn"]) for case_id in cases)
    # A later scan sees the cases, finds no deletion and is kept: the snapshot the next one compares with has them.
    airflow.wait_for("a scan after the creates", lambda: (scanned_at(site) or created_at) > created_at, LIMIT)
    after_creates = run_ids(site)
    for case_id in cases[:2]:
        store.delete("Case", case_id)

    def deleted() -> list[str]:
        return [
            i for payload in payloads(site, run_ids(site) - after_creates) for i in payload["deleted_ids"]
        ]

    airflow.wait_for("the deletions to be delivered", lambda: len(deleted()) >= 2, LIMIT)
    assert sorted(deleted()) == sorted(cases[:2])  # the remaining case is not reported
    # The creates came as changes first; the run their event starts may be created after ``after_creates`` was read.
    airflow.wait_for(
        "the creates to be delivered",
        lambda: (
            set(cases) <= {i for payload in payloads(site, run_ids(site) - before) for i in payload["ids"]}
        ),
        LIMIT,
    )
    events = [p for p in payloads(site, run_ids(site) - after_creates) if p["deleted_count"]]
    assert all(event["deleted_uri"].startswith("file://") for event in events)
