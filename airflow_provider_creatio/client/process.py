"""ProcessEngineService.svc calls: build the request, decode the answer. No I/O here.

The calls are Execute (GET), RunProcess (POST), ExecProcElByUId and CancelExecution. Reading a started process's log
rows is :mod:`process_log`'s job, and the flow of a run (verdict, following, cancel) :mod:`process_flow`'s.

Parameter values (:func:`serialize_parameters`) travel as strings, the way Creatio's own
``IReadOnlyDictionary<string, string> parameterValues`` takes them:

* str as is; bool -> ``true`` / ``false``; int, float, Decimal -> plain decimal notation (no exponent);
* datetime -> ISO 8601 UTC with ``Z`` (a naive datetime is taken as UTC); date -> ``YYYY-MM-DD``;
  time -> ``HH:MM:SS``; UUID -> its string;
* list, tuple and dict -> compact JSON text, as Creatio's guide to the process service serializes collection and object-list parameters;
* None -> the parameter is left out, so the process keeps its default value. An empty string would not do:
  Creatio cannot convert ``""`` to a number, date, GUID or boolean parameter.
* Anything else (sets, bytes, arbitrary objects, NaN) is refused with :class:`CreatioValidationError`.

Answers of ``Execute`` are decoded by :func:`decode_execute_result`; see its docstring for the rules.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.errors import CreatioResponseError, CreatioValidationError
from airflow_provider_creatio.client.http import (
    MAX_BODY_BYTES,
    ApiRequest,
    ApiResponse,
    Call,
    Idempotency,
    Service,
    encode_query,
)
from airflow_provider_creatio.client.process_state import FINAL_STATES, RUN_PROCESS_STATES, ProcessState
from airflow_provider_creatio.client.responses import decode_json

SERVICE = "ProcessEngineService.svc"
SEND_JSON: Mapping[str, str] = {
    "Accept": "application/json",
    "Content-Type": "application/json; charset=utf-8",
}
RESULT_PARAMETER_NAME = "ResultParameterName"
URL_LIMIT = 2000  # IIS refuses query strings over 2048 bytes by default; keep a margin below it


# --- parameters ---------------------------------------------------------------------------------------------


def serialize_parameter(value: Any, argument: str) -> str | None:
    """One parameter value as Creatio takes it (module docstring); None means "leave the parameter out"."""
    if value is None or isinstance(value, str):
        return value
    if (text := validation.scalar_text(value, argument)) is not None:
        return text
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, (list, tuple, Mapping)):
        return json.dumps(
            validation.to_json_value(value, argument), ensure_ascii=False, separators=(",", ":")
        )
    raise CreatioValidationError(
        f"{argument} has a value of type {type(value).__name__}, which cannot be passed to a process "
        "(use str, int, float, Decimal, bool, None, UUID, date, datetime, list or dict)"
    )


def serialize_parameters(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Process parameter codes to their string values, in the given order; None values are left out."""
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise CreatioValidationError(
            f"process parameters must be a mapping of parameter codes to values, got {type(params).__name__}"
        )
    result: dict[str, str] = {}
    for code, value in params.items():
        validation.check_code(code, "process parameter name")
        text = serialize_parameter(value, f"process parameter {code!r}")
        if text is not None:
            result[code] = text
    return result


def result_names(names: str | Sequence[str] | None) -> list[str]:
    """None (or an empty text), one output parameter code, or several, as a list of checked codes."""
    if names is None or names == "":
        return []
    items = [names] if isinstance(names, str) else list(names)
    checked: list[str] = []
    for name in items:
        code = validation.check_code(name, "result parameter name")
        if code not in checked:
            checked.append(code)
    return checked


# --- Execute (GET) ------------------------------------------------------------------------------------------


def _execute_request(
    name: str, parameters: Mapping[str, Any] | None, result_parameter: str | None
) -> tuple[str, tuple[tuple[str, str], ...]]:
    code = validation.check_code(name, "process name")
    values = serialize_parameters(parameters)
    if any(key.lower() == RESULT_PARAMETER_NAME.lower() for key in values):
        raise CreatioValidationError(
            f"a process parameter cannot be called {RESULT_PARAMETER_NAME} in an Execute call; "
            "use run_process"
        )
    params = tuple(values.items())
    if result_parameter is not None:
        params = (
            (RESULT_PARAMETER_NAME, validation.check_code(result_parameter, "result parameter name")),
            *params,
        )
    return f"{SERVICE}/{code}/Execute", params


def fits_in_url(
    name: str,
    params: Mapping[str, Any] | None,
    limit: int = URL_LIMIT,
    result_parameter: str | None = None,
) -> bool:
    """True when an Execute call (path after the ServiceModel root, plus its encoded query) stays within
    ``limit`` characters; otherwise use :func:`run_process`, which sends the parameters in a POST body."""
    path, query = _execute_request(name, params, result_parameter)
    return len(path) + 1 + len(encode_query(query)) <= limit


def execute_process(
    name: str, parameters: Mapping[str, Any] | None = None, result_parameter: str | None = None
) -> Call[Any]:
    """GET ``{name}/Execute``: starts the process. Without ``result_parameter`` Creatio does not wait for it
    and the answer is None; with it, the decoded value of that parameter (None when the process has no such
    parameter).

    UNSAFE: every call starts a process, so a retry can start a second one."""
    path, params = _execute_request(name, parameters, result_parameter)
    operation = f"execute process {name}"
    if len(path) + 1 + len(encode_query(params)) > URL_LIMIT:
        # IIS refuses such a URL (404.15), which would read as "not found": refuse it here, clearly.
        raise CreatioValidationError(
            f"the parameters of process {name} are too long for a URL (over {URL_LIMIT} characters); "
            "use RunProcess (method='run'), which sends them in the body"
        )
    request = ApiRequest(
        "GET", Service.SERVICE_MODEL, path, params, idempotency=Idempotency.UNSAFE, operation=operation
    )
    return Call(request, lambda response: decode_execute_result(response, operation))


_WRAPPER_RE = re.compile(
    r"\A\s*(?:<\?xml[^>]*\?>\s*)?<string(?P<attrs>\s[^>]*?)?\s*(?:/>|>(?P<text>.*)</string>)\s*\Z", re.DOTALL
)
_NIL_RE = re.compile(r"""\bi:nil\s*=\s*["']true["']""")
_XML_ENTITY_RE = re.compile(r"&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));")
_NAMED_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def xml_unescape(text: str) -> str:
    """Replace XML character and entity references in one pass (``&amp;lt;`` becomes ``&lt;``, not ``<``)."""

    def replace_one(match: re.Match[str]) -> str:
        decimal_code, hex_code, name = match.groups()
        if name:
            return _NAMED_ENTITIES[name]
        return chr(int(decimal_code) if decimal_code else int(hex_code, 16))

    return _XML_ENTITY_RE.sub(replace_one, text)


def decode_execute_result(response: ApiResponse, operation: str = "execute process") -> Any:
    """The value of an Execute answer.

    1. An empty body (a fire-and-forget call) is None.
    2. The body is the WCF wrapper ``<string xmlns="http(s)://schemas.microsoft.com/2003/10/Serialization/">``
       (either namespace spelling; a JSON body is taken as the wrapper's text). ``i:nil="true"`` or an empty
       element is None. The text is XML-unescaped.
    3. The text is parsed as JSON (``null`` gives None). Text that is not JSON is returned as a plain string.
    4. A resulting string that looks like JSON (starts with ``{`` or ``[``) is parsed once more, so the documented
       object list becomes a list of dicts; if that fails the string is returned unchanged.

    A trailing comma before ``]`` or ``}`` (Creatio's ProcessEngineService documentation and reference both show one) is tolerated: a strictly invalid
    document is retried without such commas before it is given up as plain text.
    """
    if not response.content.strip():
        return None
    if response.content_type == "text/html":
        raise answer_error(response, operation, "expected the process result but got an HTML page")
    try:
        body = response.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise answer_error(response, operation, "the process result is not UTF-8 text") from None
    if response.content_type == "application/json" or body.lstrip()[:1] in ('"', "[", "{"):
        return decode_result_text(body)
    match = _WRAPPER_RE.match(body)
    if match is None:
        raise answer_error(response, operation, "expected the process result inside a <string> element")
    text = match.group("text")
    if text is None or _NIL_RE.search(match.group("attrs") or ""):
        return None
    try:
        unescaped = xml_unescape(text)
    except (ValueError, OverflowError):
        raise answer_error(
            response, operation, "the process result holds an invalid XML character reference"
        ) from None
    return decode_result_text(unescaped)


def decode_result_text(text: str) -> Any:
    """Steps 3 and 4 of :func:`decode_execute_result` (also used for RunProcess result values)."""
    stripped = text.strip()
    if not stripped:
        return None
    try:
        value = _loads_lenient(stripped)
    except ValueError:
        return stripped
    return decode_result_value(value)


def decode_result_value(value: Any) -> Any:
    """A string that holds a JSON object or list is parsed once; anything else is returned as is."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return _loads_lenient(value.strip())
        except ValueError:
            return value
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads_lenient(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        return json.loads(_drop_trailing_commas(text), parse_constant=_refuse_constant)


def _drop_trailing_commas(text: str) -> str:
    """``text`` without the commas (outside strings) that only whitespace separates from ``]`` or ``}``."""
    kept: list[str] = []
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            escaped = char == "\\" and not escaped
            in_string = char != '"' or escaped
        elif char == '"':
            in_string = True
        elif char == "," and _next_significant(text, index + 1) in ("]", "}"):
            continue
        kept.append(char)
    return "".join(kept)


def _next_significant(text: str, start: int) -> str:
    end = start
    while end < len(text) and text[end].isspace():
        end += 1
    return text[end : end + 1]


def answer_error(response: ApiResponse, operation: str, message: str) -> CreatioResponseError:
    """The error for an answer this module (or :mod:`process_log`) cannot read, without quoting its body."""
    return CreatioResponseError(
        message, status=response.status, method=response.method, path=response.path, operation=operation
    )


# --- RunProcess (POST) --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    """A RunProcess answer. ``status`` is the verdict; ``success`` only says if the launch was accepted."""

    process_id: str | None
    status: ProcessState
    status_code: int
    results: dict[str, Any] = field(default_factory=dict)
    success: bool = True
    error_code: str | None = None
    error_message: str | None = None
    process_name: str = ""

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for XCom."""
        return {
            "process_id": self.process_id,
            "process_name": self.process_name,
            "status": self.status.value,
            "status_code": self.status_code,
            "results": self.results,
            "success": self.success,
            "error_code": self.error_code,
            "error_message": self.error_message,
        }


def parse_run_process(document: Mapping[str, Any], process_name: str = "") -> ProcessRun:
    """A :class:`ProcessRun` from RunProcess JSON; ValueError when ``processStatus`` is missing or unknown."""
    raw_status = document.get("processStatus")
    if isinstance(raw_status, bool) or not isinstance(raw_status, (int, str)):
        raise ValueError(f"processStatus is missing or not a number: {validation.shown(raw_status)}")
    code = int(raw_status)
    if code not in RUN_PROCESS_STATES:
        raise ValueError(f"processStatus {code} is none of the documented 0 to 5")
    process_id = document.get("processId")
    process_id = validation.parse_guid(process_id, "processId") if validation.is_guid(process_id) else None
    if process_id == str(uuid.UUID(int=0)):
        process_id = None
    values = document.get("resultParameterValues")
    results = (
        {str(k): decode_result_value(value) for k, value in values.items()}
        if isinstance(values, dict)
        else {}
    )
    info = document.get("errorInfo")
    info = info if isinstance(info, dict) else {}
    return ProcessRun(
        process_id=process_id,
        status=RUN_PROCESS_STATES[code],
        status_code=code,
        results=results,
        success=document.get("success", True) is not False,  # absent: let the status decide
        error_code=text_or_none(info.get("errorCode")),
        error_message=text_or_none(info.get("message")),
        process_name=process_name,
    )


def text_or_none(value: object) -> str | None:
    """A text field of an answer or a log row; None when Creatio left it null or empty."""
    return str(value) if value not in (None, "") else None


def run_process(
    name: str, parameters: Mapping[str, Any] | None = None, result_parameters: str | Sequence[str] = ()
) -> Call[ProcessRun]:
    """POST RunProcess. Naming ``result_parameters`` makes Creatio wait for the process to finish; an unknown
    name aborts the launch (``success`` false). UNSAFE: a retry can start the process twice. The call does not
    raise for a failed process: :func:`process_flow.check_verdict` does."""
    code = validation.check_code(name, "process name")
    body = {
        "schemaName": code,
        "parameterValues": [
            {"name": k, "value": value} for k, value in serialize_parameters(parameters).items()
        ],
        "resultParameterNames": result_names(result_parameters),
    }
    operation = f"run process {code}"
    size = len(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    if size > MAX_BODY_BYTES:
        # ASP.NET's default request limit: Creatio would answer a 500 "Maximum request length exceeded".
        raise CreatioValidationError(
            f"the parameters of process {code} take {size} bytes; a RunProcess body can be at most 4 MiB"
        )

    def parse(response: ApiResponse) -> ProcessRun:
        document = decode_json(response, operation=operation)
        if not isinstance(document, dict):
            raise answer_error(response, operation, "expected a JSON object")
        try:
            return parse_run_process(document, code)
        except ValueError as exc:
            raise answer_error(response, operation, f"unexpected RunProcess answer: {exc}") from None

    request = ApiRequest(
        "POST",
        Service.SERVICE_MODEL,
        f"{SERVICE}/RunProcess",
        json_body=body,
        headers=SEND_JSON,
        idempotency=Idempotency.UNSAFE,
        operation=operation,
    )
    return Call(request, parse)


def exec_process_element(element_uid: str | uuid.UUID) -> Call[None]:
    """GET ExecProcElByUId/{uid}: run one element of a running process. SAFE: Creatio never runs an element
    twice. The answer is empty whether or not anything ran; read :func:`get_process_element` to know."""
    uid = validation.parse_guid(element_uid, "element_uid")
    request = ApiRequest(
        "GET",
        Service.SERVICE_MODEL,
        f"{SERVICE}/ExecProcElByUId/{uid}",
        operation=f"execute process element {uid}",
    )
    return Call(request, lambda response: None)


def cancel_process(process_id: str | uuid.UUID) -> Call[None]:
    """POST CancelExecution. SAFE: cancelling a process twice, or a finished one, changes nothing."""
    pid = validation.parse_guid(process_id, "process_id")
    request = ApiRequest(
        "POST",
        Service.SERVICE_MODEL,
        f"{SERVICE}/CancelExecution",
        json_body={"processId": pid},
        headers=SEND_JSON,
        operation=f"cancel process {pid}",
    )
    return Call(request, lambda response: None)
