"""A DAG scheduled on an asset that CreatioRecordChangeTrigger watches: cases with the subject "deployment
watch", polled every 5 s with a 1 s clock margin (less than the interval: a change is read by the first poll at
least 1 s after it, at most two polls after it). Its one task returns the payloads of the asset events that
triggered the run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

WATCHED_CASES = Asset(
    name="deployment_watched_cases",
    uri="creatio://deployment.creatio.test/Case",
    watchers=[
        AssetWatcher(
            name="deployment_watched_case_changes",
            trigger=CreatioRecordChangeTrigger(
                entity="Case",
                filter={"Subject": "deployment watch"},
                poll_interval=5,
                clock_margin=1,
                ids_limit=3,
            ),
        )
    ],
)


@dag(schedule=[WATCHED_CASES], start_date=datetime(2024, 1, 1), catchup=False)
def deployment_record_change() -> None:
    @task
    def payloads(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        return [
            event.extra["payload"] for events in (triggering_asset_events or {}).values() for event in events
        ]

    payloads()


deployment_record_change()
