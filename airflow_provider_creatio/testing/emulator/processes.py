"""The emulated process engine: a registry of processes written as Python callables, and their running instances.

A process is declared with typed input and output parameters, an optional simulated duration, an optional
configured failure and optional *waiting elements* (user tasks that pause the instance until
``ProcessEngineService.svc/ExecProcElByUId`` runs them). Every instance runs on its own thread, and its state lives
in the store, where OData serves it like Creatio does:

- ``SysProcessStatus``: the six statuses, with Creatio's ids;
- ``SysProcessLog``: one row per instance, ``Id`` = the ``processId`` RunProcess answers;
- ``SysProcessElementLog``: one row per element instance, ``Id`` = the UID that ``ExecProcElByUId`` takes;
- ``SysSchema``: one row per registered process (``Id`` = its stable ``SysSchemaId``, ``Name``, ``Caption``).

An instance runs its declared waiting elements in order, then one script-task element (``ScriptTask1``) that
sleeps for the declared duration, calls the body and, if a failure is configured, fails after the body has set its
outputs (so an output can exist on a failed run, as on a real site). A body may also call ``ctx.sleep`` and
``ctx.wait_for`` itself.

*Pause points* decide when an answer can be given without waiting for the end (see
docs/creatio-notes/process-runs-until-it-pauses.md): a call that does not wait for results returns once the instance
sleeps, waits on an element or ends; a call that waits for results returns once it waits on an element or ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_creatio.testing.emulator.store import (
    Column,
    EntityStore,
    RecordNotFoundError,
    UnknownEntityError,
)
from airflow_provider_creatio.testing.emulator.values import normalize_datetime, normalize_guid, now_iso

ParameterType = Literal["text", "int", "float", "bool", "datetime", "guid", "collection"]
PARAMETER_TYPES: tuple[str, ...] = ("text", "int", "float", "bool", "datetime", "guid", "collection")

PROCESS_LOG = "SysProcessLog"
ELEMENT_LOG = "SysProcessElementLog"
STATUS_ENTITY = "SysProcessStatus"
SCHEMA_ENTITY = "SysSchema"
SCRIPT_ELEMENT = ("ScriptTask1", "Script task")

# Stable SysSchema ids: the same process name always gets the same SysSchemaId.
_SCHEMA_NAMESPACE = uuid.UUID("4f1c7d52-2b0e-4b8e-9a55-6d3c0f3e8a17")
_INTEGER = re.compile(r"[+-]?\d+")


class ProcessStatus(enum.IntEnum):
    """RunProcess's ``processStatus`` numbers; ``status_id`` is the matching SysProcessStatus row."""

    INACTIVE = 0
    RUNNING = 1
    DONE = 2
    ERROR = 3
    CANCELED = 4
    CANCELLING = 5

    @property
    def status_id(self) -> str:
        return _STATUS_ROWS[self][0]

    @property
    def log_name(self) -> str:
        return _STATUS_ROWS[self][1]


_STATUS_ROWS: dict[ProcessStatus, tuple[str, str]] = {
    ProcessStatus.RUNNING: ("ed2ae277-b6e2-df11-971b-001d60e938c6", "Running"),
    ProcessStatus.DONE: ("815c9586-b6e2-df11-971b-001d60e938c6", "Completed"),
    ProcessStatus.ERROR: ("f942c08d-b6e2-df11-971b-001d60e938c6", "Error"),
    ProcessStatus.CANCELED: ("1be78f3e-234d-4d6a-869a-dc07253fd2f3", "Canceled"),
    ProcessStatus.INACTIVE: ("67700d9c-28ac-46ef-9037-b81a53b7b330", "Inactive"),
    ProcessStatus.CANCELLING: ("006f6d7a-6d9a-4e8c-bf5f-2ddac8b3df9a", "Cancelling"),
}

LOG_ENTITIES: dict[str, dict[str, Column]] = {
    STATUS_ENTITY: {"Name": Column("text")},
    SCHEMA_ENTITY: {"Name": Column("text"), "Caption": Column("text")},
    PROCESS_LOG: {
        "Name": Column("text"),
        "Caption": Column("text"),
        "Status": Column("lookup", STATUS_ENTITY),
        "StartDate": Column("datetime"),
        "CompleteDate": Column("datetime"),
        "ErrorDescription": Column("text"),
        "SysSchema": Column("lookup", SCHEMA_ENTITY),
    },
    ELEMENT_LOG: {
        "SysProcess": Column("lookup", PROCESS_LOG),
        "Name": Column("text"),
        "Caption": Column("text"),
        "Status": Column("lookup", STATUS_ENTITY),
        "StartDate": Column("datetime"),
        "CompleteDate": Column("datetime"),
    },
}


class UnknownProcessError(LookupError):
    """No process with that schema name is registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f'Item with name "{name}" not found.')
        self.name = name


class ParameterValueError(ValueError):
    """An input value that cannot be converted to its parameter's type: the process is not started."""


class ProcessFailure(Exception):
    """Raised by a process body to fail the instance; the message becomes SysProcessLog.ErrorDescription."""


class _Cancelled(Exception):
    """Unwinds an instance thread after CancelExecution."""


@dataclass(frozen=True)
class Parameter:
    """A process parameter: its code (``name``), its type and, for inputs, the value used when none is sent."""

    name: str
    type: ParameterType = "text"
    default: Any = None

    def __post_init__(self) -> None:
        if self.type not in PARAMETER_TYPES:
            raise ValueError(
                f"unknown parameter type {self.type!r}; expected one of {', '.join(PARAMETER_TYPES)}"
            )


@dataclass(frozen=True)
class WaitingElement:
    """An element (a user task, say) that pauses the instance until ExecProcElByUId runs it."""

    name: str
    caption: str = ""


ProcessBody = Callable[["ProcessContext"], Mapping[str, Any] | None]


@dataclass(frozen=True)
class ProcessDefinition:
    """One registered process.

    ``body`` gets a :class:`ProcessContext` and may return output values (or set them with ``ctx.set_output``).
    It fails the instance by raising (``ProcessFailure`` for a clean message). ``error_description`` fails every
    run after the body has returned, with that text.
    """

    name: str
    body: ProcessBody | None = None
    inputs: tuple[Parameter, ...] = ()
    outputs: tuple[Parameter, ...] = ()
    duration: float = 0.0
    error_description: str | None = None
    waiting_elements: tuple[WaitingElement, ...] = ()
    caption: str = ""
    schema_id: str = field(init=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a process needs a name")
        if self.duration < 0 or not math.isfinite(self.duration):
            raise ValueError("duration must be a finite number of seconds >= 0")
        object.__setattr__(self, "schema_id", str(uuid.uuid5(_SCHEMA_NAMESPACE, self.name)))

    def output(self, name: str) -> Parameter | None:
        return next((parameter for parameter in self.outputs if parameter.name == name), None)


# -- parameter values --------------------------------------------------------------------------------------------


def convert_input(parameter: Parameter, value: Any) -> Any:
    """The typed value of an input sent as a query-string text or a JSON value; ParameterValueError if it does not fit.

    Texts are read the way Creatio's string-keyed ``parameterValues`` are: numbers in invariant form,
    ``true``/``false``, ISO 8601 dates, and JSON text for collections (seed 001).
    """
    try:
        return _CONVERTERS[parameter.type](value)
    except (ValueError, TypeError) as exc:
        raise ParameterValueError(
            f"Value of parameter {parameter.name} cannot be converted to {parameter.type}: {exc}"
        ) from None


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    raise ValueError("expected an integer")


def _to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("expected true or false")


def _to_guid(value: Any) -> str:
    guid = normalize_guid(value.strip() if isinstance(value, str) else value)
    if guid is None:
        raise ValueError("expected a GUID")
    return guid


def _to_collection(value: Any) -> list[Any]:
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, list):
        raise ValueError("expected a JSON array")
    return parsed


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _to_text,
    "int": _to_int,
    "float": _to_float,
    "bool": _to_bool,
    "datetime": normalize_datetime,
    "guid": _to_guid,
    "collection": _to_collection,
}


def wire_value(parameter: Parameter | None, value: Any) -> Any:
    """An output value as the service answers it: collections as JSON text (seed 000), the rest as JSON values."""
    if value is None or parameter is None:
        return value
    if parameter.type == "collection":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if parameter.type == "datetime":
        return normalize_datetime(value)
    return value


# -- instances ---------------------------------------------------------------------------------------------------


class _Phase(enum.Enum):
    ACTIVE = "active"  # executing code: no answer can be given yet
    SLEEPING = "sleeping"  # inside a simulated duration
    WAITING = "waiting"  # on a waiting element
    FINISHED = "finished"


class ProcessContext:
    """What a process body sees: its inputs, its outputs, the store, and cancellable sleep and wait."""

    def __init__(self, instance: ProcessInstance) -> None:
        self._instance = instance

    @property
    def process_id(self) -> str:
        return self._instance.id

    @property
    def inputs(self) -> Mapping[str, Any]:
        return self._instance.inputs

    @property
    def store(self) -> EntityStore:
        return self._instance.engine.store

    def set_output(self, name: str, value: Any) -> None:
        self._instance.set_output(name, value)

    def sleep(self, seconds: float) -> None:
        """Simulated work; returns early (unwinding the body) if the instance is cancelled."""
        self._instance.sleep(seconds)

    def wait_for(self, name: str, caption: str = "") -> str:
        """Log a Running element and pause until ExecProcElByUId runs it; returns its UID."""
        return self._instance.wait_for(WaitingElement(name, caption))


class ProcessInstance:
    """One run of a process. All mutable state is guarded by ``_condition``.

    The condition is built on the store's lock: an instance's state and its log rows change together, and no
    lock order can deadlock with an emulator reset (which calls ``ProcessEngine.reset`` under that lock).
    """

    def __init__(self, engine: ProcessEngine, definition: ProcessDefinition, inputs: dict[str, Any]) -> None:
        self.engine = engine
        self.definition = definition
        self.inputs = inputs
        self.id = engine.store.new_id()
        self._condition = threading.Condition(engine.store.lock)
        self._status = ProcessStatus.RUNNING
        self._phase = _Phase.ACTIVE
        self._outputs: dict[str, Any] = {}
        self._error_description = ""
        self._open_elements: set[str] = set()
        self._waiting: list[str] = []
        self._executed: list[str] = []
        self._watchers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    # -- what callers read ----------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def status(self) -> ProcessStatus:
        with self._condition:
            return self._status

    @property
    def error_description(self) -> str:
        with self._condition:
            return self._error_description

    @property
    def outputs(self) -> dict[str, Any]:
        with self._condition:
            return dict(self._outputs)

    @property
    def waiting_elements(self) -> list[str]:
        """UIDs of the elements waiting for ExecProcElByUId, oldest first."""
        with self._condition:
            return list(self._waiting)

    @property
    def executed_elements(self) -> list[str]:
        """UIDs that ExecProcElByUId ran, in order (each at most once)."""
        with self._condition:
            return list(self._executed)

    def output_value(self, name: str) -> Any:
        """The wire form of an output; None for an unknown or unset one (as Execute answers)."""
        with self._condition:
            return wire_value(self.definition.output(name), self._outputs.get(name))

    def snapshot(self, output_names: Iterable[str]) -> tuple[ProcessStatus, dict[str, Any]]:
        """The status and the wire form of some outputs, read together."""
        with self._condition:
            return self._status, {name: self.output_value(name) for name in output_names}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the instance has ended; False on timeout. For tests and Python callers."""
        with self._condition:
            return self._condition.wait_for(lambda: self._phase is _Phase.FINISHED, timeout)

    def wait_until_paused(self, timeout: float | None = None) -> bool:
        """Block until the instance waits on an element or has ended; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._phase in (_Phase.WAITING, _Phase.FINISHED), timeout)

    async def settle(self, *, through_sleeps: bool) -> None:
        """Wait (without blocking the event loop) for the next point where an answer can be given.

        ``through_sleeps=False``: until the instance sleeps, waits on an element or ends (a start that does not
        wait for results). ``True``: until it waits on an element or ends (a start that asks for results).
        """
        resting = (
            {_Phase.WAITING, _Phase.FINISHED}
            if through_sleeps
            else {_Phase.SLEEPING, _Phase.WAITING, _Phase.FINISHED}
        )
        watcher = (asyncio.get_running_loop(), asyncio.Event())
        with self._condition:
            self._watchers.add(watcher)
        try:
            while True:
                with self._condition:
                    if self._phase in resting:
                        return
                    watcher[1].clear()
                await watcher[1].wait()
        finally:
            with self._condition:
                self._watchers.discard(watcher)

    # -- what the body and the service do -------------------------------------------------------------------------

    def set_output(self, name: str, value: Any) -> None:
        if self.definition.output(name) is None:
            raise ProcessFailure(f'Parameter "{name}" not found in process "{self.name}".')
        with self._condition:
            self._outputs[name] = value

    def sleep(self, seconds: float) -> None:
        with self._condition:
            self._raise_if_cancelled()
            if seconds <= 0:
                return
            self._set_phase(_Phase.SLEEPING)
            self._condition.wait_for(lambda: self._phase is _Phase.FINISHED, seconds)
            self._raise_if_cancelled()
            self._set_phase(_Phase.ACTIVE)

    def wait_for(self, element: WaitingElement) -> str:
        with self._condition:
            uid = self._open_element(element.name, element.caption)
            self.engine.own_element(uid, self)
            self._waiting.append(uid)
            self._set_phase(_Phase.WAITING)
            self._condition.wait_for(lambda: uid in self._executed or self._phase is _Phase.FINISHED)
            self._raise_if_cancelled()
        return uid

    def execute_element(self, uid: str) -> bool:
        """Run a waiting element: it completes and the instance goes on. False if it is not waiting (any more)."""
        with self._condition:
            if self._phase is _Phase.FINISHED or uid not in self._waiting:
                return False
            self._waiting.remove(uid)
            self._executed.append(uid)
            self._close_element(uid, ProcessStatus.DONE)
            # Active again at once, so that a caller settling right after this sees the run go on.
            self._set_phase(_Phase.ACTIVE)
            return True

    def cancel(self) -> bool:
        """Stop the instance: log row and open elements become Canceled. False if it had already ended."""
        with self._condition:
            if self._phase is _Phase.FINISHED:
                return False
            for uid in list(self._open_elements):
                self._close_element(uid, ProcessStatus.CANCELED)
            self._waiting.clear()
            self._end(ProcessStatus.CANCELED)
            return True

    # -- the instance thread --------------------------------------------------------------------------------------

    def run(self) -> None:
        context = ProcessContext(self)
        script_uid: str | None = None
        try:
            for element in self.definition.waiting_elements:
                self.wait_for(element)
            with self._condition:
                script_uid = self._open_element(*SCRIPT_ELEMENT)
            self.sleep(self.definition.duration)
            self._run_body(context)
            if self.definition.error_description is not None:
                raise ProcessFailure(self.definition.error_description)
        except _Cancelled:
            return
        except Exception as exc:  # noqa: BLE001 - any error in a body is a failed process, as on a real site
            self._fail(script_uid, _describe(exc))
            return
        self._complete(script_uid)

    def _run_body(self, context: ProcessContext) -> None:
        if self.definition.body is None:
            return
        returned = self.definition.body(context)
        for name, value in (returned or {}).items():
            self.set_output(name, value)

    def _complete(self, script_uid: str) -> None:
        with self._condition:
            if self._phase is _Phase.FINISHED:
                return
            self._close_element(script_uid, ProcessStatus.DONE)
            self._end(ProcessStatus.DONE)

    def _fail(self, script_uid: str | None, description: str) -> None:
        with self._condition:
            if self._phase is _Phase.FINISHED:
                return
            if script_uid is not None:
                self._close_element(script_uid, ProcessStatus.ERROR)
            self._error_description = description
            self._end(ProcessStatus.ERROR, description)

    # -- helpers (callers hold _condition unless named otherwise) -------------------------------------------------

    def _raise_if_cancelled(self) -> None:
        if self._status is ProcessStatus.CANCELED:
            raise _Cancelled

    def _set_phase(self, phase: _Phase) -> None:
        self._phase = phase
        self._condition.notify_all()
        for loop, event in list(self._watchers):
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                self._watchers.discard((loop, event))

    def _end(self, status: ProcessStatus, error_description: str = "") -> None:
        self._status = status
        changes: dict[str, Any] = {"StatusId": status.status_id, "CompleteDate": now_iso()}
        if error_description:
            changes["ErrorDescription"] = error_description
        self._write_log(PROCESS_LOG, self.id, changes)
        self._set_phase(_Phase.FINISHED)

    def _open_element(self, name: str, caption: str) -> str:
        """Log a Running element; raises _Cancelled instead once the instance has been cancelled."""
        self._raise_if_cancelled()
        row = self.engine.store.insert(
            ELEMENT_LOG,
            {
                "SysProcessId": self.id,
                "Name": name,
                "Caption": caption or name,
                "StatusId": ProcessStatus.RUNNING.status_id,
                "StartDate": now_iso(),
                "CompleteDate": None,
            },
        )
        uid: str = row["Id"]
        self._open_elements.add(uid)
        return uid

    def _close_element(self, uid: str, status: ProcessStatus) -> None:
        self._open_elements.discard(uid)
        self._write_log(ELEMENT_LOG, uid, {"StatusId": status.status_id, "CompleteDate": now_iso()})

    def _write_log(self, entity: str, row_id: str, changes: Mapping[str, Any]) -> None:
        # A reset of the emulator (or a DELETE over OData) may have removed the row: the run goes on without it.
        with contextlib.suppress(RecordNotFoundError, UnknownEntityError):
            self.engine.store.update(entity, row_id, changes)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ProcessFailure):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# -- the engine --------------------------------------------------------------------------------------------------


class ProcessEngine:
    """The registry of processes and their instances, on top of an :class:`EntityStore`.

    Thread-safe. ``install()`` defines the log entities (idempotent); ``reset()`` cancels every running instance,
    forgets instances and start counts and installs again (after the store has been cleared, say), but keeps
    registrations.
    """

    def __init__(self, store: EntityStore) -> None:
        self.store = store
        # The innermost lock: nothing else is locked, nor the store called, while it is held.
        self._lock = threading.Lock()
        self._definitions: dict[str, ProcessDefinition] = {}
        self._instances: dict[str, ProcessInstance] = {}
        self._element_owners: dict[str, ProcessInstance] = {}
        self._start_counts: dict[str, int] = {}
        self.install()

    # -- schema ---------------------------------------------------------------------------------------------------

    def install(self) -> None:
        """Define the process log entities and the status rows, if the store lacks them (idempotent)."""
        with self.store.lock:
            for name, columns in LOG_ENTITIES.items():
                if not self.store.has_entity(name):
                    self.store.define_entity(name, columns)
            for status in ProcessStatus:
                if self.store.get(STATUS_ENTITY, status.status_id) is None:
                    self.store.insert(STATUS_ENTITY, {"Id": status.status_id, "Name": status.log_name})
            for definition in self.definitions():
                self._ensure_schema_row(definition)

    # -- registry -------------------------------------------------------------------------------------------------

    def register(self, definition: ProcessDefinition) -> ProcessDefinition:
        """Add a process, or replace the one with the same name."""
        with self._lock:
            self._definitions[definition.name] = definition
        self._ensure_schema_row(definition)
        return definition

    def define(
        self,
        name: str,
        body: ProcessBody | None = None,
        *,
        inputs: Iterable[Parameter] = (),
        outputs: Iterable[Parameter] = (),
        duration: float = 0.0,
        error_description: str | None = None,
        waiting_elements: Iterable[WaitingElement] = (),
        caption: str = "",
    ) -> ProcessDefinition:
        """Build a :class:`ProcessDefinition` and register it."""
        return self.register(
            ProcessDefinition(
                name,
                body,
                tuple(inputs),
                tuple(outputs),
                duration,
                error_description,
                tuple(waiting_elements),
                caption,
            )
        )

    def unregister(self, name: str) -> None:
        with self._lock:
            self._definitions.pop(name, None)

    def definition(self, name: str) -> ProcessDefinition | None:
        with self._lock:
            return self._definitions.get(name)

    def definitions(self) -> list[ProcessDefinition]:
        with self._lock:
            return list(self._definitions.values())

    def definition_by_schema_id(self, schema_id: str) -> ProcessDefinition | None:
        """The process whose SysSchemaId is ``schema_id`` (RunProcess may name a process by ``schemaUId``)."""
        key = normalize_guid(schema_id)
        return next((d for d in self.definitions() if d.schema_id == key), None)

    # -- runs -----------------------------------------------------------------------------------------------------

    def start(self, name: str, values: Mapping[str, Any]) -> ProcessInstance:
        """Start an instance; its SysProcessLog row exists when this returns.

        Values for unknown parameters are ignored; missing inputs take their default. UnknownProcessError and
        ParameterValueError are raised before anything is started or counted.
        """
        definition = self.definition(name)
        if definition is None:
            raise UnknownProcessError(name)
        inputs = {
            parameter.name: convert_input(parameter, values[parameter.name])
            if parameter.name in values
            else parameter.default
            for parameter in definition.inputs
        }
        instance = ProcessInstance(self, definition, inputs)
        self.store.insert(
            PROCESS_LOG,
            {
                "Id": instance.id,
                "Name": definition.name,
                "Caption": definition.caption or definition.name,
                "StatusId": ProcessStatus.RUNNING.status_id,
                "StartDate": now_iso(),
                "CompleteDate": None,
                "ErrorDescription": "",
                "SysSchemaId": definition.schema_id,
            },
        )
        with self._lock:
            self._instances[instance.id] = instance
            self._start_counts[name] = self._start_counts.get(name, 0) + 1
        threading.Thread(target=instance.run, name=f"creatio-process-{name}", daemon=True).start()
        return instance

    def instance(self, process_id: str) -> ProcessInstance | None:
        key = normalize_guid(process_id)
        with self._lock:
            return None if key is None else self._instances.get(key)

    def instances(self, name: str | None = None) -> list[ProcessInstance]:
        """Instances since the last reset, oldest first; only those of process ``name`` if given."""
        with self._lock:
            return [i for i in self._instances.values() if name is None or i.name == name]

    def start_count(self, name: str) -> int:
        """How many times process ``name`` has been started since the last reset."""
        with self._lock:
            return self._start_counts.get(name, 0)

    def execute_element(self, uid: str) -> ProcessInstance | None:
        """ExecProcElByUId: run a waiting element; returns its instance, which goes on running.

        None (and nothing happens) for any other UID: unknown, already executed, or of an ended instance.
        """
        key = normalize_guid(uid)
        with self._lock:
            owner = None if key is None else self._element_owners.get(key)
        if owner is None or key is None or not owner.execute_element(key):
            return None
        return owner

    def cancel(self, process_id: str) -> bool:
        """CancelExecution: False (and nothing happens) for an unknown or already ended instance."""
        instance = self.instance(process_id)
        return instance is not None and instance.cancel()

    def reset(self) -> None:
        """Cancel every running instance, forget instances and start counts, and re-install the log entities."""
        self.shutdown()
        with self._lock:
            self._instances.clear()
            self._element_owners.clear()
            self._start_counts.clear()
        self.install()

    def shutdown(self) -> None:
        """Cancel every running instance, so that no instance thread outlives the server."""
        for instance in self.instances():
            instance.cancel()

    # -- bookkeeping called by instances --------------------------------------------------------------------------

    def own_element(self, uid: str, instance: ProcessInstance) -> None:
        """Index a waiting element, so that ExecProcElByUId finds its instance."""
        with self._lock:
            self._element_owners[uid] = instance

    def _ensure_schema_row(self, definition: ProcessDefinition) -> None:
        with self.store.lock:
            if (
                self.store.has_entity(SCHEMA_ENTITY)
                and self.store.get(SCHEMA_ENTITY, definition.schema_id) is None
            ):
                self.store.insert(
                    SCHEMA_ENTITY,
                    {
                        "Id": definition.schema_id,
                        "Name": definition.name,
                        "Caption": definition.caption or definition.name,
                    },
                )
