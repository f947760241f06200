"""The provider spread over two Celery workers and two triggerers, checked from Airflow's REST API and the
emulator's request log: writes split over both workers, waits shared by both triggerers, and a triggerer and a
worker killed with SIGKILL while they carry work. The tests run in file order on one cluster; a test that kills a
component starts a new one before it ends.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import TRIGGERERS, WORKERS, Cluster

from airflow_provider_creatio.testing.emulator.log import LoggedRequest
from airflow_provider_creatio.testing.emulator.process_routes import engine_for
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS

# Hundreds of task processes on two cores: a scenario may take minutes (each wait below has its own bound).
pytestmark = pytest.mark.timeout(1500)
LOGIN_PATH = "AuthService.svc/Login"
WORKER_CLIENT, TRIGGERER_CLIENT = "python-requests", "python-httpx"  # the sync and the async client


def logins(entries: list[LoggedRequest], agent: str) -> int:
    return sum(1 for e in entries if e.agent == agent and e.path.endswith(LOGIN_PATH) and e.status == 200)


def contacts_tagged(cluster: Cluster, tag: str) -> dict[str, dict[str, Any]]:
    return {
        row["Id"]: row for row in cluster.creatio.store.rows("Contact") if row["Name"].startswith(f"{tag} ")
    }


def expected_ids(tag: str, total: int) -> set[str]:
    return {str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}/{n}")) for n in range(total)}


def mapped(states: dict[str, str | None], task_id: str) -> dict[str, str | None]:
    return {name: state for name, state in states.items() if name.startswith(f"{task_id}[")}


def try_numbers(cluster: Cluster, dag_id: str, run_id: str) -> dict[str, int]:
    return {
        ti["task_id"] if ti["map_index"] in (-1, None) else f"{ti['task_id']}[{ti['map_index']}]": ti[
            "try_number"
        ]
        for ti in cluster.airflow.task_instances(dag_id, run_id)
    }


def worker_running(cluster: Cluster, dag_id: str, run_id: str, task: str) -> str:
    """The worker whose home holds the task's log: the one that runs it."""
    found: list[str] = []

    def started() -> bool:
        found[:] = [
            w for w, tasks in cluster.airflow.tasks_by_component(dag_id, run_id).items() if task in tasks
        ]
        return bool(found)

    cluster.airflow.wait_for(f"a worker to start {task}", started)
    assert found[0] in WORKERS
    return found[0]


def kill_and_replace(cluster: Cluster, component: str, after_kill: Callable[[], None]) -> None:
    """SIGKILL a component (and the task processes in its group), run ``after_kill``, then start a new one."""
    cluster.airflow.kill(component)
    try:
        after_kill()
    finally:
        cluster.airflow.start_component(component)


# --------------------------------------------------------------------------------------------------- writes


def test_a_bulk_upsert_mapped_over_both_workers_writes_each_record_once(cluster: Cluster) -> None:
    airflow, creatio = cluster.airflow, cluster.creatio
    dag_id, tag, total, chunks = "distributed_bulk_upsert", f"upsert-{uuid.uuid4().hex[:8]}", 10_000, 20
    airflow.wait_for_dag(dag_id)
    since = len(creatio.requests)
    run_id = airflow.trigger(dag_id, {"tag": tag, "total": total, "chunks": chunks})
    assert airflow.wait_for_run(dag_id, run_id, limit=900) == "success"

    states = mapped(airflow.task_states(dag_id, run_id), "upsert")
    assert len(states) == chunks and set(states.values()) == {"success"}
    written = contacts_tagged(cluster, tag)
    assert len(written) == total and set(written) == expected_ids(tag, total)  # every record, nothing more
    assert logins(creatio.requests[since:], WORKER_CLIENT) == chunks  # one login per task
    by_worker = {w: tasks for w, tasks in airflow.tasks_by_component(dag_id, run_id).items() if w in WORKERS}
    assert set(by_worker) == set(WORKERS), f"one worker ran every write: {by_worker}"
    assert set().union(*by_worker.values()) >= set(states)


def test_a_bulk_write_whose_worker_dies_is_retried_without_duplicates(cluster: Cluster) -> None:
    airflow, creatio = cluster.airflow, cluster.creatio
    dag_id, tag, total = "distributed_bulk_write_retried", f"retried-{uuid.uuid4().hex[:8]}", 3_000
    airflow.wait_for_dag(dag_id)
    since = len(creatio.requests)
    # A server that spends 16 ms per written record: 30 batches of 100, 4 at a time, take about 12 s.
    creatio.settings.patch({"server_write_work_per_record": 0.016, "server_workers": 8})
    creatio.state.server.clear()
    try:
        run_id = airflow.trigger(dag_id, {"tag": tag, "total": total, "chunks": 1})
        victim = worker_running(cluster, dag_id, run_id, "create[0]")
        airflow.wait_for("the write to be under way", lambda: batches(creatio.requests[since:]) >= 5)

        def retried() -> None:
            assert 0 < len(contacts_tagged(cluster, tag)) < total, "the worker died before or after the write"
            assert airflow.wait_for_run(dag_id, run_id, limit=600) == "success"

        kill_and_replace(cluster, victim, retried)
    finally:
        creatio.settings.patch({"server_write_work_per_record": 0.0})
    assert creatio.state.server.stats()["peak_session_concurrency"] > 1  # the lanes shared the session
    written = contacts_tagged(cluster, tag)
    assert len(written) == total and set(written) == expected_ids(tag, total)
    assert try_numbers(cluster, dag_id, run_id)["create[0]"] == 2
    summary = airflow.api(
        "GET",
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/create/xcomEntries/return_value?map_index=0",
    )["value"]
    actions = (json.loads(summary) if isinstance(summary, str) else summary)["actions"]
    # The retry found what the dead try had written (client-chosen Ids) and created the rest.
    assert actions.get("existed", 0) > 0 and actions.get("existed", 0) + actions.get("created", 0) == total


def test_a_file_load_whose_worker_dies_is_retried_without_a_second_attachment(
    cluster: Cluster, tmp_path: Path
) -> None:
    """120 files of 256 KB (4 chunks each) to 120 contacts; the worker is killed mid-load; the retry sends the
    same file Ids again: one attachment per contact, every byte as on disk."""
    airflow, creatio = cluster.airflow, cluster.creatio
    dag_id, total = "distributed_files_retried", 120
    airflow.wait_for_dag(dag_id)
    contacts = [creatio.store.insert("Contact", {"Name": f"files {n}"})["Id"] for n in range(total)]
    sent = {}
    for contact in contacts:
        (tmp_path / contact).mkdir()
        sent[contact] = os.urandom(256 * 1024)
        (tmp_path / contact / "scan.bin").write_bytes(sent[contact])
    since = len(creatio.requests)
    # 60 ms of server work per accepted chunk: 480 chunks, 4 at a time, take about 7 s.
    creatio.settings.patch({"server_write_work_per_record": 0.06, "server_workers": 8})
    try:
        run_id = airflow.trigger(dag_id, {"folder": f"file://{tmp_path}"})
        victim = worker_running(cluster, dag_id, run_id, "attach")
        airflow.wait_for("the upload to be under way", lambda: uploads(creatio.requests[since:]) >= 40)

        def retried() -> None:
            assert uploads(creatio.requests[since:]) < 4 * total, "the worker died after the load"
            assert airflow.wait_for_run(dag_id, run_id, limit=600) == "success"

        kill_and_replace(cluster, victim, retried)
    finally:
        creatio.settings.patch({"server_write_work_per_record": 0.0})
    assert try_numbers(cluster, dag_id, run_id)["attach"] == 2
    attached = [row for row in creatio.store.rows("ContactFile") if row["ContactId"] in sent]
    assert sorted(row["ContactId"] for row in attached) == sorted(contacts)  # one each, none twice
    assert all(
        creatio.files.read_bytes("ContactFile", row["Id"]) == sent[row["ContactId"]] for row in attached
    )


def uploads(entries: list[LoggedRequest]) -> int:
    return sum(1 for e in entries if e.method == "POST" and e.path.endswith("FileApiService/UploadFile"))


def batches(entries: list[LoggedRequest]) -> int:
    return sum(1 for e in entries if e.method == "POST" and e.path.endswith("$batch"))


# --------------------------------------------------------------------------------------------------- waits


def open_cases(cluster: Cluster, count: int, label: str) -> list[str]:
    store = cluster.creatio.store
    return [store.insert("Case", {"Subject": f"{label} {n}"})["Id"] for n in range(count)]


def resolve(cluster: Cluster, case_ids: list[str]) -> None:
    for case_id in case_ids:
        cluster.creatio.store.update("Case", case_id, {"StatusId": CASE_STATUS_IDS["Resolved"]})


def defer_waits(cluster: Cluster, dag_id: str, count: int) -> tuple[str, list[str], dict[str, set[str]]]:
    """Trigger ``count`` mapped case sensors and wait until each runs in a triggerer (and the scheduler has seen
    its workload end: AirflowDeployment.workloads_reported); the run id, the cases, triggerer -> waits."""
    airflow = cluster.airflow
    airflow.wait_for_dag(dag_id)
    cases = open_cases(cluster, count, dag_id)
    run_id = airflow.trigger(dag_id, {"case_ids": cases})

    def all_deferred(states: dict[str, str | None]) -> bool:
        waits = mapped(states, "case_resolved")
        return len(waits) == count and set(waits.values()) == {"deferred"}

    airflow.wait_for_states(dag_id, run_id, all_deferred, f"{count} waits to defer", limit=900)

    def carried() -> dict[str, set[str]]:
        return {
            t: tasks
            for t, tasks in airflow.tasks_by_component(dag_id, run_id, waits=True).items()
            if t in TRIGGERERS
        }

    airflow.wait_for(
        f"the triggerers to run {count} waits",
        lambda: (
            len(set().union(*carried().values())) == count
            and len(mapped(dict.fromkeys(airflow.workloads_reported(dag_id, run_id)), "case_resolved"))
            == count
        ),
        limit=300,
    )
    return run_id, cases, carried()


def assert_each_fired_once(cluster: Cluster, dag_id: str, run_id: str, count: int) -> None:
    assert cluster.airflow.wait_for_run(dag_id, run_id, limit=600) == "success"
    states = mapped(cluster.airflow.task_states(dag_id, run_id), "case_resolved")
    assert len(states) == count and set(states.values()) == {"success"}
    tries = {
        task: n
        for task, n in try_numbers(cluster, dag_id, run_id).items()
        if task.startswith("case_resolved[")
    }
    assert set(tries.values()) == {1}  # none failed and ran again


def test_200_waits_on_one_connection_share_one_login_per_triggerer(cluster: Cluster) -> None:
    creatio, count = cluster.creatio, 200
    since = len(creatio.requests)
    dag_id = "distributed_many_waits"
    run_id, cases, carried = defer_waits(cluster, dag_id, count)
    assert set(carried) == set(TRIGGERERS) and all(carried.values()), "the waits are not spread over both"
    assert logins(creatio.requests[since:], TRIGGERER_CLIENT) == 2  # one per triggerer

    creatio.expire_sessions()  # every session ends: each triggerer logs in again, once
    cluster.airflow.wait_for(
        "both triggerers to log in again",
        lambda: logins(creatio.requests[since:], TRIGGERER_CLIENT) >= 4,
        limit=60,
    )
    resolve(cluster, cases)
    assert_each_fired_once(cluster, dag_id, run_id, count)
    assert logins(creatio.requests[since:], TRIGGERER_CLIENT) == 4


def test_waits_of_a_killed_triggerer_are_taken_over_by_the_other(cluster: Cluster) -> None:
    count, dag_id = 30, "distributed_triggerer_killed"
    run_id, cases, carried = defer_waits(cluster, dag_id, count)
    victim = max(TRIGGERERS, key=lambda t: len(carried.get(t, ())))
    survivor = next(t for t in TRIGGERERS if t != victim)
    orphaned = carried[victim]

    def taken_over() -> None:
        cluster.airflow.wait_for(
            f"{survivor} to take over the {len(orphaned)} waits of {victim}",
            lambda: (
                orphaned
                <= cluster.airflow.tasks_by_component(dag_id, run_id, waits=True).get(survivor, set())
            ),
            limit=180,
        )
        resolve(cluster, cases)
        assert_each_fired_once(cluster, dag_id, run_id, count)

    kill_and_replace(cluster, victim, taken_over)


# --------------------------------------------------------------------------------------------------- processes


def test_a_process_followed_by_a_dead_worker_is_not_started_again(cluster: Cluster) -> None:
    airflow = cluster.airflow
    dag_id = "distributed_process_retried"
    airflow.wait_for_dag(dag_id)
    engine = engine_for(cluster.creatio.state)
    run_id = airflow.trigger(dag_id)

    def runs() -> list[Any]:
        return [
            i
            for i in engine.instances("UsrApprovalProcess")
            if i.inputs.get("RequestName") == f"retried {run_id}"
        ]

    victim = worker_running(cluster, dag_id, run_id, "approval")
    airflow.wait_for("the process to start", lambda: len(runs()) == 1)

    def retried() -> None:
        airflow.wait_for(
            "the retry to follow the process",
            lambda: (
                try_numbers(cluster, dag_id, run_id)["approval"] == 2
                and airflow.task_states(dag_id, run_id)["approval"] == "running"
            ),
            limit=180,
        )
        for uid in runs()[0].waiting_elements:
            engine.execute_element(uid)
        assert airflow.wait_for_run(dag_id, run_id, limit=300) == "success"

    kill_and_replace(cluster, victim, retried)
    assert len(runs()) == 1  # the retry followed the first run


# --------------------------------------------------------------------------------------------------- secrets


def test_no_secret_in_any_component_home_or_the_database(cluster: Cluster) -> None:
    cluster.assert_no_secret_leaked()
