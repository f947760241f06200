"""Nightly incremental extract of contacts into object storage: the lake's copy of Creatio's Contact table.

Every night at 02:00 UTC, ``extract_contacts`` writes the contacts modified in the 24 hours before (its data
interval, ``ModifiedOn`` from the start, included, to the end, excluded) as JSON Lines files of at most 50,000
records into a folder of its own, named after the run. The folders' root is the Airflow Variable
``creatio_transfer_folder`` (as for ``example_creatio_contact_load``), else a folder under the machine's temporary
directory; on Celery or Kubernetes, set it to a shared mount or an object storage URI such as
``s3://aws_default@lake/creatio``.

* Pages are read on the (``ModifiedOn``, ``Id``) index, never with ``$skip``: each page costs Creatio one range
  read, whatever the table's size, and memory holds one page.
* A record modified while the extract runs carries a ``ModifiedOn`` past the window's end: the next window has it.
* A rerun of a night writes the same files again (same names, overwritten).
* A run without a data interval (triggered by hand or by an asset) continues from the high-water mark the last
  run left (the Airflow Variable ``creatio_extract_watermark__<dag>__<task>``) up to a minute before it was
  triggered.

XCom (small): the file URIs, the record count, the high-water mark and the window. When the changes of a day fit
in XCom and go straight back into Creatio, ``example_creatio_contact_sync`` (query, transform, bulk upsert) is
the smaller tool; this one is for data that leaves Creatio for a lake or a warehouse, at any size.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import dag
from airflow.timetables.trigger import CronTriggerTimetable  # airflow.sdk has it only from Airflow 3.2

from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator

DEFAULT_FOLDER = (Path(tempfile.gettempdir()) / "creatio-transfers").as_posix()
RUN_FOLDER = (
    "{{ var.value.get('creatio_transfer_folder', '" + DEFAULT_FOLDER + "') }}"
    "/contacts-extract/{{ run_id | replace(':', '-') | replace('+', '-') }}/"
)


@dag(
    schedule=CronTriggerTimetable("0 2 * * *", timezone="UTC", interval=timedelta(days=1)),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,  # windows follow one another; the high-water mark moves forward one run at a time
    tags=["creatio", "example", "transfers"],
    doc_md=__doc__,
)
def example_creatio_contacts_to_object_storage() -> None:
    CreatioToObjectStorageOperator(
        task_id="extract_contacts",
        entity="Contact",
        select=["Name", "Email", "MobilePhone", "JobTitle", "AccountId", "CreatedOn", "ModifiedOn"],
        incremental=True,
        path=RUN_FOLDER,
        format="jsonl",
        max_records_per_file=50_000,
    )


example_creatio_contacts_to_object_storage()
