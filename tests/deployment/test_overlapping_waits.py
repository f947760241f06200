"""Deferred waits in a real triggerer: many waits of every kind on one connection overlap in one triggerer's event
loop (where a call into Airflow, even mask_secret, lets other triggers run), the triggerer is killed and
replaced while waits are deferred, and a task killed while it waits in a worker cancels its process in Creatio.

The waits end only when the test lets them: it approves the ``UsrApprovalProcess`` instances (``ExecProcElByUId``
in Creatio's terms) and resolves the cases once every wait is deferred.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import Deployment

from airflow_provider_creatio.testing.emulator.process_engine import ProcessEngine
from airflow_provider_creatio.testing.emulator.process_log import ProcessStatus
from airflow_provider_creatio.testing.emulator.process_routes import engine_for
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS

APPROVAL = "UsrApprovalProcess"
LOGIN_PATH = "AuthService.svc/Login"


def engine(deployment: Deployment) -> ProcessEngine:
    return engine_for(deployment.creatio.state)


def start_waits(deployment: Deployment, count: int) -> dict[str, list[str]]:
    """The run's conf: ``count`` approval processes started (and left waiting) and ``count`` open cases."""
    store = deployment.creatio.store
    processes = [engine(deployment).start(APPROVAL, {"RequestName": f"sensor {n}"}) for n in range(count)]
    cases = [store.insert("Case", {"Subject": f"Deployment case {n}"})["Id"] for n in range(count)]
    return {"process_ids": [process.id for process in processes], "case_ids": cases}


def release(deployment: Deployment, conf: dict[str, list[str]]) -> None:
    """Approve every waiting approval process and resolve the cases: the waits may end now."""
    for instance in engine(deployment).instances(APPROVAL):
        for uid in instance.waiting_elements:
            engine(deployment).execute_element(uid)
    for case_id in conf["case_ids"]:
        deployment.creatio.store.update("Case", case_id, {"StatusId": CASE_STATUS_IDS["Resolved"]})


def all_deferred(states: dict[str, str | None]) -> bool:
    return all(state == "deferred" for state in states.values())


def trigger_logins(deployment: Deployment, since: int) -> int:
    """Logins the triggerer made (the async client sends with httpx; workers use requests) after request ``since``."""
    return sum(
        1
        for entry in deployment.creatio.requests[since:]
        if entry.agent == "python-httpx" and entry.path.endswith(LOGIN_PATH) and entry.status == 200
    )


def run_waits(
    deployment: Deployment,
    dag_id: str,
    count: int,
    while_deferred: Callable[[str], Any] = lambda run_id: None,
) -> tuple[str, str, dict[str, str | None]]:
    """Trigger ``dag_id`` with ``count`` waits of each kind, wait until every wait runs in the triggerer, call
    ``while_deferred(run_id)``, let the waits end; the run id, its state and its task states."""
    airflow = deployment.airflow
    airflow.wait_for_dag(dag_id)
    conf = start_waits(deployment, count)
    run_id = airflow.trigger(dag_id, conf)
    waits = 3 * count
    airflow.wait_for_states(dag_id, run_id, all_deferred, f"every wait of {dag_id} to defer", limit=420)
    # Deferred in the database is not yet running in the triggerer, which picks new triggers up every second;
    # and the scheduler must have seen each deferral's workload end (see AirflowDeployment.workloads_reported).
    airflow.wait_for(
        f"the triggerer to run every wait of {dag_id}",
        lambda: (
            len(airflow.deferred_tasks(dag_id, run_id)) == waits
            and len(airflow.workloads_reported(dag_id, run_id)) == waits
        ),
    )
    while_deferred(run_id)
    release(deployment, conf)
    state = airflow.wait_for_run(dag_id, run_id, limit=300)
    deployment.assert_no_secret_leaked()
    return run_id, state, airflow.task_states(dag_id, run_id)


def test_twenty_one_overlapping_waits_on_one_connection_share_one_triggerer_login(
    deployment: Deployment,
) -> None:
    dag_id = "deployment_overlap"
    since = len(deployment.creatio.requests)
    started = engine(deployment).start_count(APPROVAL)
    run_id, state, tasks = run_waits(deployment, dag_id, count=7)
    assert state == "success", tasks
    assert deployment.airflow.deferred_tasks(dag_id, run_id) == set(tasks) and len(tasks) == 21
    # One login for all 21, or none: the example DAGs' change watcher (example_creatio_case_escalation) polls from
    # the same triggerer all session long and may hold its one shared client logged in already.
    assert trigger_logins(deployment, since) <= 1
    # 7 started by the test for the sensors, 7 by the run-and-wait tasks: none twice.
    assert engine(deployment).start_count(APPROVAL) - started == 14
    # Each case sensor reports every look at its case: the worker's before it deferred and the trigger's.
    conf = deployment.airflow.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["conf"]
    logs = deployment.airflow.task_logs(dag_id, run_id)
    for n, case_id in enumerate(conf["case_ids"]):
        looks = deployment.creatio.count("GET", f"Case({case_id})")
        assert reported_api_calls(logs[f"case_sensor_{n}"]) == looks > 1


def reported_api_calls(paths: list[Path]) -> int:
    """The calls a task's last report says it spent (its resumed attempt's ``Creatio API calls spent: N``)."""
    [*_, spent] = re.findall(r"Creatio API calls spent: (\d+)", "".join(p.read_text() for p in sorted(paths)))
    return int(spent)


def test_waits_survive_a_triggerer_killed_and_replaced(deployment: Deployment) -> None:
    dag_id = "deployment_triggerer_restart"
    airflow = deployment.airflow
    started = engine(deployment).start_count(APPROVAL)

    def kill_and_replace_triggerer(run_id: str) -> None:
        airflow.kill("triggerer")  # SIGKILL: no clean shutdown, its triggers are orphaned
        airflow.start_component("triggerer")
        # Each wait is taken over: a second triggerer logs its start beside the first one's log.
        airflow.wait_for(
            "the new triggerer to take every wait over",
            lambda: all(len(logs) == 2 for logs in airflow.trigger_logs(dag_id, run_id).values()),
        )

    _, state, tasks = run_waits(deployment, dag_id, count=2, while_deferred=kill_and_replace_triggerer)
    assert state == "success", tasks
    assert len(tasks) == 6
    assert (
        engine(deployment).start_count(APPROVAL) - started == 4
    )  # 2 by the test, 2 by the tasks: none twice


def test_a_task_killed_while_it_waits_cancels_its_process(deployment: Deployment) -> None:
    dag_id = "deployment_kill_waiting_task"
    task_id = "run_and_wait_in_worker"
    airflow = deployment.airflow
    airflow.wait_for_dag(dag_id)
    before = {instance.id for instance in engine(deployment).instances(APPROVAL)}
    run_id = airflow.trigger(dag_id)

    def started() -> list[Any]:
        return [i for i in engine(deployment).instances(APPROVAL) if i.id not in before]

    airflow.wait_for_states(
        dag_id,
        run_id,
        lambda states: states[task_id] == "running" and bool(started()),
        "the process to start",
    )
    [instance] = started()
    airflow.api(
        "PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}", {"new_state": "failed"}
    )
    assert airflow.wait_for_run(dag_id, run_id) == "failed"
    assert instance.wait(timeout=60), "the process never ended"
    assert instance.status is ProcessStatus.CANCELED
    deployment.assert_no_secret_leaked()
    [row] = [row for row in deployment.creatio.store.rows("SysProcessLog") if row["Id"] == instance.id]
    assert row["StatusId"] == ProcessStatus.CANCELED.status_id
