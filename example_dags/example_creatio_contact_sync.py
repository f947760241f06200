"""Nightly incremental sync: the contacts changed in the last day, cleaned up, upserted into a reporting copy.

``UsrContactCopy`` is a custom object a Creatio team adds for reporting and partner portals: one row per contact,
with the same Id, holding a cleaned-up subset of its columns (columns: Name, Email, Phone, JobTitle, Account
(lookup to Account), SourceModifiedOn). The job is idempotent: a rerun of the same window upserts the same rows.

Which window a run reads, as the half-open ``[start, end)`` of ``ModifiedOn``:

* A run with a logical date (every scheduled run, and a run triggered with a logical date) reads its data
  interval: the nightly run at 02:00 reads the 24 hours before 02:00; a run triggered for a logical date ``L``
  reads ``[L - 24 h, L)``.
* A run without a logical date (Airflow 3's default for runs triggered from the REST API or the CLI) has no
  data interval. It reads the 24 hours up to its ``run_after`` (the moment it was triggered): the window a
  scheduled run at that moment would read. ``run_after`` is stored with the run, so
  clearing the run reads the same window again. It does not continue from the previous run: a manual run is an
  extra look at the last day, not a catch-up; to re-sync a past day, trigger a run with that day's logical date.

1. ``changed_contacts`` reads the contacts whose ``ModifiedOn`` lies in that window. The filter is a mapping, so
   the dates become proper OData literals (the DAG renders templates as native objects, which keeps the window's
   bounds datetimes). Pages of 500 are read with a stable order, and ``max_records`` fails the run instead of
   pushing an unexpectedly huge XCom.
2. ``to_contact_copies`` trims names, lower-cases e-mails and normalises phone numbers.
3. ``upsert_copies`` writes them through ``$batch`` (at most 100 per call; the Ids that exist are looked up first,
   so each chunk is one batch), and fails the run if Creatio refused any row, naming the rows and Creatio's words.

The records travel between the tasks through XCom: the small-data variant, right for the hundreds or few thousand
contacts a day changes (``max_records`` guards the size). For tens of thousands of records, or data that should
land in the lake anyway, see ``example_creatio_contact_load``: the same copy through files in object storage, with
only URIs and counts in XCom.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, task

from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator, CreatioQueryEntitiesOperator

TARGET_ENTITY = "UsrContactCopy"
CONTACT_COLUMNS = ["Id", "Name", "Email", "MobilePhone", "Phone", "JobTitle", "AccountId", "ModifiedOn"]
EMPTY_LOOKUP = "00000000-0000-0000-0000-000000000000"
SYNC_INTERVAL = timedelta(days=1)
# The data interval when the run has one; otherwise (no logical date) the SYNC_INTERVAL up to run_after.
WINDOW_START = (
    "{{ data_interval_start if data_interval_start is defined else dag_run.run_after - sync_interval }}"
)
WINDOW_END = "{{ data_interval_end if data_interval_end is defined else dag_run.run_after }}"


def normalise_phone(number: str) -> str:
    """``+1 (213) 566-34-22`` -> ``+12135663422``; an empty or digit-less value stays empty."""
    digits = re.sub(r"\D", "", number or "")
    if not digits:
        return ""
    return ("+" if number.strip().startswith("+") else "") + digits


def contact_copy(contact: dict[str, Any]) -> dict[str, Any]:
    """The reporting row of one contact: same Id, cleaned values, lookups written through their Id column."""
    return {
        "Id": contact["Id"],
        "Name": " ".join((contact.get("Name") or "").split()),
        "Email": (contact.get("Email") or "").strip().lower(),
        "Phone": normalise_phone(contact.get("MobilePhone") or contact.get("Phone") or ""),
        "JobTitle": (contact.get("JobTitle") or "").strip(),
        "AccountId": contact.get("AccountId") or EMPTY_LOOKUP,
        "SourceModifiedOn": contact["ModifiedOn"],
    }


@dag(
    # Every night at 02:00 UTC, for the 24 hours before: data_interval_end is the run time, start one day earlier.
    schedule=CronTriggerTimetable("0 2 * * *", timezone="UTC", interval=SYNC_INTERVAL),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    render_template_as_native_obj=True,
    user_defined_macros={"sync_interval": SYNC_INTERVAL},
    max_active_runs=1,
    tags=["creatio", "example", "entities", "sync"],
    doc_md=__doc__,
)
def example_creatio_contact_sync() -> None:
    changed = CreatioQueryEntitiesOperator(
        task_id="changed_contacts",
        entity="Contact",
        filter={"ModifiedOn__ge": WINDOW_START, "ModifiedOn__lt": WINDOW_END},
        select=CONTACT_COLUMNS,
        orderby="ModifiedOn",
        page_size=500,
        max_records=50_000,
    )

    @task
    def to_contact_copies(contacts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [contact_copy(contact) for contact in contacts]

    CreatioBulkEntityOperator(
        task_id="upsert_copies",
        entity=TARGET_ENTITY,
        operation="upsert",
        records=to_contact_copies(changed.output),
    )


example_creatio_contact_sync()
