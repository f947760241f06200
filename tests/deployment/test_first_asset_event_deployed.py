"""Writers of one entity whose tasks end at the same moment, in a real deployment: every one succeeds on its first
try. Airflow 3.3.2 creates an asset no DAG mentions on its first event (or links an asset to an ``AssetAlias`` on
the alias's first event) without guarding against two tasks doing it at once: the loser's success report ends in a
unique-constraint error (409 Conflict, which the task runner does not retry) and its try fails although its work
is done (docs/guides/lineage.md). The provider's operators emit only to assets Airflow knows, by URI."""

from __future__ import annotations

import urllib.parse
from typing import Any

from conftest import Deployment

UNDECLARED, DECLARED = "deployment_first_event_undeclared", "deployment_first_event_declared"
CONSUMER = "deployment_communication_types"
WRITERS = 6
TASKS = {f"create_{number}" for number in range(WRITERS)}


def run(deployment: Deployment, dag_id: str) -> tuple[str, dict[str, int], str]:
    """Run ``dag_id`` to success: its run id, each task's try number, and what the api-server printed meanwhile."""
    airflow = deployment.airflow
    airflow.wait_for_dags([UNDECLARED, DECLARED, CONSUMER])
    before = len(airflow.component_output("api-server", tail=None))
    run_id = airflow.trigger(dag_id)
    state = airflow.wait_for_run(dag_id, run_id)
    assert state == "success", (airflow.task_states(dag_id, run_id), airflow.failure_report(dag_id, run_id))
    tries = {ti["task_id"]: ti["try_number"] for ti in airflow.task_instances(dag_id, run_id)}
    return run_id, tries, airflow.component_output("api-server", tail=None)[before:]


def events(deployment: Deployment, dag_id: str) -> list[dict[str, Any]]:
    query = urllib.parse.urlencode({"source_dag_id": dag_id, "limit": 100})
    return list(deployment.airflow.api("GET", f"/api/v2/assets/events?{query}")["asset_events"])


def test_writers_of_an_asset_no_dag_mentions_emit_nothing_and_all_succeed(deployment: Deployment) -> None:
    _run_id, tries, output = run(deployment, UNDECLARED)

    assert tries == dict.fromkeys(TASKS, 1)
    assert events(deployment, UNDECLARED) == []
    assert "Dynamically creating AssetModel" not in output and "IntegrityError" not in output
    site = urllib.parse.urlsplit(deployment.creatio.url).netloc
    uris = [asset["uri"] for asset in deployment.airflow.api("GET", "/api/v2/assets?limit=100")["assets"]]
    assert f"creatio://{site}/City" not in uris  # not created


def test_writers_of_an_asset_a_dag_mentions_each_record_an_event_on_their_first_try(
    deployment: Deployment,
) -> None:
    run_id, tries, output = run(deployment, DECLARED)

    assert tries == dict.fromkeys(TASKS, 1)
    assert "IntegrityError" not in output
    site = urllib.parse.urlsplit(deployment.creatio.url).netloc
    recorded = sorted(
        (event["source_task_id"], event["uri"], event["extra"], event["source_run_id"])
        for event in events(deployment, DECLARED)
    )
    uri = f"creatio://{site}/CommunicationType"
    assert recorded == [(task, uri, {"records": 1}, run_id) for task in sorted(TASKS)]
