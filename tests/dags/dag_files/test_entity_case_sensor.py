"""Case sensor DAG, run with dag.test by tests/dags/test_entity_dags.py: one sensor in poke mode, one deferrable.

``support_agent`` stands for the person who works on the cases. dag.test runs one task at a time, so the agent
task only hands the work to a background thread (as a person would carry on outside Airflow) and returns; the
thread resolves each case once the emulator has answered that case's sensor at least once. Each sensor therefore
sees the case open, keeps waiting (poking, or deferred to its trigger) and completes when the agent resolves it.
The thread works outside Airflow with a plain client: the task looks the connection up, and nothing in the thread
talks to the task's supervisor (Airflow 3.0's in-process dag.test supervisor is not safe to call from two threads).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from datetime import datetime

from airflow.sdk import dag, task

from airflow_provider_creatio.client import CreatioClient, CreatioConfig, odata
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioCreateEntityOperator
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor

RESOLVED = "ae7f411e-f46b-1410-009b-0050ba5d6c38"
CLOSED = "3e7f420c-f46b-1410-fc9a-0050ba5d6c38"
CANCELED = "6e5f4218-f46b-1410-fe9a-0050ba5d6c38"
CASE = {
    "Subject": "Consultation on functionality",
    "AccountId": "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178",
    "ContactId": "00b34750-2feb-4545-b233-153502326f3c",
}


def times_read(base_url: str, case_id: str) -> int:
    """How often the emulator has answered a GET of this case (its request log, admin endpoint)."""
    with urllib.request.urlopen(f"{base_url}/__emulator__/requests", timeout=5) as answer:
        log = json.load(answer)
    return sum(1 for entry in log if entry["method"] == "GET" and entry["path"].endswith(f"Case({case_id})"))


def resolve_once_watched(config: CreatioConfig, case_id: str) -> None:
    with CreatioClient(config) as client:
        deadline = time.monotonic() + 60
        while times_read(config.base_url, case_id) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        client.execute(
            odata.update_record(
                "Case", case_id, {"StatusId": RESOLVED, "Notes": "Solved by the support agent"}
            )
        )


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["test"])
def test_entity_case_sensor() -> None:
    poke_case = CreatioCreateEntityOperator(
        task_id="open_case_poke", entity="Case", data={**CASE, "Number": "SR-P"}
    )
    deferred_case = CreatioCreateEntityOperator(
        task_id="open_case_deferred", entity="Case", data={**CASE, "Number": "SR-D"}
    )

    @task
    def support_agent(case_ids: list[str]) -> list[str]:
        config = CreatioHook().config
        for case_id in case_ids:
            threading.Thread(
                target=resolve_once_watched, args=(config, case_id), name=f"agent-{case_id}"
            ).start()
        return case_ids

    agent = support_agent([poke_case.output, deferred_case.output])
    conditions = {
        "success_values": {"Status/Id": [RESOLVED, CLOSED]},
        "failure_values": {"Status/Id": CANCELED},
        "poke_interval": 0.2,
        "timeout": 60,
    }
    agent >> CreatioEntitySensor(
        task_id="wait_poke",
        entity="Case",
        record_id=poke_case.output,
        mode="poke",
        deferrable=False,
        **conditions,
    )
    agent >> CreatioEntitySensor(
        task_id="wait_deferred", entity="Case", record_id=deferred_case.output, deferrable=True, **conditions
    )


test_entity_case_sensor()
