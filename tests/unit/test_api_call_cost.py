"""What a request costs against Creatio's daily quota, from the request and its answer."""

from __future__ import annotations

import json
import threading

import pytest

from airflow_provider_creatio.client import api_calls, batch, odata
from airflow_provider_creatio.client.http import ApiResponse

JSON = {"content-type": "application/json"}


def answer(status: int, body: object = None) -> ApiResponse:
    return ApiResponse(status, JSON, b"" if body is None else json.dumps(body).encode())


OPS = [batch.BatchOperation.delete("Contact", f"00000000-0000-0000-0000-00000000000{n}") for n in range(3)]


@pytest.mark.parametrize(
    ("request_", "response", "calls"),
    [
        (odata.query_records("Contact", top=1).request, answer(200, {"value": []}), 1),
        (odata.query_records("Contact", top=1).request, answer(500, {"error": {"message": "x"}}), 1),
        (odata.query_records("Contact", top=1).request, answer(429), 0),
        (odata.query_records("Contact", top=1).request, answer(503), 0),
        (
            batch.batch_call(OPS).request,
            answer(200, {"responses": []}),
            3,
        ),  # continue-on-error: every one ran
        (
            batch.batch_call(OPS, continue_on_error=False).request,
            answer(200, {"responses": [{"id": "1"}]}),
            1,
        ),
        (batch.batch_call(OPS).request, answer(400, {"error": {"message": "bad batch"}}), 0),
    ],
)
def test_each_operation_counts_and_the_envelope_does_not(
    request_: object, response: ApiResponse, calls: int
) -> None:
    assert api_calls.cost(request_, response) == calls  # type: ignore[arg-type]


def test_the_count_is_safe_across_threads() -> None:
    count = api_calls.ApiCallCount()
    threads = [threading.Thread(target=lambda: [count.add(1) for _ in range(1000)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count.value == 8000
