"""Every operator and sensor of the provider in one DAG, run by tests/dags/test_site_variants.py with dag.test
in each combination of auth type (forms, OAuth) and site layout (.NET Framework, .NET Core).

The tasks form one chain, so that ``dag.test`` runs them in this order and each wait really waits: every sensor
follows the start of a ``UsrLongProcess`` that the emulator completes a second later, so its first look sees the
process Running (the deferrable ones then defer to their trigger, which runs on the async client). The entity
sensors watch that process's ``SysProcessLog`` row, an entity like any other.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from airflow.sdk import chain, dag, task

from airflow_provider_creatio.operators.entity import (
    CreatioBulkEntityOperator,
    CreatioCreateEntityOperator,
    CreatioDeleteEntityOperator,
    CreatioGetEntityOperator,
    CreatioQueryEntitiesOperator,
    CreatioUpdateEntityOperator,
    CreatioUpsertEntityOperator,
)
from airflow_provider_creatio.operators.process import CreatioExecElementOperator, CreatioRunProcessOperator
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor
from airflow_provider_creatio.sensors.process import CreatioProcessSensor

COMPLETED = "815c9586-b6e2-df11-971b-001d60e938c6"
ERROR = "f942c08d-b6e2-df11-971b-001d60e938c6"
CANCELED = "1be78f3e-234d-4d6a-869a-dc07253fd2f3"
UPSERTED_ID = "5b9c1d2e-3f40-4a51-8b62-7c83d94ea0f1"
BULK_SIZE = 150  # an upsert: one $batch of existence lookups, then two of writes
COPIES = uuid.UUID("0c4f2d6e-81a3-4b5c-9d7e-6f1a2b3c4d5e")  # namespace of the bulk copies' Ids
WAIT = {"poke_interval": 0.2, "timeout": 60}


def start_long_process(task_id: str) -> CreatioRunProcessOperator:
    return CreatioRunProcessOperator(
        task_id=task_id, process_name="UsrLongProcess", parameters={"DurationSeconds": 1}, method="run"
    )


def process_log_sensor(task_id: str, started: CreatioRunProcessOperator, deferrable: bool) -> Any:
    return CreatioEntitySensor(
        task_id=task_id,
        entity="SysProcessLog",
        record_id=started.output["process_id"],
        success_values={"Status/Id": COMPLETED},
        failure_values={"Status/Id": [ERROR, CANCELED]},
        deferrable=deferrable,
        **WAIT,
    )


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, default_args={"retries": 0})
def test_every_operator() -> None:
    create = CreatioCreateEntityOperator(
        task_id="create", entity="Contact", data={"Name": "Matrix Ann", "Email": "ann@example.com"}
    )
    get = CreatioGetEntityOperator(
        task_id="get", entity="Contact", record_id=create.output, select=["Id", "Name", "Email"]
    )
    update = CreatioUpdateEntityOperator(
        task_id="update", entity="Contact", record_id=create.output, data={"JobTitle": "CTO"}
    )
    upsert_existing = CreatioUpsertEntityOperator(
        task_id="upsert_existing", entity="Contact", record_id=create.output, data={"Phone": "+1 555 0100"}
    )
    upsert_new = CreatioUpsertEntityOperator(
        task_id="upsert_new", entity="Contact", record_id=UPSERTED_ID, data={"Name": "Matrix Bob"}
    )
    query = CreatioQueryEntitiesOperator(
        task_id="query",
        entity="Contact",
        filter={"Name__startswith": "Matrix"},
        select=["Id", "Name", "JobTitle", "Phone"],
        orderby="Name",
        page_size=1,  # one record per page: paging is exercised against every site variant
    )

    @task
    def bulk_records(ann_id: str) -> list[dict[str, Any]]:
        copies = [
            {"Id": str(uuid.uuid5(COPIES, str(n))), "Name": f"Matrix copy {n:03d}"}
            for n in range(BULK_SIZE - 1)
        ]
        return [{"Id": ann_id, "Name": "Matrix Ann", "JobTitle": "CEO"}, *copies]

    bulk = CreatioBulkEntityOperator(
        task_id="bulk", entity="Contact", operation="upsert", records=bulk_records(create.output)
    )
    delete = CreatioDeleteEntityOperator(task_id="delete", entity="Contact", record_id=create.output)

    full_name = CreatioRunProcessOperator(
        task_id="full_name",
        process_name="UsrFullNameProcess",
        parameters={"UserName": "Ada", "UserSurname": "Lovelace"},
        result_parameters="FullName",
    )
    seed_000 = CreatioRunProcessOperator(
        task_id="seed_000_execute",
        process_name="UsrFullNameProcess",
        parameters={"UserName": "Grace", "UserSurname": "Hopper"},
        result_parameters="FullName",
        method="execute",
    )
    run_and_wait = CreatioRunProcessOperator(
        task_id="run_and_wait_deferred",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 1},
        wait_for_completion=True,
        deferrable=True,
        poll_interval=0.2,
    )
    started = [start_long_process(f"start_long_{n}") for n in range(4)]
    waits = [
        process_log_sensor("record_wait_deferred", started[0], deferrable=True),
        process_log_sensor("record_wait_poke", started[1], deferrable=False),
        CreatioProcessSensor(
            task_id="process_wait_deferred",
            process_id=started[2].output["process_id"],
            deferrable=True,
            **WAIT,
        ),
        CreatioProcessSensor(
            task_id="process_wait_poke",
            process_id=started[3].output["process_id"],
            deferrable=False,
            **WAIT,
        ),
    ]
    approval = CreatioRunProcessOperator(
        task_id="start_approval",
        process_name="UsrApprovalProcess",
        parameters={"RequestName": "Matrix budget"},
        method="run",
    )

    find_element = CreatioQueryEntitiesOperator(
        task_id="find_element",
        entity="SysProcessElementLog",
        filter={
            "SysProcess/Id": "{{ ti.xcom_pull(task_ids='start_approval')['process_id'] }}",
            "Name": "ApproveRequest",
        },
        select=["Id"],
    )
    execute_element = CreatioExecElementOperator(
        task_id="exec_element", element_uid="{{ ti.xcom_pull(task_ids='find_element')[0]['Id'] }}"
    )

    entity_tasks = [create, get, update, upsert_existing, upsert_new, query, bulk, delete]
    process_tasks = [full_name, seed_000, run_and_wait]
    waiting = [step for pair in zip(started, waits, strict=True) for step in pair]
    chain(*entity_tasks, *process_tasks, *waiting, approval, find_element, execute_element)


test_every_operator()
