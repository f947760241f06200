"""A DAG scheduled on an asset whose watcher also reports deletions: cases with the subject "deployment deletes",
polled every 5 s, their Ids scanned every 10 s and compared with the snapshot kept in the folder the deployment
names (``CREATIO_DEPLOYMENT_SNAPSHOTS``). Its one task returns the payloads of the asset events that triggered
the run."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

SNAPSHOTS = os.environ.get("CREATIO_DEPLOYMENT_SNAPSHOTS", "/tmp/creatio-deployment-snapshots")

WATCHED_CASES = Asset(
    name="deployment_watched_case_deletes",
    uri="creatio://deletes.creatio.test/Case",
    watchers=[
        AssetWatcher(
            name="deployment_watched_case_deletes",
            trigger=CreatioRecordChangeTrigger(
                entity="Case",
                filter={"Subject": "deployment deletes"},
                poll_interval=5,
                clock_margin=1,
                include_deletes="reconcile",
                deletes_interval=10,
                snapshot_path=f"file://{SNAPSHOTS}",
            ),
        )
    ],
)


@dag(schedule=[WATCHED_CASES], start_date=datetime(2024, 1, 1), catchup=False)
def deployment_record_deletes() -> None:
    @task
    def payloads(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        return [
            event.extra["payload"] for events in (triggering_asset_events or {}).values() for event in events
        ]

    payloads()


deployment_record_deletes()
