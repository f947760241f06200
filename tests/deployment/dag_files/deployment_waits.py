"""DAGs of the deployment tier: deferred waits of every kind that overlap in the triggerer, and a worker-side wait
whose task gets killed.

The waits end only when the test lets them (it approves the ``UsrApprovalProcess`` instances and resolves the
cases), so they all overlap in the triggerer however slowly the workers start. ``dag_run.conf`` carries the
process instances the test started (``process_ids``) and the cases it opened (``case_ids``).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor
from airflow_provider_creatio.sensors.process import CreatioProcessSensor

RESOLVED = "ae7f411e-f46b-1410-009b-0050ba5d6c38"
POLL = 2  # seconds between two looks of a trigger
APPROVAL = "UsrApprovalProcess"


def waits_dag(dag_id: str, per_kind: int) -> DAG:
    """``per_kind`` process sensors, deferred run-and-wait operators and case sensors, all deferrable."""
    with DAG(
        dag_id, schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["deployment"]
    ) as dag:
        for n in range(per_kind):
            CreatioProcessSensor(
                task_id=f"process_sensor_{n}",
                process_id=f"{{{{ dag_run.conf['process_ids'][{n}] }}}}",
                deferrable=True,
                poke_interval=POLL,
                timeout=900,
            )
            CreatioRunProcessOperator(
                task_id=f"run_and_wait_{n}",
                process_name=APPROVAL,
                parameters={"RequestName": f"{dag_id} {n} {{{{ run_id }}}}"},
                method="run",
                wait_for_completion=True,
                deferrable=True,
                poll_interval=POLL,
            )
            CreatioEntitySensor(
                task_id=f"case_sensor_{n}",
                entity="Case",
                record_id=f"{{{{ dag_run.conf['case_ids'][{n}] }}}}",
                success_values={"Status/Id": RESOLVED},
                deferrable=True,
                poke_interval=POLL,
                timeout=900,
            )
    return dag


overlap = waits_dag("deployment_overlap", per_kind=7)  # 21 deferred waits
restart = waits_dag("deployment_triggerer_restart", per_kind=2)  # 6 deferred waits

with DAG(
    "deployment_kill_waiting_task", schedule=None, start_date=datetime(2024, 1, 1), catchup=False
) as kill:
    # Waits in the worker (not deferred): killing the task must cancel the process in Creatio.
    CreatioRunProcessOperator(
        task_id="run_and_wait_in_worker",
        process_name=APPROVAL,
        parameters={"RequestName": "killed while waiting {{ run_id }}"},
        method="run",
        wait_for_completion=True,
        deferrable=False,
        poll_interval=POLL,
    )
