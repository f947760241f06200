"""Incremental extract DAG, run with dag.test by tests/dags/test_transfer_dags.py: the example's task with pages of
20 records, so that records can change between the pages of one run."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag
from airflow.timetables.trigger import CronTriggerTimetable  # airflow.sdk has it only from Airflow 3.2

from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator


@dag(
    schedule=CronTriggerTimetable("0 2 * * *", timezone="UTC", interval=timedelta(days=1)),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
)
def test_transfer_windows() -> None:
    CreatioToObjectStorageOperator(
        task_id="extract_contacts",
        entity="Contact",
        select=["Name", "ModifiedOn"],
        incremental=True,
        path="{{ var.value.creatio_transfer_folder }}/contacts/{{ run_id | replace(':', '-') }}/",
        page_size=20,
        clock_margin=timedelta(seconds=1),
    )


test_transfer_windows()
