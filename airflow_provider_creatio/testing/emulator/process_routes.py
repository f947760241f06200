"""``ProcessEngineService.svc`` (paths relative to a ServiceModel root; the gate has checked auth already).

- ``GET {Process}/Execute?ResultParameterName=..&param=value``: without ResultParameterName, start and answer
  200 with an empty body; with it, run until the process ends (or waits on an element) and answer the output as
  ``<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">`` + XML-escaped JSON + ``</string>``.
  An unknown process is a 500 ``ItemNotFoundException`` (where-the-sources-are-silent.md).
- ``POST RunProcess`` ``{"schemaName", "parameterValues": [{"name", "value"}], "resultParameterNames"}``: answers
  ``{"processId", "processStatus", "resultParameterValues", "executionData", "success", "errorInfo"}``.
- ``GET ExecProcElByUId/{uid}``: runs a waiting element; 200 with an empty body whatever happened.
- ``POST CancelExecution`` ``{"processId"}``: 200 with an empty body whatever happened.

The engine behind them is one :class:`ProcessEngine` per emulator state, with the demo processes registered;
``engine_for(state)`` returns it (tests register their own processes and read start counts there).
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_creatio.testing.emulator.demo_processes import register_demo_processes
from airflow_provider_creatio.testing.emulator.process_definitions import (
    ProcessDefinition,
    UnknownProcessError,
)
from airflow_provider_creatio.testing.emulator.process_engine import ProcessEngine
from airflow_provider_creatio.testing.emulator.process_instance import ProcessInstance
from airflow_provider_creatio.testing.emulator.process_log import ProcessStatus
from airflow_provider_creatio.testing.emulator.process_parameters import ParameterValueError
from airflow_provider_creatio.testing.emulator.replies import (
    JSON,
    Reply,
    aspnet_error,
    media_type,
    unsupported_media_type,
)
from airflow_provider_creatio.testing.emulator.state import EmulatorState

SERVICE = "/ProcessEngineService.svc"
SERIALIZATION_NAMESPACE = "http://schemas.microsoft.com/2003/10/Serialization/"
XML = "application/xml; charset=utf-8"
RESULT_PARAMETER = "ResultParameterName"
NOT_FOUND_EXCEPTION = "Terrasoft.Common.ItemNotFoundException"
FORMAT_EXCEPTION = "System.FormatException"
PROCESS_ERROR_CODE = "ProcessExecutionException"

_ENGINES: weakref.WeakKeyDictionary[EmulatorState, ProcessEngine] = weakref.WeakKeyDictionary()


def engine_for(state: EmulatorState) -> ProcessEngine:
    """The process engine of an emulator state, created on first use with the demo processes registered.

    Every reset of the state cancels the running instances, forgets them and their start counts, and defines
    the process log entities again; registrations survive.
    """
    engine = _ENGINES.get(state)
    if engine is None:
        engine = ProcessEngine(state.store)
        register_demo_processes(engine)
        state.register_schema(lambda _store: engine.reset())
        _ENGINES[state] = engine
    return engine


def routes(state: EmulatorState) -> list[Route]:
    service = ProcessEngineService(engine_for(state))
    return [
        Route(f"{SERVICE}/RunProcess", service.run_process, methods=["POST"]),
        Route(f"{SERVICE}/CancelExecution", service.cancel_execution, methods=["POST"]),
        Route(f"{SERVICE}/ExecProcElByUId/{{uid}}", service.execute_element, methods=["GET"]),
        Route(f"{SERVICE}/{{name}}/Execute", service.execute, methods=["GET"]),
    ]


def execute_body(value: Any) -> str:
    """The Execute answer: the JSON text of ``value``, XML-escaped, in the WCF serializer's ``<string>``."""
    text = json.dumps(value, ensure_ascii=False)
    return f'<string xmlns="{SERIALIZATION_NAMESPACE}">{escape(text)}</string>'


def run_process_answer(instance: ProcessInstance, result_names: list[str]) -> dict[str, Any]:
    status, values = instance.snapshot(result_names)
    error_info = None
    if status is ProcessStatus.ERROR:
        # The real text stays in SysProcessLog.ErrorDescription (where-the-sources-are-silent.md).
        error_info = {
            "errorCode": PROCESS_ERROR_CODE,
            "message": f'Process "{instance.name}" finished with an error.',
        }
    return {
        "processId": instance.id,
        "processStatus": int(status),
        "resultParameterValues": values,
        "executionData": None,
        "success": True,
        "errorInfo": error_info,
    }


def launch_failed(error_code: str, message: str) -> dict[str, Any]:
    """A RunProcess answer for a process that was never started."""
    return {
        "processId": None,
        "processStatus": int(ProcessStatus.INACTIVE),
        "resultParameterValues": {},
        "executionData": None,
        "success": False,
        "errorInfo": {"errorCode": error_code, "message": message},
    }


class RunProcessRequest:
    """A parsed RunProcess body; ``error`` holds the 400 answer when the body is not the documented shape."""

    def __init__(self, body: Any) -> None:
        self.error: str | None = None
        self.schema_name: str | None = None
        self.schema_uid: str | None = None
        self.values: dict[str, Any] = {}
        self.result_names: list[str] = []
        if not isinstance(body, dict):
            self.error = "The request body must be a JSON object."
            return
        self.schema_name = _optional_text(body.get("schemaName"))
        self.schema_uid = _optional_text(body.get("schemaUId"))
        self._read_values(body.get("parameterValues"))
        self._read_result_names(body.get("resultParameterNames"))

    def _read_values(self, items: Any) -> None:
        if items is None:
            return
        if not isinstance(items, list) or not all(
            isinstance(item, dict) and isinstance(item.get("name"), str) for item in items
        ):
            self.error = 'parameterValues must be a list of {"name", "value"} objects.'
            return
        # A null value leaves the parameter at its default, as an omitted one does.
        self.values = {item["name"]: item["value"] for item in items if item.get("value") is not None}

    def _read_result_names(self, names: Any) -> None:
        if names is None:
            return
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            self.error = "resultParameterNames must be a list of strings."
            return
        self.result_names = names


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class ProcessEngineService:
    def __init__(self, engine: ProcessEngine) -> None:
        self.engine = engine

    async def execute(self, request: Request) -> Response:
        name = request.path_params["name"]
        values = dict(request.query_params)
        result_name = values.pop(RESULT_PARAMETER, "")
        try:
            instance = self.engine.start(name, values)
        except UnknownProcessError as exc:
            return aspnet_error(500, str(exc), NOT_FOUND_EXCEPTION).to_response()
        except ParameterValueError as exc:
            return aspnet_error(500, str(exc), FORMAT_EXCEPTION).to_response()
        if not result_name:
            await instance.settle(through_sleeps=False)
            return Response(None, 200)
        await instance.settle(through_sleeps=True)
        # Whatever the run's outcome, the answer is the output's value: a failed run may have set it.
        return Response(execute_body(instance.output_value(result_name)), 200, media_type=XML)

    async def run_process(self, request: Request) -> Response:
        sent_type = media_type(request.headers)
        if sent_type != "application/json":
            return unsupported_media_type(sent_type or "application/octet-stream").to_response()
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        parsed = RunProcessRequest(body)
        if parsed.error is not None:
            return _bad_request(parsed.error)
        definition = self._definition(parsed)
        if definition is None:
            name = parsed.schema_name or parsed.schema_uid or ""
            return _json(launch_failed("ItemNotFoundException", f'Item with name "{name}" not found.'))
        unknown = [name for name in parsed.result_names if definition.output(name) is None]
        if unknown:
            message = f'Process "{definition.name}" has no parameter "{unknown[0]}".'
            return _json(launch_failed("ArgumentException", message))
        try:
            instance = self.engine.start(definition.name, parsed.values)
        except UnknownProcessError as exc:  # unregistered since the look-up above
            return _json(launch_failed("ItemNotFoundException", str(exc)))
        except ParameterValueError as exc:
            return _json(launch_failed("FormatException", str(exc)))
        await instance.settle(through_sleeps=bool(parsed.result_names))
        return _json(run_process_answer(instance, parsed.result_names))

    async def execute_element(self, request: Request) -> Response:
        instance = self.engine.execute_element(request.path_params["uid"])
        if instance is not None:
            # The process goes on in this call until it next pauses, as after a start.
            await instance.settle(through_sleeps=False)
        return Response(None, 200)

    async def cancel_execution(self, request: Request) -> Response:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return _bad_request("The request body is not valid JSON.")
        process_id = body.get("processId") if isinstance(body, dict) else None
        if isinstance(process_id, str):
            self.engine.cancel(process_id)
        return Response(None, 200)

    def _definition(self, parsed: RunProcessRequest) -> ProcessDefinition | None:
        if parsed.schema_name is not None:
            return self.engine.definition(parsed.schema_name)
        if parsed.schema_uid is not None:
            return self.engine.definition_by_schema_id(parsed.schema_uid)
        return None


def _json(body: Mapping[str, Any]) -> Response:
    return Reply(200, body, media_type=JSON).to_response()


def _bad_request(message: str) -> Response:
    return aspnet_error(400, message, "System.Runtime.Serialization.SerializationException").to_response()
