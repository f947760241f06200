"""$batch encoding and lenient answer parsing of client/batch.py."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote

import pytest

from airflow_provider_creatio.client.batch import (
    MAX_BATCH_SIZE,
    BatchKind,
    BatchOperation,
    BatchResult,
    batch_call,
    batch_idempotency,
    encode_batch,
    lookup_calls,
    lookup_ids_per_batch,
    lookup_ids_per_request,
)
from airflow_provider_creatio.client.errors import (
    CreatioBadRequestError,
    CreatioResponseError,
    CreatioValidationError,
)
from airflow_provider_creatio.client.filter_nodes import filter_node_count
from airflow_provider_creatio.client.http import ApiResponse, Idempotency, Service
from airflow_provider_creatio.client.responses import message_from_json

G1 = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
G2 = "e6574af1-3e92-4099-958e-e798f52ee016"
G3 = "410006e1-ca4e-4502-a9ec-e54d922d2c00"

CREATE = BatchOperation.create("Contact", {"Name": "A"}, G1)
UPDATE = BatchOperation.update("Contact", G2, {"JobTitle": "CEO"})
DELETE = BatchOperation.delete("Account", G3)


def answer(document: object, content_type: str = "application/json") -> ApiResponse:
    content = document if isinstance(document, bytes) else json.dumps(document).encode()
    return ApiResponse(200, {"content-type": content_type}, content, method="POST", path="/0/odata/$batch")


# --- operations -------------------------------------------------------------------------------------------------


def test_create_factory_assigns_an_id() -> None:
    op = BatchOperation.create("Contact", {"Name": "A"})
    assert op.record_id is not None and uuid.UUID(op.record_id).version == 4
    assert op.body() == {"Id": op.record_id, "Name": "A"}
    assert op.idempotent


@pytest.mark.parametrize(
    ("op", "record_id"),
    [
        pytest.param(
            BatchOperation.create("Contact", {"Name": "A"}, G1.upper()), G1, id="argument-normalised"
        ),
        pytest.param(
            BatchOperation.create("Contact", {"Id": "{" + G1 + "}", "Name": "A"}), G1, id="from-data"
        ),
        pytest.param(BatchOperation.create("Contact", {"Name": "A"}, uuid.UUID(G1)), G1, id="uuid"),
        pytest.param(
            BatchOperation(BatchKind.CREATE, "Contact", None, {"Id": G1}), G1, id="direct-from-data"
        ),
        pytest.param(BatchOperation("update", "Contact", G1, {"N": 1}), G1, id="kind-as-string"),  # type: ignore[arg-type]
    ],
)
def test_operation_ids(op: BatchOperation, record_id: str) -> None:
    assert op.record_id == record_id


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(
            lambda: BatchOperation.update("Contact", None, {"N": 1}),  # type: ignore[arg-type]
            "needs a record_id",
            id="update-no-id",
        ),
        pytest.param(lambda: BatchOperation.delete("Contact", "x"), "GUID", id="delete-bad-id"),
        pytest.param(lambda: BatchOperation.update("Contact", G1, {}), "no column", id="update-empty"),
        pytest.param(
            lambda: BatchOperation.update("Contact", G1, {"Id": G1}), "no column", id="update-only-id"
        ),
        pytest.param(
            lambda: BatchOperation(BatchKind.DELETE, "Contact", G1, {"N": 1}), "no data", id="delete-data"
        ),
        pytest.param(lambda: BatchOperation.create("Con tact", {}), "object name", id="bad-entity"),
        pytest.param(
            lambda: BatchOperation.create("Contact", {"Bad Col": 1}), "column name", id="bad-column"
        ),
        pytest.param(lambda: BatchOperation.create("Contact", {"Id": G2}, G1), "disagree", id="ids-disagree"),
        pytest.param(lambda: BatchOperation.create("Contact", "Name=A"), "mapping", id="data-not-mapping"),  # type: ignore[arg-type]
        pytest.param(lambda: BatchOperation("merge", "Contact", G1, {"N": 1}), "merge", id="unknown-kind"),  # type: ignore[arg-type]
    ],
)
def test_operation_validation(build: Any, message: str) -> None:
    with pytest.raises((CreatioValidationError, ValueError), match=message):
        build()


# --- encoding ---------------------------------------------------------------------------------------------------


def test_encode_batch_shapes_each_request() -> None:
    document = encode_batch([CREATE, UPDATE, DELETE], continue_on_error=True)
    requests = document["requests"]
    assert [r["id"] for r in requests] == ["1", "2", "3"]
    assert [(r["method"], r["url"]) for r in requests] == [
        ("POST", "Contact"),
        ("PATCH", f"Contact({G2})"),
        ("DELETE", f"Account({G3})"),
    ]
    assert requests[0]["body"] == {"Id": G1, "Name": "A"}
    assert requests[1]["body"] == {"JobTitle": "CEO"}
    assert "body" not in requests[2]
    assert "Content-Type" not in requests[2]["headers"]
    assert all(r["headers"]["Prefer"] == "continue-on-error" for r in requests)
    json.dumps(document)  # it is plain JSON


def test_encode_batch_without_continue_on_error() -> None:
    document = encode_batch([CREATE, UPDATE], continue_on_error=False)
    assert all("Prefer" not in r["headers"] for r in document["requests"])


@pytest.mark.parametrize(
    ("ops", "message"),
    [
        pytest.param([], "at least one", id="empty"),
        pytest.param([UPDATE] * (MAX_BATCH_SIZE + 1), "at most 100", id="too-many"),
        pytest.param([UPDATE, {"method": "GET"}], "BatchOperation", id="not-an-operation"),
    ],
)
def test_encode_batch_limits(ops: list[Any], message: str) -> None:
    with pytest.raises(CreatioValidationError, match=message):
        encode_batch(ops)


def test_exactly_100_operations_fit() -> None:
    assert len(encode_batch([UPDATE] * MAX_BATCH_SIZE)["requests"]) == MAX_BATCH_SIZE


@pytest.mark.parametrize(
    ("ops", "expected"),
    [
        pytest.param([CREATE, UPDATE, DELETE], Idempotency.SAFE, id="all-safe"),
        pytest.param(
            [UPDATE, BatchOperation(BatchKind.CREATE, "Contact", None, {"Name": "x"})],
            Idempotency.UNSAFE,
            id="create-without-id",
        ),
    ],
)
def test_batch_idempotency(ops: list[BatchOperation], expected: Idempotency) -> None:
    assert batch_idempotency(ops) is expected
    assert batch_call(ops).request.idempotency is expected


def test_batch_call_request() -> None:
    request = batch_call([CREATE, UPDATE]).request
    assert (request.method, request.service, request.path) == ("POST", Service.ODATA, "$batch")
    assert request.headers["Prefer"] == "continue-on-error"
    assert request.json_body == encode_batch([CREATE, UPDATE])
    assert "Prefer" not in batch_call([CREATE], continue_on_error=False).request.headers


# --- parsing ----------------------------------------------------------------------------------------------------


def parse(document: object, ops: list[BatchOperation], continue_on_error: bool = True) -> list[BatchResult]:
    return batch_call(ops, continue_on_error).parse(answer(document))


def test_parse_all_succeeded_out_of_order() -> None:
    results = parse(
        {
            "responses": [
                {"id": "2", "status": 204, "headers": {}},
                {
                    "id": "1",
                    "status": 201,
                    "headers": {"content-type": "application/json"},
                    "body": {"Id": G1},
                },
            ]
        },
        [CREATE, UPDATE],
    )
    assert [(r.id, r.status, r.ok, r.error) for r in results] == [
        ("1", 201, True, None),
        ("2", 204, True, None),
    ]
    assert results[0].body == {"Id": G1}
    assert results[0].record_id == G1 and results[1].record_id == G2


def test_parse_the_answer_as_creatio_documents_it() -> None:
    """Lower-case header names, a GUID of the server's making as atomicityGroup, no body with a 204."""
    group = "ba4ac7f5-9b6c-4a0a-8ab6-7d4d0e0bca44"
    results = parse(
        {
            "responses": [
                {
                    "id": "1",
                    "atomicityGroup": group,
                    "status": 201,
                    "headers": {"location": f"https://x/0/odata/Contact({G1})", "odata-version": "4.0"},
                    "body": {"Id": G1, "Name": "New"},
                },
                {"id": "2", "atomicityGroup": group, "status": 204, "headers": {"odata-version": "4.0"}},
            ]
        },
        [CREATE, UPDATE],
    )
    assert [(r.status, r.ok, r.body, r.record_id) for r in results] == [
        (201, True, {"Id": G1, "Name": "New"}, G1),
        (204, True, None, G2),
    ]


def test_create_result_takes_the_id_creatio_answered() -> None:
    server_chosen = BatchOperation(BatchKind.CREATE, "Contact", None, {"Name": "x"})
    results = parse({"responses": [{"id": "1", "status": 201, "body": {"Id": G3.upper()}}]}, [server_chosen])
    assert results[0].record_id == G3


@pytest.mark.parametrize(
    ("continue_on_error", "message"),
    [
        pytest.param(False, "an earlier request in the batch failed", id="stopped"),
        pytest.param(True, "Creatio sent no answer", id="missing-despite-continue"),
    ],
)
def test_request_without_response_is_not_executed(continue_on_error: bool, message: str) -> None:
    document = {
        "responses": [
            {"id": "1", "status": 201},
            {"id": "2", "status": 404, "body": {"error": {"code": "", "message": "Not found"}}},
        ]
    }
    results = parse(document, [CREATE, UPDATE, DELETE], continue_on_error)
    assert [r.executed for r in results] == [True, True, False]
    assert results[1].error == "Not found" and not results[1].ok
    assert results[2].status is None and not results[2].ok
    assert message in (results[2].error or "")
    assert results[2].record_id == G3


def test_responses_without_ids_are_matched_by_order() -> None:
    results = parse({"responses": [{"status": 201}, {"status": 204}]}, [CREATE, UPDATE, DELETE])
    assert [r.status for r in results] == [201, 204, None]


def test_lenient_fields() -> None:
    document = {
        "responses": [
            {"id": 1, "status": "201", "body": json.dumps({"Id": G1})},  # int id, string status, body as text
            {"id": "2", "status": 400, "body": "plain failure text"},
            {"id": "99", "status": 500},  # no such request: ignored
            {"id": "3", "status": "bad"},
        ]
    }
    results = parse(document, [CREATE, UPDATE, DELETE])
    assert (results[0].status, results[0].ok, results[0].body) == (201, True, {"Id": G1})
    assert results[1].error == "plain failure text"
    assert results[2].status is None and results[2].error == "the answer for this request has no status"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            {"error": {"code": "", "message": "Column by path X not found"}},
            "Column by path X not found",
            id="odata",
        ),
        pytest.param({"error": {"code": "E42", "message": ""}}, "E42", id="odata-code-only"),
        pytest.param({"error": {"message": {"lang": "en", "value": "v3 text"}}}, "v3 text", id="odata-v3"),
        pytest.param(
            {
                "Message": "Duplicate key",
                "ExceptionType": "System.Data.SqlClient.SqlException",
                "StackTrace": None,
            },
            "Duplicate key",
            id="aspnet",
        ),
        pytest.param(
            {"Message": "No HTTP resource was found.", "MessageDetail": "No type named 'X'."},
            "No HTTP resource was found. No type named 'X'.",
            id="routing",
        ),
        pytest.param(" text ", "text", id="string"),
        pytest.param(None, None, id="none"),
        pytest.param({"unrelated": 1}, None, id="unknown-shape"),
        pytest.param([1], None, id="list"),
    ],
)
def test_error_message_from_each_shape(body: Any, message: str | None) -> None:
    assert message_from_json(body) == message


def test_failed_result_without_message_names_the_status() -> None:
    results = parse({"responses": [{"id": "1", "status": 500}]}, [UPDATE])
    assert results[0].error == "HTTP 500"


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(answer({"value": []}), id="no-responses"),
        pytest.param(answer({"responses": ["x"]}), id="responses-not-objects"),
        pytest.param(answer([{"id": "1", "status": 200}]), id="bare-list"),
        pytest.param(answer(b'{"responses": [', "application/json"), id="truncated"),
        pytest.param(answer(b"--batch_1\r\n", "multipart/mixed"), id="multipart"),
    ],
)
def test_unreadable_batch_answer(response: ApiResponse) -> None:
    with pytest.raises(CreatioResponseError) as err:
        batch_call([UPDATE]).parse(response)
    assert err.value.operation == "batch of 1 operations"


# --- existence lookups ------------------------------------------------------------------------------------------


def numbered_ids(count: int) -> list[str]:
    return [str(uuid.UUID(int=n + 1)) for n in range(count)]


def test_a_lookup_asks_for_20_ids_per_get_and_100_gets_per_batch() -> None:
    ids = numbered_ids(50)
    [call] = lookup_calls("Contact", [*ids, ids[0].upper()])  # the same Id twice is asked once
    request = call.request
    assert (request.method, request.service, request.path) == ("POST", Service.ODATA, "$batch")
    assert request.idempotency is Idempotency.SAFE and "Prefer" not in request.headers
    gets = request.json_body["requests"]
    assert [(item["id"], item["method"]) for item in gets] == [("1", "GET"), ("2", "GET"), ("3", "GET")]
    first = gets[0]["url"]
    assert first.startswith("Contact?$filter=Id%20eq%20") and first.endswith("&$select=Id&$top=20")
    assert first.count("%20or%20") == 19 and gets[2]["url"].endswith("&$top=10")
    assert lookup_ids_per_batch() == 2_000
    assert len(lookup_calls("Contact", numbered_ids(lookup_ids_per_batch() + 1))) == 2
    assert lookup_calls("Contact", []) == []
    with pytest.raises(CreatioValidationError, match="GUID"):
        lookup_calls("Contact", ["not-a-guid"])


@pytest.mark.parametrize(
    ("limit", "per_get"), [(4, 1), (8, 1), (9, 2), (99, 20), (100, 20), (104, 21), (500, 100)]
)
def test_every_lookup_filter_stays_within_the_node_limit(limit: int, per_get: int) -> None:
    assert lookup_ids_per_request(limit) == per_get
    [call] = lookup_calls("Contact", numbered_ids(per_get * 3), limit)
    for get in call.request.json_body["requests"]:
        conditions = unquote(get["url"].split("$filter=")[1].split("&")[0])
        nodes = filter_node_count(conditions)
        assert nodes is not None and nodes <= limit
        assert conditions.count("Id eq") == per_get


def test_a_lookup_answer_gives_the_ids_found_in_every_get() -> None:
    ids = numbered_ids(30)
    [call] = lookup_calls("Contact", ids)
    document = {
        "responses": [
            {"id": "2", "status": 200, "body": json.dumps({"value": [{"Id": ids[25].upper()}]})},
            {"id": "1", "status": 200, "body": {"value": [{"Id": ids[0]}, {"Id": ids[5]}]}},
        ]
    }
    assert call.parse(answer(document)) == {ids[0], ids[5], ids[25]}


@pytest.mark.parametrize(
    ("responses", "error", "message"),
    [
        pytest.param(
            [{"id": "1", "status": 400, "body": {"error": {"message": "Column by path Id not found"}}}],
            CreatioBadRequestError,
            "Column by path Id not found",
            id="failed-get",
        ),
        pytest.param([], CreatioResponseError, "no status", id="unanswered-get"),
        pytest.param(
            [{"id": "1", "status": 200, "body": {"rows": []}}],
            CreatioResponseError,
            "no 'value'",
            id="no-value",
        ),
    ],
)
def test_a_lookup_that_cannot_tell_fails(responses: list[Any], error: type[Exception], message: str) -> None:
    [call] = lookup_calls("Contact", numbered_ids(3))
    with pytest.raises(error, match=message) as caught:
        call.parse(answer({"responses": responses}))
    assert "existence lookup of 3 Contact Ids" in str(caught.value)
