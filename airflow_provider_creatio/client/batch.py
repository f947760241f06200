"""OData 4 ``$batch`` in the JSON format: encode up to 100 writes, parse the per-request answers, and existence
lookups (which Ids exist) as batches of GETs. No I/O here.

Request document (URLs relative to the OData root)::

    {"requests": [{"id": "1", "method": "POST", "url": "Contact", "headers": {...}, "body": {...}}, ...]}

Creatio stops at the first failed request unless ``Prefer: continue-on-error`` is sent; the answer is read as
the OData 4.01 JSON batch format ``{"responses": [{"id", "status", "headers", "body"}]}``, leniently:
responses are matched by ``id`` (by order when a response has none), ``headers`` and ``body`` may be missing,
and a request with no response was not executed.

Creatio has no upsert verb, and what a PATCH of a missing record does is the site's (the WSO2 Creatio connector reference: it creates it; the
OData protocol: 404): the bulk upsert (in :mod:`bulk`) first asks which Ids exist with :func:`lookup_calls`, then
sends each record as an update or a create.
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.errors import CreatioResponseError, CreatioValidationError
from airflow_provider_creatio.client.filter_nodes import (
    DEFAULT_MAX_FILTER_NODES,
    check_filter_nodes,
    filter_node_count,
)
from airflow_provider_creatio.client.http import (
    ApiRequest,
    ApiResponse,
    Call,
    Idempotency,
    Service,
    encode_query,
)
from airflow_provider_creatio.client.odata import (
    ACCEPT_JSON,
    JSON_CONTENT_TYPE,
    SEND_JSON,
    entity_path,
    record_body,
    record_path,
)
from airflow_provider_creatio.client.responses import (
    decode_json,
    error_for_response,
    message_from_json,
    unreadable,
)

MAX_BATCH_SIZE = 100  # Creatio's limit per $batch
CONTINUE_ON_ERROR: Mapping[str, str] = {"Prefer": "continue-on-error"}


class BatchKind(str, enum.Enum):
    CREATE = "create"  # POST Entity, with the Id in the body when known
    UPDATE = "update"  # PATCH Entity(id); a missing record is created or 404, as the site does
    DELETE = "delete"  # DELETE Entity(id); 404 when missing


@dataclass(frozen=True)
class BatchOperation:
    """One write in a batch. Build it with the class methods; they validate everything at once.

    ``BatchOperation.create`` always assigns an Id (a fresh uuid4 when none is given), which keeps the batch
    safe to retry. A CREATE built directly without ``record_id`` (nor ``data["Id"]``) lets Creatio choose the
    Id, and makes the whole batch unsafe to repeat."""

    kind: BatchKind
    entity: str
    record_id: str | None = None
    data: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        kind = BatchKind(self.kind)
        object.__setattr__(self, "kind", kind)
        validation.check_entity_name(self.entity)
        body = record_body(self.data or {}, "data") if kind is not BatchKind.DELETE else {}
        record_id = self.record_id if self.record_id is not None else body.get("Id")
        if record_id is not None:
            record_id = validation.parse_guid(record_id, "record_id")
        if (
            "Id" in body
            and body["Id"] is not None
            and validation.parse_guid(body["Id"], "data['Id']") != record_id
        ):
            raise CreatioValidationError(f"record_id {record_id} and data['Id'] {body['Id']} disagree")
        object.__setattr__(self, "record_id", record_id)
        self._check_shape()

    def _check_shape(self) -> None:
        if self.kind is not BatchKind.CREATE and self.record_id is None:
            raise CreatioValidationError(f"a batch {self.kind.value} of {self.entity} needs a record_id")
        if self.kind is BatchKind.DELETE and self.data:
            raise CreatioValidationError(f"a batch delete of {self.entity} takes no data")
        if self.kind is BatchKind.UPDATE and not self.body():
            raise CreatioValidationError(f"a batch {self.kind.value} of {self.entity} has no column to write")

    @classmethod
    def create(
        cls, entity: str, data: Mapping[str, Any], record_id: str | uuid.UUID | None = None
    ) -> BatchOperation:
        if record_id is None and not (isinstance(data, Mapping) and data.get("Id") is not None):
            record_id = uuid.uuid4()
        return cls(BatchKind.CREATE, entity, _id_text(record_id), data)

    @classmethod
    def update(cls, entity: str, record_id: str | uuid.UUID, data: Mapping[str, Any]) -> BatchOperation:
        return cls(BatchKind.UPDATE, entity, _id_text(record_id), data)

    @classmethod
    def delete(cls, entity: str, record_id: str | uuid.UUID) -> BatchOperation:
        return cls(BatchKind.DELETE, entity, _id_text(record_id))

    def body(self) -> dict[str, Any]:
        """The JSON body sent for this operation (the Id first for a create, no Id otherwise)."""
        if self.kind is BatchKind.DELETE:
            return {}
        columns = {k: value for k, value in record_body(self.data or {}, "data").items() if k != "Id"}
        if self.kind is BatchKind.CREATE and self.record_id is not None:
            return {"Id": self.record_id, **columns}
        return columns

    @property
    def idempotent(self) -> bool:
        """True when sending it twice has no extra effect: PATCH, DELETE, or a POST that carries its Id."""
        return self.kind is not BatchKind.CREATE or self.record_id is not None


@dataclass(frozen=True)
class BatchResult:
    """What happened to one operation. ``status`` is None when Creatio did not execute it."""

    id: str
    operation: BatchOperation
    record_id: str | None
    status: int | None
    ok: bool
    error: str | None = None
    body: Any = None

    @property
    def executed(self) -> bool:
        return self.status is not None

    def as_response(self) -> ApiResponse:
        """The sub-request's answer as an :class:`ApiResponse`, for the shared error classification."""
        return _sub_response(self.status or 0, self.body, _METHODS[self.operation.kind], _url(self.operation))


def batch_idempotency(ops: Iterable[BatchOperation]) -> Idempotency:
    """SAFE only when every operation is (PATCH, DELETE, POST with an Id); else UNSAFE."""
    return Idempotency.SAFE if all(op.idempotent for op in ops) else Idempotency.UNSAFE


def encode_batch(ops: Sequence[BatchOperation], continue_on_error: bool = True) -> dict[str, Any]:
    """The ``$batch`` JSON document; request ids are the 1-based positions as strings."""
    _check_batch(ops)
    return {"requests": [_encode_one(str(i), op, continue_on_error) for i, op in enumerate(ops, start=1)]}


def batch_call(ops: Sequence[BatchOperation], continue_on_error: bool = True) -> Call[list[BatchResult]]:
    """POST ``$batch``; the answer becomes one :class:`BatchResult` per operation, in the order of ``ops``."""
    ops = list(ops)
    document = encode_batch(ops, continue_on_error)
    operation = f"batch of {len(ops)} operations"
    headers = {**SEND_JSON, **(CONTINUE_ON_ERROR if continue_on_error else {})}
    request = ApiRequest(
        "POST",
        Service.ODATA,
        "$batch",
        json_body=document,
        headers=headers,
        idempotency=batch_idempotency(ops),
        operation=operation,
    )
    return Call(request, lambda response: parse_batch_response(response, ops, continue_on_error, operation))


def parse_batch_response(
    response: ApiResponse, ops: Sequence[BatchOperation], continue_on_error: bool, operation: str = "batch"
) -> list[BatchResult]:
    """One result per operation, matching responses by id (by order for a response without one)."""
    by_id = _match_responses(_response_items(response, operation), len(ops))
    missing = (
        "not executed: Creatio sent no answer for this request"
        if continue_on_error
        else "not executed: an earlier request in the batch failed"
    )
    return [_result(str(i), op, by_id.get(str(i)), missing) for i, op in enumerate(ops, start=1)]


def lookup_ids_per_request(max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES) -> int:
    """How many Ids one lookup GET names: as many as keep its ``$filter`` within ``max_filter_nodes``, measured
    by the node counter (20 at Creatio's default of 100: 4 nodes for the first ``Id eq``, 5 for each more)."""
    first = filter_node_count(_id_filter([_ANY_ID]))
    step = filter_node_count(_id_filter([_ANY_ID, _ANY_ID]))
    assert first is not None and step is not None  # the provider's own filter always parses
    return 1 + (max_filter_nodes - first) // (step - first)


def lookup_ids_per_batch(max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES) -> int:
    """How many Ids one lookup ``$batch`` checks: 100 GETs of :func:`lookup_ids_per_request` Ids."""
    return lookup_ids_per_request(max_filter_nodes) * MAX_BATCH_SIZE


def lookup_calls(
    entity: str, record_ids: Iterable[str | uuid.UUID], max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES
) -> list[Call[set[str]]]:
    """The ``$batch`` calls that tell which of ``record_ids`` exist: GETs of
    ``Entity?$filter=Id eq .. or Id eq ..&$select=Id&$top=n``, each filter within ``max_filter_nodes`` (20 Ids
    at the default of 100), 100 GETs per call (2,000 Ids). A lookup only reads (safe to retry); a GET that fails
    fails its call."""
    name = entity_path(entity)
    ids = list(dict.fromkeys(validation.parse_guid(record_id, "record_id") for record_id in record_ids))
    per_request = lookup_ids_per_request(max_filter_nodes)
    per_batch = per_request * MAX_BATCH_SIZE
    return [
        _lookup_call(name, ids[start : start + per_batch], per_request, max_filter_nodes)
        for start in range(0, len(ids), per_batch)
    ]


# --- helpers ------------------------------------------------------------------------------------------------

_ANY_ID = "00000000-0000-0000-0000-000000000000"  # a stand-in for measuring the lookup filter's shape

_METHODS = {
    BatchKind.CREATE: "POST",
    BatchKind.UPDATE: "PATCH",
    BatchKind.DELETE: "DELETE",
}


def _url(op: BatchOperation) -> str:
    if op.kind is BatchKind.CREATE or op.record_id is None:
        return entity_path(op.entity)
    return record_path(op.entity, op.record_id)


def _id_text(record_id: str | uuid.UUID | None) -> str | None:
    return None if record_id is None else str(record_id)


def _encode_one(request_id: str, op: BatchOperation, continue_on_error: bool) -> dict[str, Any]:
    # Creatio's own examples repeat the Prefer header inside each request as well as on the $batch POST.
    headers = dict(ACCEPT_JSON)
    if op.kind is not BatchKind.DELETE:
        headers["Content-Type"] = JSON_CONTENT_TYPE
    if continue_on_error:
        headers.update(CONTINUE_ON_ERROR)
    item: dict[str, Any] = {
        "id": request_id,
        "method": _METHODS[op.kind],
        "url": _url(op),
        "headers": headers,
    }
    if op.kind is not BatchKind.DELETE:
        item["body"] = op.body()
    return item


def _check_batch(ops: Sequence[BatchOperation]) -> None:
    if not ops:
        raise CreatioValidationError("a batch needs at least one operation")
    if len(ops) > MAX_BATCH_SIZE:
        raise CreatioValidationError(f"a batch holds at most {MAX_BATCH_SIZE} operations, got {len(ops)}")
    for op in ops:
        if not isinstance(op, BatchOperation):
            raise CreatioValidationError(
                f"batch items must be BatchOperation values, got {validation.shown(op)}"
            )


def _match_responses(items: list[dict[str, Any]], count: int) -> dict[str, dict[str, Any]]:
    expected = [str(i) for i in range(1, count + 1)]
    by_id = {str(item["id"]): item for item in items if item.get("id") is not None}
    unanswered = iter([request_id for request_id in expected if request_id not in by_id])
    for item in items:
        if item.get("id") is None:
            request_id = next(unanswered, None)
            if request_id is not None:
                by_id[request_id] = item
    return by_id


def _response_items(response: ApiResponse, operation: str) -> list[dict[str, Any]]:
    document = decode_json(response, operation=operation)
    items = document.get("responses") if isinstance(document, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise unreadable(response, "the $batch answer has no 'responses' list", operation, quote_body=False)
    return items


def _sub_response(status: int, body: Any, method: str, path: str) -> ApiResponse:
    """A sub-request's status and body as an :class:`ApiResponse` (``path`` relative to the OData root)."""
    content = b"" if body is None else json.dumps(body).encode("utf-8")
    return ApiResponse(status, {"content-type": "application/json"}, content, method=method, path=path)


def _lookup_call(entity: str, ids: list[str], per_request: int, max_filter_nodes: int) -> Call[set[str]]:
    groups = [ids[start : start + per_request] for start in range(0, len(ids), per_request)]
    document = {
        "requests": [
            {
                "id": str(i),
                "method": "GET",
                "url": _lookup_url(entity, group, max_filter_nodes),
                "headers": dict(ACCEPT_JSON),
            }
            for i, group in enumerate(groups, start=1)
        ]
    }
    operation = f"existence lookup of {len(ids)} {entity} Ids"
    # Without continue-on-error a failed GET ends the batch; the answers are read in order, so it is reported.
    request = ApiRequest(
        "POST", Service.ODATA, "$batch", json_body=document, headers=SEND_JSON, operation=operation
    )

    def parse(response: ApiResponse) -> set[str]:
        by_id = _match_responses(_response_items(response, operation), len(groups))
        found: set[str] = set()
        for request_id in range(1, len(groups) + 1):
            found |= _found_ids(entity, by_id.get(str(request_id)), response, operation)
        return found

    return Call(request, parse)


def _id_filter(ids: list[str]) -> str:
    return " or ".join(f"Id eq {record_id}" for record_id in ids)


def _lookup_url(entity: str, ids: list[str], max_filter_nodes: int) -> str:
    conditions = _id_filter(ids)
    # A sub-request's URL is not seen by the client's own check of $filter (session_flow), so it is measured here.
    check_filter_nodes(conditions, max_filter_nodes, f"the existence lookup of {entity}")
    return f"{entity}?{encode_query((('$filter', conditions), ('$select', 'Id'), ('$top', str(len(ids)))))}"


def _found_ids(
    entity: str, item: Mapping[str, Any] | None, response: ApiResponse, operation: str
) -> set[str]:
    status = None if item is None else _status(item)
    if item is None or status is None:
        raise unreadable(
            response, "Creatio sent no status for one of the lookup requests", operation, quote_body=False
        )
    body = _body(item)
    if not 200 <= status < 300:
        raise error_for_response(_sub_response(status, body, "GET", entity), operation=operation)
    rows = body.get("value") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise CreatioResponseError(
            "a lookup answer has no 'value' list of records",
            status=status,
            method="GET",
            path=entity,
            operation=operation,
        )
    return {validation.parse_guid(row.get("Id"), f"{entity} Id in the lookup answer") for row in rows}


def _status(item: Mapping[str, Any]) -> int | None:
    status = item.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    if isinstance(status, str) and status.strip().isdigit():
        return int(status)
    return None


def _body(item: Mapping[str, Any]) -> Any:
    body = item.get("body")
    if isinstance(body, str) and body.strip()[:1] in ("{", "["):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _result(request_id: str, op: BatchOperation, item: Mapping[str, Any] | None, missing: str) -> BatchResult:
    if item is None:
        return BatchResult(request_id, op, op.record_id, None, False, missing)
    status = _status(item)
    body = _body(item)
    if status is None:
        return BatchResult(
            request_id, op, op.record_id, None, False, "the answer for this request has no status", body
        )
    ok = 200 <= status < 300
    record_id = op.record_id
    if op.kind is BatchKind.CREATE and isinstance(body, dict) and validation.is_guid(body.get("Id")):
        record_id = validation.parse_guid(body["Id"], "Id")
    error = None if ok else (message_from_json(body) or f"HTTP {status}")
    return BatchResult(request_id, op, record_id, status, ok, error, body)
