"""Every example DAG in a real deployment, triggered through the REST API without a logical date (Airflow 3's
default for the UI, the CLI and the API): every run succeeds, the sensors that wait really wait in the triggerer,
and no secret reaches a file of the Airflow home (logs, component output, metadata database)."""

from __future__ import annotations

from conftest import Deployment

# The examples' tasks whose wait outlasts a worker's start-up, so that they defer to the triggerer.
DEFERRING = {
    "example_creatio_case_lifecycle": {"wait_until_resolved"},
    "example_creatio_long_process": {"wait_for_process"},
}


def test_every_example_dag_runs_in_a_real_deployment(deployment: Deployment) -> None:
    airflow = deployment.airflow
    examples = [dag_id for dag_id in airflow.dag_ids() if not dag_id.startswith("deployment_")]
    assert len(examples) >= 9, examples  # six example DAGs, and three the schedules file makes from YAML
    airflow.wait_for_dags(examples)

    runs = {
        dag_id: airflow.trigger(dag_id) for dag_id in examples
    }  # all at once, as a busy scheduler has them
    states = {dag_id: airflow.wait_for_run(dag_id, run_id) for dag_id, run_id in runs.items()}
    failed = {
        dag_id: (airflow.task_states(dag_id, run_id), airflow.failure_report(dag_id, run_id))
        for dag_id, run_id in runs.items()
        if states[dag_id] != "success"
    }
    assert not failed, f"example DAG runs failed (task states, failed tasks' logs): {failed}"

    for dag_id, tasks in DEFERRING.items():
        assert tasks <= airflow.deferred_tasks(dag_id, runs[dag_id]), f"{dag_id}: {tasks} did not defer"

    deployment.assert_no_secret_leaked()
