"""Case escalation: a Case created (or changed) with priority High starts the escalation process.

No schedule and no sensor: the DAG is scheduled on an asset, the site's Case table, and an ``AssetWatcher`` on it
runs ``CreatioRecordChangeTrigger`` in the triggerer. Every ``POLL_SECONDS`` it reads the High cases modified
since its high-water mark; a batch of changes becomes one asset event, whose ``extra["payload"]`` carries the
changed cases' Ids, and the asset event starts a run of this DAG.

1. ``changed_cases`` collects the Ids of every asset event that triggered the run (several batches may start
   one run). An event names at most ``ids_limit`` cases (100); one whose ``truncated`` is true had more, which a
   production DAG reads with a query between the event's ``after`` and ``mark`` (docs/guides/event-driven.md).
2. ``escalate`` runs Creatio's ``UsrCaseEscalationProcess`` once per case (a mapped task).

Delivery is at least once: after a triggerer restart a batch may come twice. The process escalates a case once
however often it runs for it, so a repeated Id costs one process run and changes nothing.

Triggering this DAG by hand (without an asset event) escalates nothing: ``escalate`` maps over no case. Neither
does a run started by a DAG that wrote cases with one of this provider's operators: its asset event (the same
asset) carries no payload, and the watcher reports the case itself if it is High.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task

from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

# The host of the Creatio site of the creatio_default connection: the asset names that site's Case table.
SITE_HOST = "mysite.creatio.com"
POLL_SECONDS = 10

# The site's Case table. This provider's operators find it by URI and record an event on it when they write cases
# on that site (docs/guides/event-driven.md).
HIGH_PRIORITY_CASES = Asset(
    uri=f"creatio://{SITE_HOST}/Case",
    watchers=[
        AssetWatcher(
            name="creatio_high_priority_case_changes",
            trigger=CreatioRecordChangeTrigger(
                entity="Case", filter={"Priority/Name": "High"}, poll_interval=POLL_SECONDS
            ),
        )
    ],
)


@dag(
    schedule=[HIGH_PRIORITY_CASES],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "assets", "processes"],
    doc_md=__doc__,
)
def example_creatio_case_escalation() -> None:
    @task
    def changed_cases(triggering_asset_events: Any = None) -> list[dict[str, str]]:
        """The escalation process's parameters, one per changed case (each case once)."""
        ids: dict[str, None] = {}
        for events in (triggering_asset_events or {}).values():
            for event in events:
                payload = (event.extra or {}).get("payload") or {}
                ids.update(dict.fromkeys(payload.get("ids", [])))
        return [{"CaseId": case_id} for case_id in ids]

    CreatioRunProcessOperator.partial(
        task_id="escalate",
        process_name="UsrCaseEscalationProcess",
        result_parameters=["Escalated", "ActivityId"],
    ).expand(parameters=changed_cases())


example_creatio_case_escalation()
