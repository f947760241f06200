"""DAGs of the distributed tier (CeleryExecutor, two workers, two triggerers).

Records carry Ids chosen from the run's ``tag`` (uuid5), so a retried write can only find them, never make them
again. ``dag_run.conf`` carries what the test decided: ``tag``, ``total`` and ``chunks`` for writes, ``case_ids``
for the sensors.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor
from airflow_provider_creatio.transfers.object_storage_to_creatio_files import (
    ObjectStorageToCreatioFilesOperator,
)

RESOLVED = "ae7f411e-f46b-1410-009b-0050ba5d6c38"
POLL = 2  # seconds between two looks of a trigger or a worker-side wait
START = datetime(2024, 1, 1)


def contact_records(tag: str, total: int) -> list[dict[str, Any]]:
    """``total`` contacts named after ``tag``, with Ids that depend only on ``tag`` and the position."""
    return [
        {
            "Id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}/{n}")),
            "Name": f"{tag} {n}",
            "JobTitle": "Distributed",
        }
        for n in range(total)
    ]


@task
def split_records(dag_run: Any = None) -> list[list[dict[str, Any]]]:
    """The run's records in ``chunks`` parts, one per mapped write."""
    conf = dag_run.conf
    records, chunks = contact_records(conf["tag"], conf["total"]), conf["chunks"]
    size = -(-len(records) // chunks)
    return [records[start : start + size] for start in range(0, len(records), size)]


@task
def case_ids(dag_run: Any = None) -> list[str]:
    return list(dag_run.conf["case_ids"])


with DAG("distributed_bulk_upsert", schedule=None, start_date=START, catchup=False) as bulk_upsert:
    CreatioBulkEntityOperator.partial(
        task_id="upsert", entity="Contact", operation="upsert", include_results=False
    ).expand(records=split_records())

with DAG("distributed_bulk_write_retried", schedule=None, start_date=START, catchup=False) as bulk_retried:
    # One write in four concurrent lanes, retried by Airflow when its worker dies under it.
    CreatioBulkEntityOperator.partial(
        task_id="create",
        entity="Contact",
        operation="create",
        include_results=False,
        concurrency=4,
        retries=2,
        retry_delay=timedelta(seconds=1),
    ).expand(records=split_records())

with DAG("distributed_files_retried", schedule=None, start_date=START, catchup=False) as files_retried:
    # A folder of <contact Id>/<file> attached in four lanes, retried by Airflow when its worker dies under it.
    ObjectStorageToCreatioFilesOperator(
        task_id="attach",
        entity="Contact",
        source="{{ dag_run.conf['folder'] }}",
        chunk_size=64 * 1024,
        concurrency=4,
        retries=2,
        retry_delay=timedelta(seconds=1),
    )


def case_waits(dag_id: str) -> DAG:
    """One deferrable case sensor per case in ``dag_run.conf['case_ids']`` (dynamic task mapping)."""
    with DAG(dag_id, schedule=None, start_date=START, catchup=False) as dag:
        CreatioEntitySensor.partial(
            task_id="case_resolved",
            entity="Case",
            success_values={"Status/Id": RESOLVED},
            deferrable=True,
            poke_interval=POLL,
            timeout=1800,
        ).expand(record_id=case_ids())
    return dag


many_waits = case_waits("distributed_many_waits")
triggerer_killed = case_waits("distributed_triggerer_killed")

with DAG("distributed_process_retried", schedule=None, start_date=START, catchup=False) as process_retried:
    # Waits in its worker for an approval; the worker dies, and the retry must follow the same run.
    CreatioRunProcessOperator(
        task_id="approval",
        process_name="UsrApprovalProcess",
        parameters={"RequestName": "retried {{ run_id }}"},
        method="run",
        wait_for_completion=True,
        deferrable=False,
        poll_interval=POLL,
        retries=1,
        retry_delay=timedelta(seconds=1),
    )
