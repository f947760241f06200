"""JSON $batch: relative and absolute URLs, stop at the first failure unless continue-on-error, at most 100."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from airflow_provider_creatio.testing.emulator import EmulatorServer

API_TEST = "12d21632-8b20-45d9-942f-20fcbbf2957c"
MISSING = "99999999-9999-4999-8999-999999999999"


def batch(
    api: requests.Session, odata: str, requests_: list[dict[str, Any]], continue_on_error: bool = False
) -> requests.Response:
    headers = {"Prefer": "continue-on-error"} if continue_on_error else {}
    return api.post(f"{odata}/$batch", json={"requests": requests_}, headers=headers)


def test_a_batch_runs_every_request_in_order(odata: str, api: requests.Session) -> None:
    new_id = str(uuid.uuid4())
    answer = batch(
        api,
        odata,
        [
            {"id": "1", "method": "POST", "url": "Contact", "headers": {"Content-Type": "application/json"},
             "body": {"Id": new_id, "Name": "Batched"}},
            {"id": "2", "method": "PATCH", "url": f"/0/odata/Contact({new_id})", "body": {"JobTitle": "CTO"}},
            {"id": "3", "method": "GET", "url": f"{odata}/Contact({new_id})?$select=Name,JobTitle"},
            {"id": "4", "method": "GET", "url": "Contact/$count?$filter=Name eq 'Batched'"},
            {"id": "5", "method": "DELETE", "url": f"Contact({new_id})", "atomicityGroup": "g1"},
        ],
    )  # fmt: skip

    assert answer.status_code == 200
    responses = answer.json()["responses"]
    assert [(item["id"], item["status"]) for item in responses] == [
        ("1", 201),
        ("2", 204),
        ("3", 200),
        ("4", 200),
        ("5", 204),
    ]
    assert responses[0]["body"]["Name"] == "Batched"
    assert "body" not in responses[1]
    assert {key: responses[2]["body"][key] for key in ("Name", "JobTitle")} == {
        "Name": "Batched",
        "JobTitle": "CTO",
    }
    assert responses[3]["body"] == "1"
    assert api.get(f"{odata}/Contact({new_id})").status_code == 404


def test_without_continue_on_error_the_batch_stops_at_the_first_failure(
    odata: str, api: requests.Session, creatio: EmulatorServer
) -> None:
    answer = batch(
        api,
        odata,
        [
            {"id": "a", "method": "PATCH", "url": f"Contact({API_TEST})", "body": {"JobTitle": "First"}},
            {"id": "b", "method": "DELETE", "url": f"Contact({MISSING})"},
            {"id": "c", "method": "PATCH", "url": f"Contact({API_TEST})", "body": {"JobTitle": "Never"}},
        ],
    )

    assert answer.status_code == 200
    assert [(item["id"], item["status"]) for item in answer.json()["responses"]] == [("a", 204), ("b", 404)]
    assert creatio.store.get("Contact", API_TEST)["JobTitle"] == "First"  # type: ignore[index]


def test_with_continue_on_error_every_request_runs(
    odata: str, api: requests.Session, creatio: EmulatorServer
) -> None:
    answer = batch(
        api,
        odata,
        [
            {"id": "a", "method": "DELETE", "url": f"Contact({MISSING})"},
            {"id": "b", "method": "POST", "url": "Contact", "body": {"Name": "X", "Nickname": "y"}},
            {"id": "c", "method": "PATCH", "url": f"Contact({API_TEST})", "body": {"JobTitle": "Still runs"}},
        ],
        continue_on_error=True,
    )

    responses = answer.json()["responses"]
    assert [(item["id"], item["status"]) for item in responses] == [("a", 404), ("b", 400), ("c", 204)]
    assert responses[1]["body"]["error"]["message"] == "Column by path Nickname not found in schema Contact."
    assert creatio.store.get("Contact", API_TEST)["JobTitle"] == "Still runs"  # type: ignore[index]


def test_a_create_retried_in_a_batch_finds_the_record_there(odata: str, api: requests.Session) -> None:
    new_id = str(uuid.uuid4())
    create = {"id": "1", "method": "POST", "url": "Contact", "body": {"Id": new_id, "Name": "Once"}}

    first = batch(api, odata, [create]).json()["responses"]
    second = batch(api, odata, [create]).json()["responses"]

    assert first[0]["status"] == 201
    assert second[0]["status"] == 500
    assert "Cannot insert duplicate key" in second[0]["body"]["error"]["message"]


def test_100_requests_are_accepted_and_101_refused(
    odata: str, api: requests.Session, creatio: EmulatorServer
) -> None:
    def creates(count: int) -> list[dict[str, Any]]:
        return [
            {"id": str(n), "method": "POST", "url": "Account", "body": {"Name": f"Bulk {n}"}}
            for n in range(count)
        ]

    accounts_before = creatio.store.count("Account")
    too_many = batch(api, odata, creates(101))
    assert too_many.status_code == 400
    assert "error" in too_many.json()
    assert creatio.store.count("Account") == accounts_before

    just_enough = batch(api, odata, creates(100))
    assert just_enough.status_code == 200
    assert len(just_enough.json()["responses"]) == 100
    assert creatio.store.count("Account") == accounts_before + 100


@pytest.mark.parametrize(
    "body",
    [b"not json", b"{}", b'{"requests": {}}', b'{"requests": [{"id": "1", "method": "GET"}]}'],
)
def test_malformed_batches_are_400(odata: str, api: requests.Session, body: bytes) -> None:
    answer = api.post(f"{odata}/$batch", data=body)

    assert answer.status_code == 400


def test_urls_outside_the_served_odata_roots_fail_inside_the_batch(odata: str, api: requests.Session) -> None:
    answer = batch(api, odata, [{"id": "1", "method": "GET", "url": f"/odata/Contact({API_TEST})"}])

    assert answer.json()["responses"][0]["status"] == 404


def test_a_batch_needs_a_session(creatio: EmulatorServer, odata: str) -> None:
    answer = requests.post(f"{odata}/$batch", json={"requests": []})

    assert answer.status_code == 401


def test_net_core_batches_accept_both_roots(creatio: EmulatorServer, api: requests.Session) -> None:
    creatio.settings.net_core = True

    answer = batch(
        api,
        f"{creatio.url}/odata",
        [
            {"id": "1", "method": "GET", "url": f"/odata/Contact({API_TEST})"},
            {"id": "2", "method": "GET", "url": f"/0/odata/Contact({API_TEST})"},
        ],
    )

    assert [item["status"] for item in answer.json()["responses"]] == [200, 200]
