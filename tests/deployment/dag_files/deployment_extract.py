"""An incremental extract of contacts that also reconciles Ids (``deletes="reconcile"``), run in the deployment
tier by hand (no data interval): each run continues from the high-water mark the previous one left, and compares
its Ids with the snapshot the previous one kept. Small pages, so that a run reads long enough for the test to
change records while it reads; a short clock margin, so that the next run can follow within seconds."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator

CLOCK_MARGIN = timedelta(seconds=5)

with DAG(
    "deployment_incremental_extract",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
) as extract:
    CreatioToObjectStorageOperator(
        task_id="extract",
        entity="Contact",
        select=["Name", "ModifiedOn"],
        incremental=True,
        path="{{ var.value.creatio_transfer_folder }}/deployment-extract/{{ run_id | replace(':', '-') | replace('+', '-') }}/",
        format="jsonl",
        page_size=20,
        max_records_per_file=100,
        clock_margin=CLOCK_MARGIN,
        deletes="reconcile",
    )
