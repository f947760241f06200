"""Lineage DAGs, run by tests/dags/test_lineage_dags.py with dag.test against the emulator.

``test_lineage_producer`` writes and reads entities through every kind of operator; ``test_lineage_consumer``
mentions what the producer writes (the Contact and Account assets of the site the ``creatio_default`` connection
points at, and the files under ``CREATIO_LINEAGE_FOLDER``), read when the file is parsed, as a DAG of a real
deployment writes its site's URIs. An operator records an event only on an asset some DAG mentions.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Asset, AssetAlias, Param, dag, task

from airflow_provider_creatio.assets import entity_uri
from airflow_provider_creatio.operators.entity import (
    CreatioBulkEntityOperator,
    CreatioCreateEntityOperator,
    CreatioDeleteEntityOperator,
    CreatioGetEntityOperator,
    CreatioQueryEntitiesOperator,
    CreatioUpsertEntityOperator,
)
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

DEFAULTS: dict[str, Any] = {"retries": 0}
CONTACT_ID = "0b8f3c8e-3f5e-4c1e-9a55-0c1d2e3f4a01"
ACCOUNT_ID = "0b8f3c8e-3f5e-4c1e-9a55-0c1d2e3f4a02"
MISSING_ID = "0b8f3c8e-3f5e-4c1e-9a55-0c1d2e3f4a03"
# The user's own outlet, kept as given (an alias: Airflow 3.0's dag.test refuses a concrete asset that no DAG
# processor made active).
USER_OUTLET = AssetAlias("contacts-report")
# Where the tests have the producer write its files (its ``folder`` param).
FOLDER = os.environ.get("CREATIO_LINEAGE_FOLDER", "/tmp/creatio-lineage")


def site_url() -> str:
    """The site of the creatio_default connection (the emulator's in these tests)."""
    text = os.environ.get("AIRFLOW_CONN_CREATIO_DEFAULT", '{"host": "https://unset.example.com"}')
    return str(json.loads(text)["host"])


@dag(
    dag_id="test_lineage_producer",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    default_args=DEFAULTS,
    params={"entity": Param("Account", type="string"), "folder": Param("/tmp", type="string")},
)
def producer() -> None:
    create = CreatioCreateEntityOperator(
        task_id="create_contact",
        entity="Contact",
        record_id=CONTACT_ID,
        data={"Name": "Ada Lovelace", "Email": "ada@example.com"},
        outlets=[USER_OUTLET],
    )
    upsert = CreatioUpsertEntityOperator(
        task_id="upsert_templated",
        entity="{{ params.entity }}",
        record_id=ACCOUNT_ID,
        data={"Name": "Analytical Engines Ltd"},
    )
    read = CreatioGetEntityOperator(
        task_id="get_contact", entity="Contact", record_id=CONTACT_ID, select=["Name"], check_columns=True
    )
    query = CreatioQueryEntitiesOperator(
        task_id="query_contacts",
        entity="Contact",
        filter={"Id": CONTACT_ID},
        select=["Id", "Name"],
        output_path="{{ params.folder }}/query/contacts.jsonl",
    )
    CreatioDeleteEntityOperator(
        task_id="delete_missing", entity="Contact", record_id=MISSING_ID, missing_ok=True
    )
    extract = CreatioToObjectStorageOperator(
        task_id="extract_contacts",
        entity="Contact",
        path="{{ params.folder }}/extract",
        format="csv",
        select=["Id", "Name", "Email"],
        filter={"Id": CONTACT_ID},
    )
    load = ObjectStorageToCreatioOperator(
        task_id="load_contacts",
        entity="Contact",
        source="{{ params.folder }}/extract",
        operation="upsert",
    )
    CreatioRunProcessOperator(
        task_id="process_writes",
        process_name="UsrCreateContactProcess",
        parameters={"ContactName": "Charles Babbage"},
        result_parameters="ContactId",
        entities_read="Account",
        entities_written=["Contact", "{{ params.entity }}"],
    )
    CreatioRunProcessOperator(
        task_id="process_fire_and_forget",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 600},
        entities_written="Case",
    )
    CreatioBulkEntityOperator(  # a record Creatio refuses: a number column given text
        task_id="bulk_fails",
        entity="Contact",
        operation="update",
        records=[{"Id": MISSING_ID, "Age": "not a number"}],
        check_columns=False,
    )
    create >> [upsert, read, query, extract]
    extract >> load


producer()


with DAG(
    dag_id="test_lineage_consumer",
    schedule=[Asset(entity_uri(site_url(), "Contact"))],
    start_date=datetime(2024, 1, 1),
    is_paused_upon_creation=False,
) as consumer:

    @task(
        inlets=[
            Asset(entity_uri(site_url(), "Account")),
            Asset(f"file://{FOLDER}/extract"),
            Asset(f"file://{FOLDER}/query/contacts.jsonl"),
        ]
    )
    def contacts_changed() -> None:
        """What a consumer does with the Contact records another DAG wrote (and reads beside them)."""

    contacts_changed()
