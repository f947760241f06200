"""The emulated process engine: a registry of processes written as Python callables, and their running instances.

A process is declared with typed input and output parameters, an optional simulated duration, an optional
configured failure and optional *waiting elements* (user tasks that pause the instance until
``ProcessEngineService.svc/ExecProcElByUId`` runs them). Every instance runs on its own thread, and its state lives
in the store, where OData serves it like Creatio does (SysProcessLog, SysProcessElementLog, SysProcessStatus,
SysSchema).

The engine is the top of the process modules, each of which imports only those below it at run time (the instance
names the engine, and a definition's body type names the context, only for type hints, under TYPE_CHECKING):

- ``process_parameters``: parameter types, input conversion and the wire form of outputs;
- ``process_log``: the log entities and ``ProcessStatus``;
- ``process_definitions``: ``ProcessDefinition`` and the errors that name or fail a process;
- ``process_instance``: ``ProcessInstance``, one run on its thread, and the context its body sees;
- ``process_engine`` (this module): ``ProcessEngine``, which registers processes and starts, finds and cancels
  their instances.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_creatio.testing.emulator.process_definitions import (
    ProcessBody,
    ProcessDefinition,
    UnknownProcessError,
    WaitingElement,
)
from airflow_provider_creatio.testing.emulator.process_instance import ProcessInstance
from airflow_provider_creatio.testing.emulator.process_log import (
    LOG_ENTITIES,
    PROCESS_LOG,
    SCHEMA_ENTITY,
    STATUS_ENTITY,
    ProcessStatus,
)
from airflow_provider_creatio.testing.emulator.process_parameters import Parameter, convert_input
from airflow_provider_creatio.testing.emulator.store import EntityStore
from airflow_provider_creatio.testing.emulator.values import normalize_guid, now_iso


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
        instance = ProcessInstance(self.store, self.own_element, definition, inputs)
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
