"""DAGs of the deployment tier for Airflow 3.3's durable-task features: a deferred process run that a user kills
(with and without ``cancel_on_kill``), deferred waits whose ``execution_timeout`` passes, and a connection id
rendered per run.

``dag_run.conf`` carries ``process_id`` (a running process for the sensor to watch) and ``conn`` (the connection
id the templated task uses).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_creatio.operators.entity import CreatioCreateEntityOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.sensors.process import CreatioProcessSensor

POLL = 2  # seconds between two looks of a trigger
APPROVAL = "UsrApprovalProcess"  # waits until the test approves it: runs as long as a test needs
START = datetime(2024, 1, 1)


def run_and_wait(**kwargs: Any) -> CreatioRunProcessOperator:
    """A deferred run of the approval process, named by the DAG run (the test finds its instance so)."""
    return CreatioRunProcessOperator(
        task_id="run_and_wait",
        process_name=APPROVAL,
        parameters={"RequestName": "{{ run_id }}"},
        method="run",
        wait_for_completion=True,
        deferrable=True,
        poll_interval=POLL,
        **kwargs,
    )


def killed_dag(dag_id: str, *, cancel_on_kill: bool) -> DAG:
    with DAG(dag_id, schedule=None, start_date=START, catchup=False, tags=["deployment"]) as dag:
        run_and_wait(cancel_on_kill=cancel_on_kill)
    return dag


kill_cancels = killed_dag("deployment_deferred_kill", cancel_on_kill=True)
kill_keeps = killed_dag("deployment_deferred_kill_keeps_running", cancel_on_kill=False)

with DAG(
    "deployment_execution_timeout", schedule=None, start_date=START, catchup=False, tags=["deployment"]
) as execution_timeout:
    run_and_wait(execution_timeout=timedelta(seconds=20))
    CreatioProcessSensor(
        task_id="process_sensor",
        process_id="{{ dag_run.conf['process_id'] }}",
        deferrable=True,
        poke_interval=POLL,
        timeout=900,
        execution_timeout=timedelta(seconds=20),
    )

with DAG(
    "deployment_templated_connection", schedule=None, start_date=START, catchup=False, tags=["deployment"]
) as templated_connection:
    CreatioCreateEntityOperator(
        task_id="create",
        entity="Account",
        data={"Name": "Created through {{ dag_run.conf['conn'] }}"},
        creatio_conn_id="{{ dag_run.conf['conn'] }}",
    )
