"""The SysProcessLog and SysProcessElementLog reader of client/process_log.py: requests, states, rows, dates."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest

from airflow_provider_creatio.client import process_log as p
from airflow_provider_creatio.client.errors import CreatioResponseError, CreatioValidationError
from airflow_provider_creatio.client.http import ApiResponse, Idempotency, Service

PID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
UID = "e6574af1-3e92-4099-958e-e798f52ee016"


def answer(row: dict[str, Any]) -> ApiResponse:
    return ApiResponse(
        200,
        {"content-type": "application/json"},
        json.dumps(row).encode(),
        method="GET",
        path="/0/odata/SysProcessLog",
    )


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: p.get_process_log("nope"), id="log"),
        pytest.param(lambda: p.get_process_element(None), id="element-log"),  # type: ignore[arg-type]
    ],
)
def test_ids_are_validated(build: Any) -> None:
    with pytest.raises(CreatioValidationError):
        build()


def log_row(**fields: Any) -> dict[str, Any]:
    row = {
        "@odata.context": "x",
        "Id": PID,
        "Name": "UsrProc",
        "StatusId": p.PROCESS_STATUS_IDS[p.ProcessState.RUNNING],
        "StartDate": "2024-01-01T10:00:00.1234567Z",
        "CompleteDate": None,
        "ErrorDescription": "",
    }
    row.update(fields)
    return row


def test_get_process_log_request() -> None:
    request = p.get_process_log(PID.upper()).request
    assert (request.method, request.service, request.path) == ("GET", Service.ODATA, f"SysProcessLog({PID})")
    assert request.params == (("$select", "Id,Name,StatusId,StartDate,CompleteDate,ErrorDescription"),)
    assert request.idempotency is Idempotency.SAFE
    assert request.operation == f"read the log of process {PID}"


STATE_CASES = [(state, status_id) for state, status_id in p.PROCESS_STATUS_IDS.items()]


@pytest.mark.parametrize(("state", "status_id"), STATE_CASES, ids=[s.value for s, _ in STATE_CASES])
def test_every_documented_status_id_maps_to_its_state(state: p.ProcessState, status_id: str) -> None:
    entry = p.get_process_log(PID).parse(answer(log_row(StatusId=status_id.upper())))
    assert entry.state is state
    assert entry.is_final is (
        state in {p.ProcessState.COMPLETED, p.ProcessState.ERROR, p.ProcessState.CANCELED}
    )


@pytest.mark.parametrize("status_id", [UID, None, "", "Running"], ids=["other-guid", "none", "empty", "name"])
def test_unknown_status_is_unknown(status_id: object) -> None:
    entry = p.get_process_log(PID).parse(answer(log_row(StatusId=status_id)))
    assert entry.state is p.ProcessState.UNKNOWN
    assert not entry.is_final


def test_process_log_entry_fields_and_dict() -> None:
    row = log_row(
        StatusId=p.PROCESS_STATUS_IDS[p.ProcessState.ERROR],
        CompleteDate="2024-01-01T10:05:00Z",
        ErrorDescription="Division by zero",
    )
    entry = p.get_process_log(PID).parse(answer(row))
    assert entry.process_id == PID and entry.name == "UsrProc"
    assert entry.start_date == dt.datetime(2024, 1, 1, 10, 0, 0, 123456, dt.timezone.utc)
    assert entry.complete_date == dt.datetime(2024, 1, 1, 10, 5, tzinfo=dt.timezone.utc)
    assert entry.error_description == "Division by zero"
    assert json.loads(json.dumps(entry.to_dict())) == {
        "process_id": PID,
        "state": "Error",
        "name": "UsrProc",
        "error_description": "Division by zero",
        "start_date": "2024-01-01T10:00:00.123456Z",
        "complete_date": "2024-01-01T10:05:00Z",
        "status_id": p.PROCESS_STATUS_IDS[p.ProcessState.ERROR],
        "is_final": True,
    }


def test_empty_error_description_is_none() -> None:
    assert p.get_process_log(PID).parse(answer(log_row())).error_description is None


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(log_row(StartDate="yesterday"), id="bad-date"),
        pytest.param(log_row(Id="x"), id="bad-id"),
        pytest.param(log_row(StartDate="2024-13-01T00:00:00Z"), id="impossible-date"),
    ],
)
def test_unreadable_log_row(row: dict[str, Any]) -> None:
    with pytest.raises(CreatioResponseError, match="unexpected log row") as err:
        p.get_process_log(PID).parse(answer(row))
    assert err.value.operation == f"read the log of process {PID}"


def test_get_process_element() -> None:
    call = p.get_process_element(UID)
    assert call.request.path == f"SysProcessElementLog({UID})"
    assert call.request.params == (
        ("$select", "Id,SysProcessId,Name,Caption,StatusId,StartDate,CompleteDate"),
    )
    row = {
        "Id": UID,
        "SysProcessId": PID.upper(),
        "Name": "ScriptTask1",
        "Caption": "Compute",
        "StatusId": p.PROCESS_STATUS_IDS[p.ProcessState.COMPLETED],
        "StartDate": "2024-01-01T10:00:00Z",
        "CompleteDate": "0001-01-01T00:00:00Z",
    }
    entry = call.parse(answer(row))
    assert (entry.element_uid, entry.process_id, entry.state) == (UID, PID, p.ProcessState.COMPLETED)
    assert entry.caption == "Compute" and entry.complete_date is None
    assert entry.is_final
    json.dumps(entry.to_dict())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2022-04-07T09:37:58.5679414Z",
            dt.datetime(2022, 4, 7, 9, 37, 58, 567941, dt.timezone.utc),
            id="seven-digits",
        ),
        pytest.param(
            "2022-04-07T09:37:58Z",
            dt.datetime(2022, 4, 7, 9, 37, 58, tzinfo=dt.timezone.utc),
            id="no-fraction",
        ),
        pytest.param(
            "2022-04-07T09:37:58",
            dt.datetime(2022, 4, 7, 9, 37, 58, tzinfo=dt.timezone.utc),
            id="no-zone-utc",
        ),
        pytest.param(
            "2022-04-07T11:37:58+02:00",
            dt.datetime(2022, 4, 7, 9, 37, 58, tzinfo=dt.timezone.utc),
            id="offset",
        ),
        pytest.param(
            "2022-04-07T06:37:58-0300",
            dt.datetime(2022, 4, 7, 9, 37, 58, tzinfo=dt.timezone.utc),
            id="offset-no-colon",
        ),
        pytest.param("2022-04-07", dt.datetime(2022, 4, 7, tzinfo=dt.timezone.utc), id="date-only"),
        pytest.param("0001-01-01T00:00:00Z", None, id="min-value-is-none"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
    ],
)
def test_parse_creatio_datetime(text: str | None, expected: dt.datetime | None) -> None:
    assert p.parse_creatio_datetime(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2022-04-07T09", 20220407, "2022-04-07T09:37:58Zjunk"])
def test_parse_creatio_datetime_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        p.parse_creatio_datetime(text)


def test_status_ids_are_all_distinct_guids() -> None:
    ids = list(p.PROCESS_STATUS_IDS.values())
    assert len(set(ids)) == 6 and all(uuid.UUID(i) for i in ids)
    assert set(p.PROCESS_STATUS_IDS) == set(p.ProcessState) - {p.ProcessState.UNKNOWN}
