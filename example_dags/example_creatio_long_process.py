"""Start a long Creatio process without waiting, then follow it with the process sensor.

The start task returns at once with the process instance id (``RunProcess``); the sensor waits, deferred in the
triggerer so that no worker slot is held, until the instance is Completed (and fails at once on Error or
Canceled, with Creatio's error description).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.sensors.process import CreatioProcessSensor


@dag(
    dag_id="example_creatio_long_process",
    schedule="0 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "process"],
)
def example_creatio_long_process() -> None:
    start = CreatioRunProcessOperator(
        task_id="start_long_process",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 2},
        method="run",  # RunProcess returns the instance id, which the sensor follows
    )
    wait = CreatioProcessSensor(
        task_id="wait_for_process",
        process_id="{{ ti.xcom_pull(task_ids='start_long_process', key='process_id') }}",
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )

    @task
    def summarize(entry: dict[str, Any]) -> str:
        return f"{entry['name']} {entry['state']} at {entry['complete_date']}"

    start >> wait
    summarize(wait.output)


example_creatio_long_process()
