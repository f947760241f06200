"""OData 4 entity requests: create, read, update, delete, list and count, against the entity store.

``handle`` is transport-free (an ``ODataRequest`` in, a ``Reply`` out) so that ``$batch`` runs its sub-requests
through exactly the same code as single requests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_creatio.testing.emulator import db_errors
from airflow_provider_creatio.testing.emulator.metadata import csdl_document
from airflow_provider_creatio.testing.emulator.odata_filter import FilterSyntaxError
from airflow_provider_creatio.testing.emulator.odata_limits import QueryLimitError, check_expand
from airflow_provider_creatio.testing.emulator.odata_query import (
    QueryError,
    compile_filter,
    parse_expand,
    parse_list_query,
    parse_select,
    project,
)
from airflow_provider_creatio.testing.emulator.odata_range import plan_range
from airflow_provider_creatio.testing.emulator.ram_limit import over_limit
from airflow_provider_creatio.testing.emulator.replies import (
    ODATA_JSON,
    TEXT,
    XML,
    Reply,
    media_type,
    method_not_allowed,
    odata_error,
    routing_error,
    unsupported_media_type,
)
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.store import (
    DuplicateIdError,
    EntityStore,
    MissingReferenceError,
    Record,
    RecordNotFoundError,
    StillReferencedError,
    StoreError,
    UnknownColumnError,
    UnknownEntityError,
    field_name,
)
from airflow_provider_creatio.testing.emulator.values import ZERO_GUID, normalize_guid

ODATA_HEADERS = {"OData-Version": "4.0"}
_WRITES = ("POST", "PATCH", "PUT", "DELETE")
_ENTITY_SEGMENT = re.compile(r"(?P<entity>[A-Za-z_]\w*)(?:\((?P<key>[^()]*)\))?")
_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Resource:
    """What a resource path names. OData 4 writes a key in parentheses (``Contact(<id>)``, or named:
    ``Contact(Id=<id>)``) or as a segment of its own (``Contact/<id>``, "key-as-segment"); either may be followed by a property (``/Name``) and its raw value
    (``/Name/$value``). ``Contact/$count`` counts the collection."""

    entity: str
    key: str | None = None
    count: bool = False
    property: str | None = None
    raw_value: bool = False


def parse_resource(path: str) -> Resource | None:
    """The resource a path below the OData root names; None if the path has no such shape."""
    first, *rest = path.split("/")
    match = _ENTITY_SEGMENT.fullmatch(first)
    if match is None:
        return None
    entity, key = match["entity"], match["key"]
    if rest == ["$count"] and key is None:
        return Resource(entity, count=True)
    if key is None and rest and rest[0] and not rest[0].startswith("$"):
        key, rest = rest[0], rest[1:]  # key-as-segment
    if not rest:
        return Resource(entity, key)
    if key is None or not _NAME.fullmatch(rest[0]) or rest[1:] not in ([], ["$value"]):
        return None
    return Resource(entity, key, property=rest[0], raw_value=rest[1:] == ["$value"])


@dataclass(frozen=True)
class ODataRequest:
    method: str
    path: str  # below the OData root, e.g. "Contact(12d2...)" or "Case/$count"
    params: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names
    body: bytes
    root_url: str  # absolute URL of the OData root, for @odata.context and Location


class _Refusal(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def handle(store: EntityStore, settings: EmulatorSettings, request: ODataRequest) -> Reply:
    try:
        reply = _dispatch(store, settings, request)
    except _Refusal as refusal:
        reply = refusal.reply
    except (QueryError, QueryLimitError, FilterSyntaxError) as exc:
        reply = odata_error(400, str(exc))
    except UnknownEntityError as exc:
        reply = routing_error(_url(request), exc.entity)
    except DuplicateIdError as exc:
        reply = db_errors.duplicate_id(exc, settings.net_core)
    except MissingReferenceError as exc:
        reply = db_errors.missing_reference(exc, settings.net_core)
    except StillReferencedError as exc:
        reply = db_errors.still_referenced(exc, settings.net_core)
    except RecordNotFoundError as exc:
        reply = odata_error(404, str(exc))
    except StoreError as exc:  # unknown column, bad value
        reply = odata_error(400, str(exc))
    written = int(request.method in _WRITES and reply.status < 400)
    return replace(reply, headers={**ODATA_HEADERS, **reply.headers}, records_written=written)


def _dispatch(store: EntityStore, settings: EmulatorSettings, request: ODataRequest) -> Reply:
    if request.path in ("", "/"):
        return _service_document(store, request)
    if request.path == "$metadata":
        return _only(request, "GET") or Reply(200, text=csdl_document(store), media_type=XML)
    resource = parse_resource(request.path)
    if resource is None or not store.has_entity(resource.entity):
        name = resource.entity if resource else request.path.split("/")[0].split("(")[0]
        return routing_error(_url(request), name)
    entity, key = resource.entity, resource.key
    if resource.count:
        return _only(request, "GET") or _count(store, settings, entity, request)
    if key is None:
        if request.method == "GET":
            return _list(store, settings, entity, request)
        return _only(request, "POST") or _create(store, entity, request)
    record_id = resource_id(key)
    if record_id is None:
        return odata_error(400, f"The key value '{key}' is not a valid Guid.")
    if resource.property in store.schema(entity).media:
        return _stream_elsewhere(entity, resource.property or "")
    if resource.property is not None:
        return _only(request, "GET") or _read_property(store, settings, resource, record_id, request)
    if request.method == "GET":
        return _read(store, settings, entity, record_id, request)
    if request.method == "PATCH":
        changes = _without_managed(store, entity, _json_object(request))
        _patch(store, settings, entity, record_id, changes)
        return Reply(204)
    if request.method == "DELETE":
        if not store.delete(entity, record_id):
            raise RecordNotFoundError(entity, record_id)
        return Reply(204)
    return method_not_allowed(request.method)


def _patch(
    store: EntityStore, settings: EmulatorSettings, entity: str, record_id: str, changes: Mapping[str, Any]
) -> None:
    """Update the record; of an Id no record has, create the record with that Id, as the WSO2 Creatio connector reference documents an update
    doing, unless ``settings.patch_missing`` is ``"404"`` (OData's answer for a missing entity)."""
    try:
        store.update(entity, record_id, changes)
    except RecordNotFoundError:
        if settings.patch_missing == "404":
            raise
        store.insert(entity, {**changes, "Id": record_id})


def resource_id(key: str) -> str | None:
    """The record Id a key names (``<id>``, ``'<id>'``, ``Id=<id>``), lower case; None if it is not a Guid."""
    return normalize_guid(_key_value(key).strip("'"))


def _stream_elsewhere(entity: str, name: str) -> Reply:
    """A stream property reached here came inside a ``$batch`` or with ``/$value``: its bytes travel only in a
    request of their own (``odata_streams.py``)."""
    return odata_error(
        400,
        f"The stream property {name} of {entity} is read and written only by a request of its own: "
        f"GET, PUT or DELETE {entity}(<id>)/{name}, not inside $batch and without $value.",
    )


def _without_managed(store: EntityStore, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """A write's columns without those the server sets itself (a file's Size and TotalSize, from its bytes): they
    are ignored, as Creatio manages them (creatio-api-py sends them when it makes a file record). Most writes name
    none, and go through as they are: no copy on the path of every create."""
    managed = store.schema(entity).managed
    if managed.isdisjoint(body):
        return body
    return {key: value for key, value in body.items() if key not in managed}


def _key_value(key: str) -> str:
    """The value of a key: OData 4 writes it bare (``Contact(<id>)``) or named after the key property
    (``Contact(Id=<id>)``). Any other name is left in, so the value is refused as not a Guid."""
    name, equals, value = key.partition("=")
    return value.strip() if equals and name.strip() == "Id" else key


def _only(request: ODataRequest, method: str) -> Reply | None:
    return None if request.method == method else method_not_allowed(request.method)


def _url(request: ODataRequest) -> str:
    return f"{request.root_url}/{request.path}"


def _service_document(store: EntityStore, request: ODataRequest) -> Reply:
    sets = [{"name": name, "kind": "EntitySet", "url": name} for name in store.entity_names()]
    return Reply(
        200, {"@odata.context": f"{request.root_url}/$metadata", "value": sets}, media_type=ODATA_JSON
    )


def _json_object(request: ODataRequest) -> dict[str, Any]:
    """The request body as a JSON object, without ``@odata.*`` annotations."""
    sent_type = media_type(request.headers)
    if sent_type != "application/json":
        raise _Refusal(unsupported_media_type(sent_type or "application/octet-stream"))
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise _Refusal(odata_error(400, "The request body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise _Refusal(odata_error(400, "The request body must be a JSON object."))
    return {key: value for key, value in body.items() if "@odata." not in key}


def _entity_body(store: EntityStore, entity: str, record: Record, root_url: str, full: bool) -> Record:
    """A single record as OData shows it; full records carry the media annotations of stream properties."""
    body: Record = {"@odata.context": f"{root_url}/$metadata#{entity}/$entity", **record}
    if full:
        link = f"{entity}({record['Id']})"
        for media in store.schema(entity).media:
            body[f"{media}@odata.mediaEditLink"] = f"{link}/{media}"
            body[f"{media}@odata.mediaReadLink"] = f"{link}/{media}"
            body[f"{media}@odata.mediaContentType"] = "application/octet-stream"
    return body


def _create(store: EntityStore, entity: str, request: ODataRequest) -> Reply:
    body = _without_managed(store, entity, _json_object(request))
    record = store.insert(entity, body)
    headers = {"Location": f"{request.root_url}/{entity}({record['Id']})"}
    body = _entity_body(store, entity, record, request.root_url, full=True)
    return Reply(201, body, media_type=ODATA_JSON, headers=headers)


def _read(
    store: EntityStore, settings: EmulatorSettings, entity: str, record_id: str, request: ODataRequest
) -> Reply:
    schema = store.schema(entity)
    if request.params.get("$expand"):
        check_expand(request.params["$expand"], settings.query_limits())
    select = parse_select(schema, request.params["$select"]) if request.params.get("$select") else None
    expand = parse_expand(store, schema, request.params["$expand"]) if request.params.get("$expand") else []
    record = store.get(entity, record_id)
    if record is None:
        raise RecordNotFoundError(entity, record_id)
    shown = project(store, record, select, expand)
    body = _entity_body(store, entity, shown, request.root_url, select is None)
    return Reply(200, body, media_type=ODATA_JSON, rows_returned=1)


def _read_property(
    store: EntityStore, settings: EmulatorSettings, resource: Resource, record_id: str, request: ODataRequest
) -> Reply:
    """``Entity(id)/Column``: ``{"value": ...}``; ``/$value``: the bare value as text; a lookup's navigation name:
    the record it points at. A null value (or an empty lookup) answers 204."""
    entity, name = resource.entity, resource.property or ""
    schema = store.schema(entity)
    record = store.get(entity, record_id)
    if record is None:
        raise RecordNotFoundError(entity, record_id)
    column = schema.columns.get(name)
    if column is not None and column.ref is not None and name not in schema.fields:
        target = (column.ref, record[field_name(name, column)])
        return _read_navigation(store, settings, target, request, resource.raw_value)
    if name not in schema.fields:
        raise UnknownColumnError(entity, name)
    value = record[name]
    if value is None:
        return Reply(204)
    if resource.raw_value:
        return Reply(200, text=_raw_text(value), media_type=TEXT, rows_returned=1)
    context = f"{request.root_url}/$metadata#{entity}({record_id})/{name}"
    return Reply(200, {"@odata.context": context, "value": value}, media_type=ODATA_JSON, rows_returned=1)


def _read_navigation(
    store: EntityStore,
    settings: EmulatorSettings,
    target_record: tuple[str, str],
    request: ODataRequest,
    raw_value: bool,
) -> Reply:
    target, target_id = target_record
    if raw_value:
        return odata_error(
            400, "The $value segment applies to a primitive property, not to a navigation property."
        )
    if target_id == ZERO_GUID:
        return Reply(204)
    if not store.has_entity(target):
        raise RecordNotFoundError(target, target_id)
    return _read(store, settings, target, target_id, request)


def _raw_text(value: object) -> str:
    """A primitive value as ``$value`` writes it: text as is, booleans in lower case, numbers as JSON writes them."""
    return value if isinstance(value, str) else json.dumps(value)


def _list(store: EntityStore, settings: EmulatorSettings, entity: str, request: ODataRequest) -> Reply:
    query = parse_list_query(store, entity, request.params, settings.query_limits())
    # The server caps every page, whatever $top asks for; a client must page with $skip.
    top = settings.max_page_size if query.top is None else min(query.top, settings.max_page_size)
    where, ids = query.filter or (None, None)
    filter_text, orderby = query.cache_key
    plan = plan_range(store, entity, filter_text, orderby, query.skip) if ids is None else None
    if plan is not None:
        result = store.query_range(
            entity, plan.sorted_by, plan.bounds, where if plan.residual else None, top, backward=plan.backward
        )
    else:
        result = store.query(entity, where, query.order, query.skip, top, ids=ids, cache_key=query.cache_key)
    rows_read = result.read
    body: Record = {"@odata.context": f"{request.root_url}/$metadata#{entity}"}
    if query.count:
        counted = store.query(entity, where, top=0, ids=ids, cache_key=(filter_text, ""))
        rows_read += counted.read
        body["@odata.count"] = str(counted.total) if _ieee754(request) else counted.total
    rows = [project(store, row, query.select, query.expand) for row in result.rows]
    refusal = over_limit(settings.max_read_memory_mb, rows)
    if refusal is not None:
        return replace(refusal, rows_read=rows_read)
    body["value"] = rows
    return Reply(200, body, media_type=ODATA_JSON, rows_read=rows_read, rows_returned=len(rows))


def _count(store: EntityStore, settings: EmulatorSettings, entity: str, request: ODataRequest) -> Reply:
    text = request.params.get("$filter", "")
    where, ids = compile_filter(store, entity, text, settings.query_limits()) if text else (None, None)
    counted = store.query(entity, where, top=0, ids=ids, cache_key=(text, ""))
    return Reply(200, text=str(counted.total), media_type=TEXT, rows_read=counted.read)


def _ieee754(request: ODataRequest) -> bool:
    """IEEE754Compatible=true asks for Int64 values (such as @odata.count) as JSON strings."""
    wanted = f"{request.headers.get('accept', '')};{request.headers.get('content-type', '')}"
    return "ieee754compatible=true" in wanted.replace(" ", "").lower()
