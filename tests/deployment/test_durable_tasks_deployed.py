"""Airflow 3.3's durable-task features in a real deployment: a user who kills a deferred process run cancels its
process (unless the operator says not to), ``execution_timeout`` ends deferred waits (a process run cancels its
process first, a sensor cancels nothing), and a templated connection id is rendered per run."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Deployment

from airflow_provider_creatio.testing.emulator.process_engine import ProcessEngine
from airflow_provider_creatio.testing.emulator.process_instance import ProcessInstance
from airflow_provider_creatio.testing.emulator.process_log import ProcessStatus
from airflow_provider_creatio.testing.emulator.process_routes import engine_for

APPROVAL = "UsrApprovalProcess"
TASK = "run_and_wait"


def engine(deployment: Deployment) -> ProcessEngine:
    return engine_for(deployment.creatio.state)


def deferred_run(
    deployment: Deployment, dag_id: str, conf: dict[str, Any] | None = None
) -> tuple[str, ProcessInstance]:
    """Trigger ``dag_id`` and wait until its process run is deferred and in the triggerer; the run id and the
    process it started."""
    airflow = deployment.airflow
    airflow.wait_for_dag(dag_id)
    before = {instance.id for instance in engine(deployment).instances(APPROVAL)}
    run_id = airflow.trigger(dag_id, conf)
    airflow.wait_for(
        f"{dag_id}'s process run to wait in the triggerer",
        lambda: (
            TASK in airflow.deferred_tasks(dag_id, run_id)
            and TASK in airflow.workloads_reported(dag_id, run_id)
        ),
    )
    [instance] = [
        i for i in engine(deployment).instances(APPROVAL) if i.id not in before and run_id in str(i.inputs)
    ]
    return run_id, instance


def mark_failed(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> None:
    deployment.airflow.api(
        "PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}", {"new_state": "failed"}
    )


def log_status(deployment: Deployment, instance: ProcessInstance) -> str:
    [row] = [row for row in deployment.creatio.store.rows("SysProcessLog") if row["Id"] == instance.id]
    return str(row["StatusId"])


def test_a_deferred_process_run_killed_by_a_user_cancels_its_process(deployment: Deployment) -> None:
    dag_id = "deployment_deferred_kill"
    run_id, instance = deferred_run(deployment, dag_id)
    mark_failed(deployment, dag_id, run_id, TASK)
    assert deployment.airflow.wait_for_run(dag_id, run_id) == "failed"
    assert instance.wait(timeout=60), "the process was never cancelled"
    assert instance.status is ProcessStatus.CANCELED
    assert log_status(deployment, instance) == ProcessStatus.CANCELED.status_id
    deployment.assert_no_secret_leaked()


def test_with_cancel_on_kill_off_a_killed_deferred_run_leaves_its_process_running(
    deployment: Deployment,
) -> None:
    dag_id = "deployment_deferred_kill_keeps_running"
    run_id, instance = deferred_run(deployment, dag_id)
    mark_failed(deployment, dag_id, run_id, TASK)
    assert deployment.airflow.wait_for_run(dag_id, run_id) == "failed"
    # Longer than the kill of the test above took to reach Creatio: nothing comes.
    assert not instance.wait(timeout=15)
    assert instance.status is ProcessStatus.RUNNING
    engine(deployment).cancel(instance.id)


def test_execution_timeout_ends_deferred_waits_and_cancels_only_the_run_it_started(
    deployment: Deployment,
) -> None:
    dag_id = "deployment_execution_timeout"
    airflow = deployment.airflow
    watched = engine(deployment).start(APPROVAL, {"RequestName": "watched by the sensor"})
    run_id, started = deferred_run(deployment, dag_id, {"process_id": watched.id})
    assert airflow.wait_for_run(dag_id, run_id, limit=180) == "failed"
    assert airflow.task_states(dag_id, run_id) == {TASK: "failed", "process_sensor": "failed"}
    # The run's own process was cancelled; the sensor's was only watched.
    assert started.wait(timeout=30) and started.status is ProcessStatus.CANCELED
    assert watched.status is ProcessStatus.RUNNING
    report = airflow.failure_report(dag_id, run_id, tail=20_000)
    for task in (TASK, "process_sensor"):
        assert "AirflowTaskTimeout" in report[task], report[task]
    assert f"process {started.id} was cancelled" in report[TASK]
    # The run names its process even though it failed: the XCom was pushed when the process started.
    xcom = airflow.api(
        "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{TASK}/xcomEntries/process_id"
    )
    assert started.id in str(xcom["value"])
    engine(deployment).cancel(watched.id)


@pytest.mark.parametrize("conn", ["creatio_default", "creatio_second_site"])
def test_a_templated_connection_id_is_rendered_per_run(deployment: Deployment, conn: str) -> None:
    dag_id = "deployment_templated_connection"
    airflow = deployment.airflow
    airflow.wait_for_dag(dag_id)
    run_id = airflow.trigger(dag_id, {"conn": conn})
    assert airflow.wait_for_run(dag_id, run_id) == "success", airflow.failure_report(dag_id, run_id)
    name = f"Created through {conn}"
    sites = {"creatio_default": deployment.creatio, "creatio_second_site": deployment.second_site}
    for site_conn, site in sites.items():
        created = [row for row in site.store.rows("Account") if row.get("Name") == name]
        assert len(created) == (1 if site_conn == conn else 0), site_conn
