"""Acceptance DAG for the entity operators, run with dag.test by tests/dags/test_entity_dags.py.

The test seeds the emulator (25,000 accounts, 500 of the contacts to upsert, one contact named like a filter
injection) and points the ``creatio_lossy`` connection at a proxy that loses the answer of the first Contact POST.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_creatio.operators.entity import (
    CreatioBulkEntityOperator,
    CreatioCreateEntityOperator,
    CreatioGetEntityOperator,
    CreatioQueryEntitiesOperator,
)

NAMESPACE = uuid.UUID("6f1c1a2e-8d3b-4c1e-9a55-0c1d2e3f4a5b")
INJECTION = "x' or 1 eq 1 or Name eq 'y"
REFUSED = range(99, 1000, 100)  # records Creatio refuses: a number column given text


def contact_id(number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"contact-{number}"))


@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False, tags=["test"])
def test_entity_acceptance() -> None:
    CreatioCreateEntityOperator(
        task_id="create_after_lost_answer",
        entity="Contact",
        data={"Name": "Lost Answer", "JobTitle": "Marketing manager", "Email": "lost@example.com"},
        creatio_conn_id="creatio_lossy",
    )

    CreatioQueryEntitiesOperator(
        task_id="read_all_accounts",
        entity="Account",
        page_size=1000,
        output_path="{{ dag_run.conf['out_dir'] }}/accounts-{{ ds_nodash }}.jsonl",
    )

    CreatioQueryEntitiesOperator(
        task_id="filter_injection",
        entity="Contact",
        filter={"Name": INJECTION},
        select=["Id", "Name"],
    )

    @task
    def contacts_to_upsert() -> list[dict[str, Any]]:
        return [
            {"Id": contact_id(n), "Name": f"Synced {n}", "Age": "not a number" if n in REFUSED else n % 90}
            for n in range(1000)
        ]

    upsert = CreatioBulkEntityOperator(
        task_id="bulk_upsert",
        entity="Contact",
        operation="upsert",
        records=contacts_to_upsert(),
        allow_partial=True,
    )

    @task
    def first_created(report: dict[str, Any]) -> list[str]:
        return [item["Id"] for item in report["results"] if item["action"] == "created"][:3]

    CreatioGetEntityOperator.partial(task_id="read_each", entity="Contact", select=["Id", "Name"]).expand(
        record_id=first_created(upsert.output)
    )


test_entity_acceptance()
