"""What a process is: its definition (parameters, simulated duration, configured failure, waiting elements and the
body that runs), and the errors that name a process or fail it.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_creatio.testing.emulator.process_parameters import Parameter
from airflow_provider_creatio.testing.emulator.store import EntityStore

# Stable SysSchema ids: the same process name always gets the same SysSchemaId.
_SCHEMA_NAMESPACE = uuid.UUID("4f1c7d52-2b0e-4b8e-9a55-6d3c0f3e8a17")


class UnknownProcessError(LookupError):
    """No process with that schema name is registered."""

    def __init__(self, name: str) -> None:
        super().__init__(f'Item with name "{name}" not found.')
        self.name = name


class ProcessFailure(Exception):
    """Raised by a process body to fail the instance; the message becomes SysProcessLog.ErrorDescription."""


@dataclass(frozen=True)
class WaitingElement:
    """An element (a user task, say) that pauses the instance until ExecProcElByUId runs it."""

    name: str
    caption: str = ""


class ProcessContext(Protocol):
    """What a process body sees: its inputs, its outputs, the store, and cancellable sleep and wait."""

    @property
    def process_id(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, Any]: ...

    @property
    def store(self) -> EntityStore: ...

    def set_output(self, name: str, value: Any) -> None: ...

    def sleep(self, seconds: float) -> None:
        """Simulated work; returns early (unwinding the body) if the instance is cancelled."""

    def wait_for(self, name: str, caption: str = "") -> str:
        """Log a Running element and pause until ExecProcElByUId runs it; returns its UID."""
        raise NotImplementedError


ProcessBody = Callable[[ProcessContext], Mapping[str, Any] | None]


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
