"""Every operator and sensor, end to end inside ``dag.test``, against every site variant: {forms, OAuth} x
{.NET Framework, .NET Core}, and forms on a .NET Framework site under a virtual directory.

The plugin's ``creatio_every_site`` marker parametrizes ``creatio_auth_type``, ``creatio_net_core`` and
``creatio_base_path``, so ``creatio_connection`` points ``creatio_default`` at the emulator in each combination
(the emulator serves the matching layout, in the matching directory). Besides the outcome of every task, the emulator's request log shows that each request went to
the layout's paths with the auth type's credentials only: OAuth sends a bearer token and never a cookie, a
BPMCSRF header or a login; forms never asks the identity server.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.testing.dagrun import DagRunResult, run_dag

DAG_FILES = Path(__file__).parent / "dag_files"
LOGIN_PATHS = ("/ServiceModel/AuthService.svc/Login", "/ServiceModel/AuthService.svc/Logout")
BULK_SIZE = 150
UPSERTED_ID = "5b9c1d2e-3f40-4a51-8b62-7c83d94ea0f1"


@pytest.fixture
def dag_folder(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dag.test syncs the DAGs folder bundle, which Airflow takes from settings."""
    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(DAG_FILES))
    return DAG_FILES


def failed_tasks(result: DagRunResult) -> dict[str, str]:
    return {task: state for task, state in result.task_states.items() if state != "success"}


def assert_outcomes(result: DagRunResult, emulator: Any) -> None:
    xcoms = result.xcoms
    contact_id = xcoms["create"]
    assert xcoms["get"] == {"Id": contact_id, "Name": "Matrix Ann", "Email": "ann@example.com"}
    assert xcoms["update"] == contact_id
    # the read of the Id, then the write: two API calls each
    assert xcoms["upsert_existing"] == {"Id": contact_id, "action": "updated", "api_calls": 2}
    assert xcoms["upsert_new"] == {"Id": UPSERTED_ID, "action": "created", "api_calls": 2}
    ann, bob = xcoms["query"]
    assert (ann["Id"], ann["Name"], ann["JobTitle"], ann["Phone"]) == (
        contact_id,
        "Matrix Ann",
        "CTO",
        "+1 555 0100",
    )
    assert (bob["Id"], bob["Name"]) == (UPSERTED_ID, "Matrix Bob")
    bulk = xcoms["bulk"]
    # One $batch of existence lookups, then two of writes.
    assert (bulk["count"], bulk["failed"], bulk["batch_calls"]) == (BULK_SIZE, 0, 3)
    assert xcoms["bulk"]["actions"] == {"created": BULK_SIZE - 1, "updated": 1}
    assert emulator.store.count("Contact") >= BULK_SIZE
    assert xcoms["delete"] == {"Id": contact_id, "deleted": True, "api_calls": 1}
    assert emulator.store.get("Contact", contact_id) is None
    assert xcoms["full_name"] == {"FullName": "Ada Lovelace"}
    assert xcoms["seed_000_execute"] == {"FullName": "Grace Hopper"}
    assert xcoms["run_and_wait_deferred"]["status"] == "Completed"
    for task_id in ("process_wait_deferred", "process_wait_poke"):
        assert xcoms[task_id]["state"] == "Completed"
    for task_id in ("record_wait_deferred", "record_wait_poke"):
        assert xcoms[task_id]["StatusId"] == "815c9586-b6e2-df11-971b-001d60e938c6"
    assert (xcoms["exec_element"]["executed"], xcoms["exec_element"]["state"]) == (True, "Completed")


def assert_layout(requests: list[Any], net_core: bool) -> None:
    """Every call went to the layout's own paths: ``/0/odata`` and ``/0/ServiceModel`` on .NET Framework,
    ``/odata`` and ``/ServiceModel`` on .NET Core; login and logout at the site root in both."""
    prefix = "/" if net_core else "/0/"
    services = [r.path for r in requests if r.service == "creatio" and r.path not in LOGIN_PATHS]
    assert services
    assert all(path.startswith((f"{prefix}odata/", f"{prefix}ServiceModel/")) for path in services), services


def assert_credentials(requests: list[Any], auth_type: str) -> None:
    site = [r for r in requests if r.service == "creatio"]
    identity = [r for r in requests if r.service == "identity"]
    refused = [(r.method, r.path.split("odata/")[-1], r.status) for r in requests if r.status >= 300]
    # The one refusal is the upsert of a new record: the read of its Id answers 404, then the POST creates it.
    assert refused == [("GET", f"Contact({UPSERTED_ID})", 404)]
    if auth_type == "oauth":
        assert identity and all(r.path == "/connect/token" for r in identity)
        assert not any(r.path in LOGIN_PATHS for r in site)
        assert {(r.auth, r.sent_cookies, r.sent_csrf) for r in site} == {("bearer", False, False)}
    else:
        assert not identity
        calls = [r for r in site if r.path not in LOGIN_PATHS]
        assert {(r.auth, r.sent_cookies, r.sent_csrf) for r in calls} == {("cookie", True, True)}
    # The triggers polled with the async client (httpx), the tasks with the sync one (requests).
    assert {r.agent for r in site} == {"python-requests", "python-httpx"}


@pytest.mark.creatio_every_site
def test_every_operator_in_every_deployment(
    dag_folder: Path, creatio_connection: Any, creatio_auth_type: str, creatio_net_core: bool
) -> None:
    emulator = creatio_connection
    result = run_dag(dag_folder, "test_every_operator")

    assert result.succeeded and not failed_tasks(result), failed_tasks(result)
    assert_outcomes(result, emulator)
    requests = emulator.requests
    assert_layout(requests, creatio_net_core)
    assert_credentials(requests, creatio_auth_type)
    secrets = [emulator.settings.password, emulator.settings.oauth_client_secret]
    secrets += emulator.state.identity.issued_tokens()
    shown = json.dumps(result.xcoms, default=str)
    assert not [secret for secret in secrets if secret in shown]
