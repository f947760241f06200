"""Nightly full copy of every contact into ``UsrContactCopy``, through files: the large-data variant of
``example_creatio_contact_sync``.

The sync hands its records from task to task through XCom: right for the few hundred or thousand contacts a day
changes, and simplest to read. When a run moves tens of thousands of records, or the data should land in the lake
anyway, records go through files and XCom carries only their URIs and counts, as here:

1. ``export_contacts`` streams every contact into a JSON Lines file (the query operator's ``output_path``), one
   page held at a time.
2. ``to_contact_copies`` reads it record by record and writes the reporting rows as CSV (``formats``).
3. ``load_copies`` upserts the CSV into ``UsrContactCopy`` (``ObjectStorageToCreatioOperator``): columns checked
   against the entity's schema first, ``$batch`` requests of 100 in chunks of 10,000, one session; the per-record
   outcomes land beside the input as ``copies.csv.report.jsonl``. A rerun upserts the same rows again.

Where the files go: a folder every component of the deployment reaches. It is the run's ``folder`` param when
given, else the Airflow Variable ``creatio_transfer_folder``, else a folder under the machine's temporary
directory (right for ``make demo`` and a one-machine deployment; on Celery or Kubernetes, set the Variable to a
shared mount or an object storage URI such as ``s3://aws_default@lake/creatio``). Each run writes under its own
sub-folder, named after its run id.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from airflow.sdk import Param, dag, task

from airflow_provider_creatio.operators.entity import CreatioQueryEntitiesOperator
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

TARGET_ENTITY = "UsrContactCopy"
CONTACT_COLUMNS = ["Id", "Name", "Email", "MobilePhone", "JobTitle", "AccountId", "ModifiedOn"]
DEFAULT_FOLDER = (Path(tempfile.gettempdir()) / "creatio-transfers").as_posix()
RUN_FOLDER = (
    "{{ params.folder or var.value.get('creatio_transfer_folder', '" + DEFAULT_FOLDER + "') }}"
    "/contact-load/{{ run_id | replace(':', '-') | replace('+', '-') }}"
)


@dag(
    schedule="0 3 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={"folder": Param("", type="string", description="where the run's files go (a path or a URI)")},
    tags=["creatio", "example", "entities", "transfers"],
    doc_md=__doc__,
)
def example_creatio_contact_load() -> None:
    export = CreatioQueryEntitiesOperator(
        task_id="export_contacts",
        entity="Contact",
        select=CONTACT_COLUMNS,
        page_size=1000,
        output_path=f"{RUN_FOLDER}/contacts.jsonl",
    )

    @task
    def to_contact_copies(exported: dict[str, object]) -> str:
        """The reporting row of each exported contact, one record in memory at a time; the CSV's URI."""
        from airflow_provider_creatio import formats

        source = formats.storage_path(str(exported["path"]))
        target = source.with_name("copies.csv")
        with formats.open_writer(target) as writer:
            for contact in formats.read_records(source):
                writer.write(
                    {
                        "Id": contact["Id"],
                        "Name": contact["Name"],
                        "Email": contact["Email"],
                        "Phone": contact["MobilePhone"],
                        "JobTitle": contact["JobTitle"],
                        "AccountId": contact["AccountId"],
                        "SourceModifiedOn": contact["ModifiedOn"],
                    }
                )
        return str(target)

    ObjectStorageToCreatioOperator(
        task_id="load_copies",
        entity=TARGET_ENTITY,
        operation="upsert",
        source=to_contact_copies(export.output),
    )


example_creatio_contact_load()
