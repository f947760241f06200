"""Start a long Creatio process without waiting, then follow it with the process sensor.

The start task returns at once with the process instance id (``RunProcess``); the sensor then waits until the
instance is Completed (and fails at once on Error or Canceled, with Creatio's error description). The sensor is
deferrable: it looks once, and while the process is still running it hands the wait to the triggerer, which
looks every 2 s, so that no worker slot is held while Creatio works.

``UsrLongProcess`` runs for the ``duration_seconds`` param (default 60 s). That is longer than it takes to start
the sensor on a worker after the start task, even on a busy machine, so in a deployment (scheduler, workers,
triggerer) the sensor's first look finds the process running and the wait happens in the triggerer. A process
that has already ended at the first look completes the sensor without deferring. ``airflow dags test`` and
``dag.test()`` run the trigger inline, in the same process; pass ``{"duration_seconds": 2}`` as the run's conf
there to keep the run short.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.sensors.process import CreatioProcessSensor

# Longer than starting the sensor on a busy worker after the start task, so that a deployed run defers; the
# triggerer then looks often enough that the run ends a few seconds after the process.
PROCESS_SECONDS = 60
LOOK_EVERY_SECONDS = 2


@dag(
    dag_id="example_creatio_long_process",
    schedule="0 2 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "process"],
    doc_md=__doc__,
    params={
        "duration_seconds": Param(
            PROCESS_SECONDS, type="number", minimum=0, description="Seconds UsrLongProcess runs."
        )
    },
)
def example_creatio_long_process() -> None:
    start = CreatioRunProcessOperator(
        task_id="start_long_process",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": "{{ params.duration_seconds }}"},
        method="run",  # RunProcess returns the instance id, which the sensor follows
    )
    wait = CreatioProcessSensor(
        task_id="wait_for_process",
        process_id="{{ ti.xcom_pull(task_ids='start_long_process', key='process_id') }}",
        deferrable=True,
        poke_interval=LOOK_EVERY_SECONDS,
        timeout=600,
    )

    @task
    def summarize(entry: dict[str, Any]) -> str:
        return f"{entry['name']} {entry['state']} at {entry['complete_date']}"

    start >> wait
    summarize(wait.output)


example_creatio_long_process()
