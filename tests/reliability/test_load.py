"""50 concurrent task processes against one emulator whose sessions expire every 5 requests: 0 failures,
0 lost or duplicated writes.

Each process is a real OS process (forked from this one, so it does not pay Airflow's import again) that builds
a CreatioHook from the AIRFLOW_CONN_ environment variable, as a task would, and writes a known set of records:
creates with client-chosen Ids, then upserts and updates of them.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator

import pytest

from airflow_provider_creatio.testing.connection import connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings

PROCESSES = 50
RECORDS = 8
ENTITY = "UsrLoadRecord"
NAMESPACE = uuid.UUID("3b8f5a4e-0c2d-4e6f-8a1b-2c3d4e5f6a7b")


def record_id(worker: int, n: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{worker}/{n}"))


def task_process(worker: int, queue: multiprocessing.Queue[tuple[int, str]]) -> None:
    try:
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        with CreatioHook() as hook:
            for n in range(RECORDS):
                hook.create_record(ENTITY, {"Name": f"w{worker} r{n}", "Version": 1}, record_id(worker, n))
            for n in range(RECORDS):
                hook.upsert_record(ENTITY, record_id(worker, n), {"Version": 2})
            hook.update_record(ENTITY, record_id(worker, 0), {"Name": f"w{worker} first"})
            logins = hook.get_conn().login_count
        queue.put((worker, f"ok {logins}"))
    except Exception as err:  # reported to the parent, which fails the test with it
        queue.put((worker, f"error {type(err).__name__}: {err}"))


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    settings = EmulatorSettings(
        custom_entities={ENTITY: {"Name": "text", "Version": "int"}},
        expiry_form="302",
        # Every session ends after 5 requests: each task logs in again and again. A budget of requests rather than
        # seconds keeps the storm the same however loaded the machine is (a seconds budget shorter than the
        # scheduler's delays would expire a session between its login and its first use).
        session_max_requests=5,
    )
    with EmulatorServer(settings) as emulator:
        yield emulator


# 50 forked task processes on 2 cores: bounded generously, as a machine busy with other work is slow, not wrong.
@pytest.mark.timeout(900)
def test_50_concurrent_task_processes(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_CREATIO_DEFAULT", connection_json(server.url, backoff_initial=0.01, backoff_max=0.1)
    )
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[tuple[int, str]] = context.Queue()
    workers = [context.Process(target=task_process, args=(w, queue)) for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    results = dict(queue.get(timeout=600) for _ in workers)
    for worker in workers:
        worker.join(timeout=30)
    errors = {w: r for w, r in results.items() if not r.startswith("ok")}
    assert not errors, errors
    rows = server.store.rows(ENTITY)
    assert len(rows) == PROCESSES * RECORDS  # none lost, none duplicated
    by_id = {row["Id"]: row for row in rows}
    for w in range(PROCESSES):
        assert by_id[record_id(w, 0)]["Name"] == f"w{w} first"
        assert all(by_id[record_id(w, n)]["Version"] == 2 for n in range(RECORDS))
    relogins = sum(int(r.split()[1]) for r in results.values()) - PROCESSES
    assert relogins > 0, "sessions never expired: the load ran without the re-login storm"
